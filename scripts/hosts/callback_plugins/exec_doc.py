# exec-doc's Ansible stdout callback: one line per host and task as each finishes (what a person
# watching the run reads), and one JSON line per result into $EXEC_DOC_HOSTS_RESULTS (what
# exec-doc reads to decide a batch and to know which steps each host completed).
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
    name: exec_doc
    type: stdout
    short_description: per-host step results for exec-doc
    description: One line per host and task on stdout, and JSON lines into $EXEC_DOC_HOSTS_RESULTS.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "exec_doc"

    def __init__(self):
        super().__init__()
        self._started = {}
        path = os.environ.get("EXEC_DOC_HOSTS_RESULTS")
        self._out = open(path, "a", encoding="utf-8") if path else None

    def _emit(self, result, status):
        host = result._host.get_name()
        task = result._task.get_name()
        res = result._result
        started = self._started.pop((host, task), None)
        duration_ms = int((time.monotonic() - started) * 1000) if started is not None else None
        record = {
            "host": host,
            "task": task,
            "status": status,
            "rc": res.get("rc"),
            "stdout": str(res.get("stdout", ""))[-4000:],
            "stderr": str(res.get("stderr", res.get("msg", "")))[-4000:],
            "durationMs": duration_ms,
        }
        if self._out:
            self._out.write(json.dumps(record) + "\n")
            self._out.flush()
        timing = f" {duration_ms} ms" if duration_ms is not None else ""
        self._display.display(f"{host}  {task}  {status}{timing}")
        if status in ("failed", "unreachable"):
            detail = record["stderr"].strip() or record["stdout"].strip()
            for line in detail.splitlines()[-5:]:
                self._display.display(f"{host}  | {line}")

    def v2_runner_on_start(self, host, task):
        self._started[(host.get_name(), task.get_name())] = time.monotonic()

    def v2_runner_on_ok(self, result):
        self._emit(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._emit(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._emit(result, "unreachable")

    def v2_runner_on_skipped(self, result):
        self._emit(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        if self._out:
            self._out.close()
            self._out = None
