// Where a run's hand-off folder ($EXEC_DOC_ENV files) lives: in a private folder of the user's
// own inside the temporary folder, where a dead runner's leftovers are found and removed without
// reading the whole temporary folder; a folder there that is not private to the user is not used.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handoffParent } from '../../src/runner/run.js';
import { runDoc, tempDir } from '../helpers.js';

const DOC = '# T\n\n## Proc {#proc}\n\n```bash {id=one rollback=none}\necho "$EXEC_DOC_ENV" > "$OUT"\n```\n';

describe("a run's hand-off folder", () => {
  let tmp: string;
  const saved = process.env.TMPDIR;
  beforeEach(() => {
    tmp = tempDir('exec-doc-tmpdir-');
    process.env.TMPDIR = tmp;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });

  it("is made in the user's private folder, and removed when the run ends", async () => {
    const out = path.join(tempDir(), 'out');
    const run = await runDoc(DOC, 'proc', { env: { ...process.env, OUT: out } });
    expect(run.status).toBe('succeeded');
    const parent = path.join(tmp, `exec-doc-handoffs-${process.getuid!()}`);
    expect(handoffParent()).toBe(parent);
    expect(statSync(parent).mode & 0o777).toBe(0o700);
    const used = readFileSync(out, 'utf8').trim();
    expect(path.dirname(path.dirname(used))).toBe(parent);
    expect(readdirSync(parent)).toEqual([]);
    // Nothing of the run's is left in the temporary folder itself.
    expect(readdirSync(tmp).filter((name) => name.startsWith('exec-doc-handoff'))).toEqual([path.basename(parent)]);
  });

  it("removes what a dead runner left there, and leaves a live runner's alone", async () => {
    const parent = handoffParent();
    mkdirSync(path.join(parent, 'exec-doc-handoff-dead'));
    writeFileSync(
      path.join(parent, 'exec-doc-handoff-dead.owner.json'),
      JSON.stringify({ pid: 2 ** 22 + 7, startTime: '1' }),
    );
    mkdirSync(path.join(parent, 'exec-doc-handoff-live'));
    writeFileSync(
      path.join(parent, 'exec-doc-handoff-live.owner.json'),
      JSON.stringify({ pid: process.pid, startTime: null }),
    );
    await runDoc(DOC, 'proc', { env: { ...process.env, OUT: path.join(tempDir(), 'out') } });
    expect(readdirSync(parent).sort()).toEqual(['exec-doc-handoff-live', 'exec-doc-handoff-live.owner.json']);
  });

  it('a folder of that name that is not private, or a link, is not used: the temporary folder is', () => {
    const parent = path.join(tmp, `exec-doc-handoffs-${process.getuid!()}`);
    mkdirSync(parent, { mode: 0o755 });
    chmodSync(parent, 0o755);
    expect(handoffParent()).toBe(tmp);
    const other = tempDir('exec-doc-tmpdir-');
    process.env.TMPDIR = other;
    symlinkSync(tempDir(), path.join(other, `exec-doc-handoffs-${process.getuid!()}`));
    expect(handoffParent()).toBe(other);
    expect(existsSync(path.join(other, `exec-doc-handoffs-${process.getuid!()}`))).toBe(true);
  });
});
