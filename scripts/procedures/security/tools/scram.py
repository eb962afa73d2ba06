#!/usr/bin/env python3
"""Prints the SCRAM-SHA-256 verifier of the password in a file (RFC 5802/7677, as PostgreSQL
stores it), so that ALTER ROLE ... PASSWORD sends the verifier and the password itself never
reaches the server, its logs or pg_stat_statements. Standard library only.

usage: scram.py <password-file>
"""
import base64
import hashlib
import hmac
import os
import sys

ITERATIONS = 4096


def verifier(password: bytes, salt: bytes, iterations: int = ITERATIONS) -> str:
    salted = hashlib.pbkdf2_hmac("sha256", password, salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 64
    path = sys.argv[1]
    mode = os.stat(path).st_mode & 0o777
    if mode & 0o077:
        print(f"scram.py: {path} is readable by group or others ({oct(mode)}); chmod 600 it", file=sys.stderr)
        return 64
    with open(path, "rb") as f:
        password = f.read().rstrip(b"\n")
    if len(password) < 16:
        print("scram.py: the password is shorter than 16 characters", file=sys.stderr)
        return 64
    print(verifier(password, os.urandom(16)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
