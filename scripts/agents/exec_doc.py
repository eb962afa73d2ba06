"""Run the guide's procedures from Python: exec-doc's command line, its NDJSON events, typed results.

Standard library only. Every call starts `exec-doc ... --json` as a process of its own, so a
procedure runs exactly as it does from a terminal (the same access policy, confirmations,
approvals, audit trail and exit codes), and what comes back is data, not terminal text::

    from exec_doc import ExecDoc, ExecDocError

    ed = ExecDoc("/path/to/project")
    for section in ed.list():
        print(section["address"])
    result = ed.run("quick-start/demo-migration", on_event=lambda e: print(e.type, e.data.get("stepId")))
    if not result.ok:
        print(result.status, result.record["rollback"])

A run that fails is not an exception: its result says how it ended (exit 1 rolled back, 2 rollback
incomplete, 3 a requirement missing). Input exec-doc refuses (an unknown section, a bad parameter
value, a confirmation that was not given) raises ExecDocError with exec-doc's code and details.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

__all__ = ["ExecDoc", "ExecDocError", "Event", "RunResult"]

ParamValue = Union[str, int, float, bool]


class ExecDocError(Exception):
    """exec-doc refused the request before anything ran (or could not be started)."""

    def __init__(self, code: str, message: str, details: Sequence[str] = (), exit_code: int = 64):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.exit_code = exit_code

    def __str__(self) -> str:
        return "\n".join([f"{self.code}: {self.message}", *("  " + d for d in self.details)])


@dataclass(frozen=True)
class Event:
    """One line of the run's event stream (static/schemas/exec-doc-events.schema.json)."""

    type: str
    seq: int
    run_id: str
    time: str
    data: Dict[str, Any]


@dataclass
class RunResult:
    """How a run (or resume, or rollback) ended."""

    exit_code: int
    status: Optional[str]
    run_id: Optional[str]
    #: The result record (results/record.ts): steps, durations, what was undone and what was not.
    record: Optional[Dict[str, Any]]
    events: List[Event] = field(default_factory=list)
    #: What exec-doc said on standard error (notices, never secret values).
    notices: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def failed_step(self) -> Optional[str]:
        return (self.record or {}).get("failedStep")

    def steps(self, phase: Optional[str] = None) -> List[Dict[str, Any]]:
        """The record's step results, optionally of one phase (forward, rollback, verify, teardown)."""
        return [s for s in (self.record or {}).get("steps", []) if phase is None or s.get("phase") == phase]


