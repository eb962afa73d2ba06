#!/usr/bin/env python3
"""Builds the wheels of the local packages (packages/<name>-<version>/) into a wheelhouse.

These machines reach no package index and have no `wheel` module, so the wheels are assembled
as the wheel format (PEP 427) describes them: a zip of the package and a NAME-VERSION.dist-info
folder with METADATA, WHEEL and RECORD. The zips are reproducible (fixed timestamps, sorted
entries), so the sha256 hashes pinned in locks/*.lock stay valid from one build to the next.

    build_wheels.py --out DIR            build every package into DIR
    build_wheels.py --out DIR --hashes   also print `name==version --hash=sha256:…` lines
"""

import argparse
import base64
import hashlib
import pathlib
import sys
import tomllib
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
PACKAGES = HERE.parent / "packages"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project.get('description', '')}",
    ]
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {dep}" for dep in project.get("dependencies", [])]
    return "\n".join(lines) + "\n"


def build(source: pathlib.Path, out: pathlib.Path) -> pathlib.Path:
    project = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    name, version = project["name"], project["version"]
    if source.name != f"{name}-{version}":
        sys.exit(f"{source}: the folder must be named {name}-{version} (its pyproject.toml says so)")
    dist_info = f"{name}-{version}.dist-info"
    files: list[tuple[str, bytes]] = []
    for path in sorted((source / name).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files.append((path.relative_to(source).as_posix(), path.read_bytes()))
    files.append((f"{dist_info}/METADATA", metadata(project).encode()))
    files.append(
        (f"{dist_info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: build_wheels.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    )
    record = "".join(f"{p},{record_hash(d)},{len(d)}\n" for p, d in files) + f"{dist_info}/RECORD,,\n"
    files.append((f"{dist_info}/RECORD", record.encode()))
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files:
            info = zipfile.ZipInfo(path, FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return wheel


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="the wheelhouse folder (created if missing)")
    parser.add_argument("--hashes", action="store_true", help="print lock lines with each wheel's sha256")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for source in sorted(p for p in PACKAGES.iterdir() if p.is_dir()):
        wheel = build(source, out)
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        name, version = source.name.rsplit("-", 1)
        print(f"{name}=={version} --hash=sha256:{digest}" if args.hashes else f"built {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
