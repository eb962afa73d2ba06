// The Python module (scripts/agents/exec_doc.py, standard library only) used as Python tooling
// uses it: a real python3 runs a procedure that fails, follows its events as they come, and gets
// typed results; refused input raises ExecDocError with exec-doc's code.
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';

const PROGRAM = `
import json, sys
sys.path.insert(0, sys.argv[1])
from exec_doc import ExecDoc, ExecDocError, RunResult
ed = ExecDoc(sys.argv[2], state_dir=sys.argv[3])
seen = []
r = ed.run("quick-start/demo-migration-failing", on_event=lambda e: seen.append((e.type, e.data.get("stepId"))))
assert isinstance(r, RunResult)
out = {
    "exit": r.exit_code, "ok": r.ok, "status": r.status, "failed": r.failed_step, "runId": r.run_id,
    "rollback": r.record["rollback"], "verify": [s["status"] for s in r.steps("verify")],
    "firstEvent": seen[0][0], "progress": sum(1 for t, _ in seen if t == "progress"),
    "sameRecord": ed.result(r.run_id)["runId"] == r.run_id,
}
for section, params in (("quick-start/nope", None), ("database-migrations/zero-downtime", {"batch": "many"})):
    try:
        ed.plan(section, params)
    except ExecDocError as e:
        out.setdefault("errors", []).append([e.code, e.exit_code])
out["plan"] = ed.plan("database-migrations/zero-downtime", {"batch": 500})["section"]
out["sections"] = len(ed.list())
print(json.dumps(out))
`;

describe('the Python module', () => {
  it('runs a failing procedure, follows its events, returns typed results, and raises on refused input', async () => {
    const stateDir = tempDir('exec-doc-py-');
    const r = await execa('python3', ['-c', PROGRAM, path.join(ROOT, 'scripts', 'agents'), ROOT, stateDir], {
      reject: false,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root' },
      extendEnv: false,
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(String(r.stdout).trim()) as Record<string, unknown>;
    expect(out).toMatchObject({
      exit: 1,
      ok: false,
      status: 'rolled-back',
      rollback: { ran: true, complete: true },
      firstEvent: 'run.start',
      sameRecord: true,
      errors: [
        ['E_UNKNOWN_SECTION', 64],
        ['E_PARAM', 64],
      ],
      plan: 'database-migrations/zero-downtime',
    });
    expect(out.verify).toEqual(expect.arrayContaining(['passed']));
    expect(out.progress as number).toBeGreaterThan(2);
    expect(out.sections as number).toBeGreaterThan(30);
  }, 120_000);
});