class ExecDoc:
    """exec-doc for one project: its guide (``docs``) and its state folder."""

    def __init__(
        self,
        root: Union[str, Path] = ".",
        docs: Optional[str] = None,
        state_dir: Optional[str] = None,
        command: Optional[Sequence[str]] = None,
        env: Optional[Mapping[str, str]] = None,
    ):
        self.root = Path(root).resolve()
        self.docs = docs
        self.state_dir = state_dir
        self.env = dict(os.environ if env is None else env)
        if command is not None:
            self.command = list(command)
        else:
            local = self.root / "bin" / "exec-doc.js"
            node = shutil.which("node", path=self.env.get("PATH"))
            if local.exists() and node:
                self.command = [node, str(local)]
            elif shutil.which("exec-doc", path=self.env.get("PATH")):
                self.command = ["exec-doc"]
            else:
                raise ExecDocError(
                    "E_NOT_FOUND",
                    f"exec-doc is not in {self.root} (bin/exec-doc.js with node) nor on PATH",
                    ["Pass root= the project's folder, or command=[...] to start it."],
                    exit_code=3,
                )

    # Reading

    def list(self) -> List[Dict[str, Any]]:
        """Every executable section of the guide (address, title, steps, requirements, parameters)."""
        return self._json(["list"])["sections"]

    def plan(self, section: str, params: Optional[Mapping[str, ParamValue]] = None, disposable: bool = False) -> Dict[str, Any]:
        """What a run would do; executes nothing. Given parameter values are validated."""
        return self._json(["plan", *self._sets(params), *(["--disposable"] if disposable else []), "--", section])

    def result(self, run_id: str) -> Dict[str, Any]:
        """The result record of a finished (or stopped) run."""
        state = Path(self.state_dir or self.env.get("EXEC_DOC_STATE_DIR") or ".exec-doc")
        if not run_id or "/" in run_id or run_id.startswith("."):
            raise ExecDocError("E_RUN_NOT_FOUND", f"`{run_id}` is not a run id")
        record = (state if state.is_absolute() else self.root / state) / "runs" / run_id / "result.json"
        if not record.exists():
            raise ExecDocError("E_RUN_NOT_FOUND", f"No run `{run_id}` in {record.parent.parent}")
        return json.loads(record.read_text(encoding="utf-8"))

    # Running

    def run(
        self,
        section: str,
        params: Optional[Mapping[str, ParamValue]] = None,
        yes: bool = False,
        disposable: bool = False,
        fail_before: Iterable[str] = (),
        on_event: Optional[Callable[[Event], None]] = None,
        timeout: Optional[float] = None,
    ) -> RunResult:
        """Runs a section; a failure is rolled back and verified. ``on_event`` sees each event as it comes."""
        args = ["run", *self._sets(params)]
        if yes:
            args.append("--yes")
        if disposable:
            args.append("--disposable")
        for step in fail_before:
            args += ["--fail-before", step]
        return self._stream([*args, "--", section], on_event, timeout)

    def resume(self, run_id: str, rollback: bool = False, yes: bool = False, params: Optional[Mapping[str, ParamValue]] = None,
               on_event: Optional[Callable[[Event], None]] = None, timeout: Optional[float] = None) -> RunResult:
        """Continues a run whose runner died, or rolls it back."""
        args = ["resume", *self._sets(params), *(["--rollback"] if rollback else []), *(["--yes"] if yes else [])]
        return self._stream([*args, "--", run_id], on_event, timeout)

    def rollback(self, run_id: str, params: Optional[Mapping[str, ParamValue]] = None,
                 on_event: Optional[Callable[[Event], None]] = None, timeout: Optional[float] = None) -> RunResult:
        """Undoes a run that succeeded, and verifies it."""
        return self._stream(["rollback", *self._sets(params), "--", run_id], on_event, timeout)

    # The process

    def _argv(self, args: Sequence[str]) -> List[str]:
        command, rest = args[0], list(args[1:])
        common = ["--json"]
        if self.docs:
            common += ["--docs", self.docs]
        if self.state_dir:
            common += ["--state-dir", self.state_dir]
        return [*self.command, command, *common, *rest]

    @staticmethod
    def _sets(params: Optional[Mapping[str, ParamValue]]) -> List[str]:
        out: List[str] = []
        for name, value in (params or {}).items():
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            out += ["--set", f"{name}={text}"]
        return out

    def _json(self, args: Sequence[str]) -> Dict[str, Any]:
        done = subprocess.run(self._argv(args), cwd=self.root, env=self.env, capture_output=True, text=True)
        data = _last_json(done.stdout)
        if isinstance(data, dict) and "error" in data:
            raise _error(data["error"], done.returncode)
        if not isinstance(data, dict):
            raise ExecDocError("E_NO_RESULT", "exec-doc gave no JSON result", done.stderr.strip().splitlines(), done.returncode)
        return data

    def _stream(self, args: Sequence[str], on_event: Optional[Callable[[Event], None]], timeout: Optional[float]) -> RunResult:
        events: List[Event] = []
        error: Optional[Dict[str, Any]] = None
        with subprocess.Popen(
            self._argv(args), cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, text=True, bufsize=1,
        ) as process:
            assert process.stdout is not None and process.stderr is not None
            try:
                for line in process.stdout:
                    line = line.strip()
                    if not line.startswith("{"):
                        continue
                    data = json.loads(line)
                    if "error" in data and "type" not in data:
                        error = data["error"]
                        continue
                    event = Event(
                        type=data.pop("type"), seq=data.pop("seq"), run_id=data.pop("runId"), time=data.pop("time"), data=data,
                    )
                    events.append(event)
                    if on_event is not None:
                        on_event(event)
                exit_code = process.wait(timeout=timeout)
            except BaseException:
                # Interrupted (Ctrl-C, a timeout): exec-doc rolls back on SIGTERM; wait for it to finish.
                process.terminate()
                process.wait()
                raise
            stderr = process.stderr.read()
        notices = [l[len("exec-doc: "):] if l.startswith("exec-doc: ") else l for l in stderr.splitlines() if l.strip()]
        if error is not None:
            raise _error(error, exit_code)
        run_id = events[0].run_id if events else None
        if run_id is None:
            raise ExecDocError("E_NOT_STARTED", "nothing ran", notices, exit_code)
        end = next((e for e in reversed(events) if e.type == "run.end"), None)
        record: Optional[Dict[str, Any]]
        try:
            record = self.result(run_id)
        except ExecDocError:
            record = None
        return RunResult(
            exit_code=exit_code, status=end.data.get("status") if end else None, run_id=run_id, record=record,
            events=events, notices=notices,
        )


def _error(data: Mapping[str, Any], exit_code: int) -> ExecDocError:
    return ExecDocError(str(data.get("code")), str(data.get("message")), list(data.get("details") or []), exit_code)


def _last_json(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        lines = [l for l in text.splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
