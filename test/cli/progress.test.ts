// Progress a machine can follow: before every block a `progress` event with its place in its
// phase, and what the rest took the last time the section ran; a person sees `[2/3, ~1s left]`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { ROOT, cli, parseEvents, writeDoc } from '../helpers.js';
import type { RunEvent } from '../../src/events/types.js';

const SCHEMA = JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'exec-doc-events.schema.json'), 'utf8'));

type Progress = Extract<RunEvent, { type: 'progress' }>;

describe('progress events', () => {
  it('count the blocks of each phase, estimate from the last run, and validate against the schema', async () => {
    const { file, dir } = writeDoc(
      '# P\n\n## S {#s}\n\n```bash {id=a rollback=undo-a}\nsleep 0.2\n```\n\n```bash {id=undo-a kind=rollback}\ntrue\n```\n\n```bash {id=b rollback=none}\nsleep 0.1\n```\n\n```bash {id=c rollback=none}\ntest "${FAIL:-}" != yes\n```\n',
    );
    const env = { EXEC_DOC_STATE_DIR: path.join(dir, '.state'), PATH: process.env.PATH ?? '' };
    const first = parseEvents((await cli(['run', `${file}#s`, '--json'], { env })).stdout);
    const progress = (events: RunEvent[]) => events.filter((e): e is RunEvent & Progress => e.type === 'progress');
    expect(progress(first).map((e) => [e.phase, e.stepId, e.done, e.total, e.estimatedRemainingMs])).toEqual([
      ['forward', 'a', 0, 3, null],
      ['forward', 'b', 1, 3, null],
      ['forward', 'c', 2, 3, null],
    ]);
    const second = parseEvents((await cli(['run', `${file}#s`, '--json'], { env: { ...env, FAIL: 'yes' } })).stdout);
    const [a, b, c, undo] = progress(second);
    expect(a!.estimatedRemainingMs).toBeGreaterThanOrEqual(300);
    expect(b!.estimatedRemainingMs).toBeGreaterThanOrEqual(100);
    expect(b!.estimatedRemainingMs).toBeLessThan(a!.estimatedRemainingMs!);
    expect(c!.estimatedRemainingMs).toBeLessThan(b!.estimatedRemainingMs!);
    expect(b!.elapsedMs).toBeGreaterThanOrEqual(200);
    // `b` needed no undoing (rollback=none); the rollback has never run before: no estimate.
    expect([undo!.phase, undo!.stepId, undo!.done, undo!.total, undo!.estimatedRemainingMs]).toEqual([
      'rollback',
      'undo-a',
      1,
      2,
      null,
    ]);
    const ajv = new Ajv2020.default({ allErrors: true, strict: true, validateFormats: false });
    const validate = ajv.compile(SCHEMA);
    for (const event of [...first, ...second]) expect(validate(event), JSON.stringify(validate.errors)).toBe(true);

    const plain = await cli(['run', `${file}#s`], { env });
    expect(plain.stdout).toMatch(/→ \[1\/3, ~\d+ ms left\] a \(step, bash\)/);
    expect(plain.stdout).toMatch(/→ \[3\/3, ~\d+ ms left\] c \(step, bash\)/);
  });
});
