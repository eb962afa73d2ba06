"""shopapp's HTTP worker: serves on a listening socket it inherits from the supervisor.

    python worker.py --fd N --config FILE

It reads the configuration file, connects to PostgreSQL ($DATABASE_URL, or the variable the
configuration names), prints `ready` on standard output once it serves, and on SIGTERM stops
accepting, finishes the requests in flight and exits 0. The release it runs from is the folder
above this file; its VERSION file is the version /health reports.
"""

import argparse
import hashlib
import json
import os
import pathlib
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata

import psycopg2

RELEASE = pathlib.Path(__file__).resolve().parent.parent
VERSION = (RELEASE / "VERSION").read_text().strip()
PACKAGES = ("shoplib", "shopreports")


def load_config(path: str) -> tuple[dict, str]:
    raw = pathlib.Path(path).read_bytes()
    config = json.loads(raw)
    for key in ("name", "database", "orders"):
        if key not in config:
            raise SystemExit(f"{path}: missing `{key}`")
    return config, hashlib.sha256(raw).hexdigest()


class Worker:
    def __init__(self, config: dict, config_sha256: str):
        self.config = config
        self.config_sha256 = config_sha256
        self.dsn = os.environ[config["database"].get("urlEnv", "DATABASE_URL")]
        self.local = threading.local()
        import shoplib  # the package under upgrade; imported here so a broken one stops the start

        self.shoplib = shoplib
        with self.connection().cursor() as cursor:
            cursor.execute("select 1")

    def connection(self):
        conn = getattr(self.local, "conn", None)
        if conn is None or conn.closed:
            conn = psycopg2.connect(self.dsn, connect_timeout=5, application_name=f"shopapp {VERSION}")
            conn.autocommit = True
            self.local.conn = conn
        return conn

    def health(self) -> dict:
        with self.connection().cursor() as cursor:
            cursor.execute("select current_setting('server_version')")
            server = cursor.fetchone()[0]
        packages = {}
        for name in PACKAGES:
            try:
                packages[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                packages[name] = None
        return {
            "status": "ok",
            "version": VERSION,
            "pid": os.getpid(),
            "python": ".".join(map(str, sys.version_info[:3])),
            "packages": packages,
            "config": {"name": self.config["name"], "sha256": self.config_sha256},
            "postgres": server,
        }

    def orders(self) -> dict:
        table = self.config["orders"]["table"]
        with self.connection().cursor() as cursor:
            # The table name comes from the operator's configuration, quoted as an identifier.
            cursor.execute(f'select count(*), coalesce(sum(amount_cents), 0) from "{table}"')
            count, total = cursor.fetchone()
        currency = self.config["orders"].get("currency", "EUR")
        if hasattr(self.shoplib, "format_cents"):
            text = self.shoplib.format_cents(int(total), currency)
        else:
            text = str(self.shoplib.Money(int(total), currency))
        return {"orders": count, "total": text}


def handler_for(worker: Worker):
    class Handler(BaseHTTPRequestHandler):
        server_version = f"shopapp/{VERSION}"

        def do_GET(self):
            routes = {"/health": worker.health, "/orders": worker.orders}
            route = routes.get(self.path)
            if route is None:
                return self.reply(404, {"error": f"no route {self.path}"})
            try:
                self.reply(200, route())
            except Exception as error:  # the database went away, a broken query: a 503, not a crash
                self.reply(503, {"status": "error", "version": VERSION, "error": str(error)})

        def reply(self, code: int, body: dict):
            data = json.dumps(body, sort_keys=True).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass

    return Handler


class InheritedSocketServer(ThreadingHTTPServer):
    # Requests in flight finish before the worker exits.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fd: int, handler):
        super().__init__(("127.0.0.1", 0), handler, bind_and_activate=False)
        self.socket.close()
        self.socket = socket.socket(fileno=fd)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    config, digest = load_config(args.config)
    worker = Worker(config, digest)
    server = InheritedSocketServer(args.fd, handler_for(worker))
    stopping = threading.Event()

    def stop(signum, frame):
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
