#!/usr/bin/env python3
"""shopapp's configuration files: render, compare and fingerprint them without showing a secret.

    config_tool.py render TEMPLATE OUT      every string value "${NAME}" replaced by the variable
                                            NAME (refused when unset); written atomically, mode 0600
    config_tool.py diff OLD NEW --schema S  a unified diff in which the values the schema marks
                                            `writeOnly` (secrets) read "***"
    config_tool.py sha256 FILE              the file's sha256, as /health reports it
"""

import difflib
import hashlib
import json
import os
import pathlib
import re
import sys
import tempfile

PLACEHOLDER = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def render(template: str, out: str) -> int:
    def substitute(value):
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        if isinstance(value, str):
            match = PLACEHOLDER.match(value)
            if match:
                if match.group(1) not in os.environ:
                    sys.exit(f"config_tool: {template} needs ${match.group(1)}, which is not set")
                return os.environ[match.group(1)]
        return value

    data = substitute(json.loads(pathlib.Path(template).read_text()))
    target = pathlib.Path(out)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(data, indent=2) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
    print(f"rendered {out} from {template}")
    return 0


def secret_paths(schema: dict, prefix=()) -> set:
    paths = set()
    for key, sub in schema.get("properties", {}).items():
        if sub.get("writeOnly"):
            paths.add(prefix + (key,))
        paths |= secret_paths(sub, prefix + (key,))
    return paths


def masked(data, secrets: set, prefix=()):
    if isinstance(data, dict):
        return {k: "***" if prefix + (k,) in secrets else masked(v, secrets, prefix + (k,)) for k, v in data.items()}
    return data


def diff(old: str, new: str, schema: str) -> int:
    secrets = secret_paths(json.loads(pathlib.Path(schema).read_text()))

    def lines(path: str) -> list[str]:
        if not pathlib.Path(path).exists():
            return []
        return json.dumps(masked(json.loads(pathlib.Path(path).read_text()), secrets), indent=2, sort_keys=True).splitlines()

    changes = list(difflib.unified_diff(lines(old), lines(new), old, new, lineterm=""))
    print("\n".join(changes) if changes else f"no change: {new} says what {old} says")
    return 0


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "render":
        return render(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 6 and sys.argv[1] == "diff" and sys.argv[4] == "--schema":
        return diff(sys.argv[2], sys.argv[3], sys.argv[5])
    if len(sys.argv) == 3 and sys.argv[1] == "sha256":
        print(hashlib.sha256(pathlib.Path(sys.argv[2]).read_bytes()).hexdigest())
        return 0
    print(__doc__.strip(), file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
