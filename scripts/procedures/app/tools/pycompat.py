#!/usr/bin/env python3
"""Python package sets, judged before anything is installed.

    pycompat.py check LOCK --wheelhouse DIR --python PY
        Every pin of LOCK has its wheel in DIR; every requirement a pinned package declares
        (Requires-Dist) is met by another pin; every package supports PY's version
        (Requires-Python). Exit 1 naming both packages and their ranges when not.
    pycompat.py pin LOCK NAME==VERSION --wheelhouse DIR --out NEW
        LOCK with NAME pinned to VERSION (and that wheel's hash): the set an upgrade of one
        package would give. Written only when `check` would accept it; exit 1 otherwise.
    pycompat.py diff OLD NEW
        What changes between two locks: upgraded, downgraded, added, removed.

Uses the `packaging` library that pip carries (run it with a Python that has pip).
"""

import argparse
import email.parser
import hashlib
import pathlib
import re
import subprocess
import sys
import zipfile

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.utils import canonicalize_name
from pip._vendor.packaging.version import Version

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def read_lock(path: str) -> dict[str, tuple[str, str]]:
    """name → (version, the line as written)."""
    pins = {}
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body or body.startswith("-"):
            continue
        match = PIN.match(body)
        if not match:
            sys.exit(f"{path}:{number}:1: expected name==version, as pip freeze writes it")
        pins[canonicalize_name(match.group(1))] = (match.group(2), body)
    return pins


def wheel_for(wheelhouse: pathlib.Path, name: str, version: str) -> pathlib.Path:
    for wheel in wheelhouse.glob("*.whl"):
        dist, ver = wheel.name.split("-")[:2]
        if canonicalize_name(dist) == name and Version(ver) == Version(version):
            return wheel
    sys.exit(f"pycompat: no wheel of {name} {version} in {wheelhouse}; build it or fix the pin")


def wheel_metadata(wheel: pathlib.Path):
    with zipfile.ZipFile(wheel) as archive:
        path = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(archive.read(path).decode())


def python_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def problems_of(pins: dict[str, tuple[str, str]], wheelhouse: pathlib.Path, python: str) -> list[str]:
    target = python_version(python)
    environment = {"python_version": ".".join(target.split(".")[:2]), "python_full_version": target}
    problems = []
    for name, (version, _) in sorted(pins.items()):
        meta = wheel_metadata(wheel_for(wheelhouse, name, version))
        requires_python = meta.get("Requires-Python")
        if requires_python and target not in SpecifierSet(requires_python):
            problems.append(f"{name} {version} requires Python {requires_python}; {python} is {target}")
        for text in meta.get_all("Requires-Dist") or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            needed = canonicalize_name(requirement.name)
            if needed not in pins:
                problems.append(f"{name} {version} requires {requirement.name}{requirement.specifier}, which the lock does not pin")
            elif not requirement.specifier.contains(pins[needed][0], prereleases=True):
                problems.append(
                    f"{needed} {pins[needed][0]} conflicts with {name} {version}, which requires "
                    f"{requirement.name}{requirement.specifier}"
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check")
    check.add_argument("lock")
    check.add_argument("--wheelhouse", required=True)
    check.add_argument("--python", required=True)
    pin = sub.add_parser("pin")
    pin.add_argument("lock")
    pin.add_argument("requirement")
    pin.add_argument("--wheelhouse", required=True)
    pin.add_argument("--python", required=True)
    pin.add_argument("--out", required=True)
    diff = sub.add_parser("diff")
    diff.add_argument("old")
    diff.add_argument("new")
    args = parser.parse_args()

    if args.command == "diff":
        old, new = read_lock(args.old), read_lock(args.new)
        changes = 0
        for name in sorted(set(old) | set(new)):
            before, after = old.get(name, (None,))[0], new.get(name, (None,))[0]
            if before == after:
                continue
            changes += 1
            if before is None:
                print(f"  add        {name} {after}")
            elif after is None:
                print(f"  remove     {name} {before}")
            else:
                verb = "upgrade" if Version(after) > Version(before) else "downgrade"
                print(f"  {verb:<10} {name} {before} → {after}")
        print(f"{changes} change(s) from {pathlib.Path(args.old).name} to {pathlib.Path(args.new).name}")
        return 0

    wheelhouse = pathlib.Path(args.wheelhouse)
    pins = read_lock(args.lock)
    if args.command == "pin":
        match = PIN.match(args.requirement)
        if not match:
            sys.exit(f"pycompat: `{args.requirement}` is not name==version")
        name, version = canonicalize_name(match.group(1)), match.group(2)
        digest = hashlib.sha256(wheel_for(wheelhouse, name, version).read_bytes()).hexdigest()
        pins[name] = (version, f"{name}=={version} --hash=sha256:{digest}")
    problems = problems_of(pins, wheelhouse, args.python)
    if problems:
        print(f"refused: the package set of {pathlib.Path(args.lock).name}" + (f" with {args.requirement}" if args.command == "pin" else "") + " is not consistent:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.command == "pin":
        lines = [line for _, (_, line) in sorted(pins.items())]
        pathlib.Path(args.out).write_text("\n".join(lines) + "\n")
        print(f"wrote {args.out}: {len(pins)} pins, consistent")
    else:
        print(f"consistent: {len(pins)} pins of {pathlib.Path(args.lock).name}, all wheels present, Python {python_version(args.python)} supported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
