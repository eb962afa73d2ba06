"""shopapp's supervisor: owns the listening socket and runs the workers, as gunicorn's arbiter does.

    python supervisor.py --root APP_ROOT --port PORT [--workers 2]

The socket stays open for the supervisor's whole life, so replacing the workers drops no
connection: on SIGHUP it starts a new set of workers from what APP_ROOT's links point at now
(`current` → the release, `venv` → the Python environment, config/shopapp.json), waits until each
says it is ready, then stops the old set gracefully (they finish the requests in flight). A new set
that fails to start is stopped and the old one keeps serving. Each reload's outcome is written to
APP_ROOT/run/reload.json. SIGTERM stops the workers and the supervisor.
"""

import argparse
import json
import os
import pathlib
import select
import signal
import socket
import subprocess
import sys
import time

READY_TIMEOUT_S = 15
STOP_TIMEOUT_S = 15


class Supervisor:
    def __init__(self, root: pathlib.Path, port: int, count: int):
        self.root = root
        self.count = count
        self.generation = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(256)
        # Workers race for each connection: whoever loses must not block in accept().
        self.sock.setblocking(False)
        self.workers: list[subprocess.Popen] = []
        self.reload_requested = False
        self.stop_requested = False

    def log(self, message: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        print(f"{stamp} supervisor[{os.getpid()}] {message}", file=sys.stderr, flush=True)

    def spawn_set(self, count: int | None = None) -> list[subprocess.Popen]:
        """Starts a set of workers and waits until every one is ready; stops them all if one is not."""
        python = self.root / "venv" / "bin" / "python"
        worker = self.root / "current" / "shopapp" / "worker.py"
        config = self.root / "config" / "shopapp.json"
        fd = self.sock.fileno()
        # The workers' own messages (a traceback that stops one) go to a file per set, so a failed
        # reload can say why.
        errors = self.root / "run" / f"workers-{self.generation}.err"
        started = []
        try:
            with open(errors, "a") as stderr:
                for _ in range(count or self.count):
                    started.append(
                        subprocess.Popen(
                            [str(python), str(worker), "--fd", str(fd), "--config", str(config)],
                            pass_fds=(fd,),
                            stdout=subprocess.PIPE,
                            stderr=stderr,
                            text=True,
                        )
                    )
            deadline = time.monotonic() + READY_TIMEOUT_S
            for process in started:
                ready, _, _ = select.select([process.stdout], [], [], max(0, deadline - time.monotonic()))
                line = process.stdout.readline() if ready else ""
                if line.strip() != "ready":
                    time.sleep(0.1)
                    said = errors.read_text().strip().splitlines()
                    reason = said[-1] if said else "exited without a word"
                    raise RuntimeError(reason if process.poll() is not None else f"not ready in {READY_TIMEOUT_S} s")
            return started
        except Exception:
            self.stop_set(started)
            raise

    def stop_set(self, workers: list[subprocess.Popen]) -> None:
        for process in workers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in workers:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def write_status(self, ok: bool, error: str | None) -> None:
        status = {
            "generation": self.generation,
            "ok": ok,
            "error": error,
            "release": os.path.realpath(self.root / "current"),
            "venv": os.path.realpath(self.root / "venv"),
            "workers": [p.pid for p in self.workers],
        }
        target = self.root / "run" / "reload.json"
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(status, sort_keys=True) + "\n")
        os.replace(temporary, target)

    def reload(self) -> None:
        self.generation += 1
        try:
            new = self.spawn_set()
        except Exception as error:
            self.log(f"reload {self.generation} failed, the old workers keep serving: {error}")
            self.write_status(False, str(error))
            return
        old, self.workers = self.workers, new
        self.stop_set(old)
        self.log(f"reload {self.generation}: workers {[p.pid for p in new]} serving {os.path.realpath(self.root / 'current')}")
        self.write_status(True, None)

    def run(self) -> int:
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "reload_requested", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stop_requested", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stop_requested", True))
        try:
            self.workers = self.spawn_set()
        except Exception as error:
            self.log(f"cannot start: {error}")
            self.write_status(False, str(error))
            return 1
        self.write_status(True, None)
        self.log(f"serving on 127.0.0.1:{self.sock.getsockname()[1]} with workers {[p.pid for p in self.workers]}")
        while not self.stop_requested:
            if self.reload_requested:
                self.reload_requested = False
                self.reload()
            for process in list(self.workers):
                if process.poll() is not None:
                    self.log(f"worker {process.pid} exited with {process.returncode}; starting another")
                    self.workers.remove(process)
                    try:
                        self.workers += self.spawn_set(1)
                    except Exception as error:
                        self.log(f"cannot replace worker: {error}")
            time.sleep(0.05)
        self.stop_set(self.workers)
        self.log("stopped")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    root = pathlib.Path(args.root)
    (root / "run").mkdir(exist_ok=True)
    (root / "run" / "supervisor.pid").write_text(f"{os.getpid()}\n")
    return Supervisor(root, args.port, args.workers).run()


if __name__ == "__main__":
    sys.exit(main())
