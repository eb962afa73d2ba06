// One step, exactly: what a step that never ran records, how retries add up, what stops a
// retry's wait, what the excerpt of its output keeps, and what is checked against the
// expected output. In this process, on real bash processes.
import { getEventListeners } from 'node:events';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { reasons } from '../../src/runner/reasons.js';
import type { RunEvent } from '../../src/events/types.js';
import { runDoc, tempDir } from '../helpers.js';

const doc = (blocks: string) => `# T\n\n## Proc\n\n${blocks}\n`;

describe('a step that does not run', () => {
  it('failed on purpose (--fail-before) records no attempt, no time, no exit code and no output', async () => {
    const run = await runDoc(
      doc(
        '```bash {id=a rollback=undo-a}\necho a\n```\n\n```bash {id=b rollback=none}\necho b\n```\n\n```bash {id=undo-a kind=rollback}\necho undone\n```',
      ),
      'proc',
      { failBefore: ['b'] },
    );
    expect(run.exitCode).toBe(1);
    const b = run.record.steps.find((s) => s.stepId === 'b')!;
    expect(b).toMatchObject({
      phase: 'forward',
      status: 'failed',
      attempts: 0,
      durationMs: 0,
      exitCode: null,
      signal: null,
      timedOut: false,
      reason: reasons.injected(),
      outputExcerpt: '',
    });
    const end = run.events.find((e) => e.type === 'step.end' && e.stepId === 'b');
    expect(end).toMatchObject({ phase: 'forward', status: 'failed', durationMs: 0, attempts: 0, exitCode: null });
    expect(run.events.some((e) => e.type === 'step.start' && e.stepId === 'b')).toBe(false);
    // The drill is a real failure: the step before it is undone.
    expect(run.record.steps.map((s) => `${s.phase}:${s.stepId}:${s.status}`)).toEqual([
      'forward:a:passed',
      'forward:b:failed',
      'rollback:undo-a:passed',
    ]);
  });

  it('declined at its confirmation: the same, with the reason', async () => {
    const asked: string[] = [];
    const run = await runDoc(doc('```bash {id=drop confirm="Drop it?" rollback=none}\necho dropped\n```'), 'proc', {
      confirm: async (question) => {
        asked.push(question);
        return false;
      },
    });
    expect(asked).toEqual(['Drop it?']);
    expect(run.record.steps[0]).toMatchObject({ attempts: 0, durationMs: 0, reason: reasons.declined() });
    // Accepted, it runs; with --yes, nobody is asked.
    const accepted = await runDoc(
      doc('```bash {id=drop confirm="Drop it?" rollback=none}\necho dropped\n```'),
      'proc',
      {
        confirm: async () => true,
      },
    );
    expect(accepted.record.steps[0]).toMatchObject({ status: 'passed', attempts: 1 });
    const yes = await runDoc(doc('```bash {id=drop confirm="Drop it?" rollback=none}\necho dropped\n```'), 'proc', {
      yes: true,
      confirm: async () => {
        throw new Error('asked although --yes was given');
      },
    });
    expect(yes.record.steps[0]).toMatchObject({ status: 'passed', attempts: 1 });
  });
});

describe('a rollback block', () => {
  it('is never held up by a confirmation: it runs when its step is undone, with nobody to ask', async () => {
    const asked: string[] = [];
    const run = await runDoc(
      doc(
        '```bash {id=a rollback=undo-a}\necho a\n```\n\n```bash {id=b rollback=none}\nexit 5\n```\n\n```bash {id=undo-a kind=rollback confirm="Undo a?"}\necho undone\n```',
      ),
      'proc',
      {
        confirm: async (question) => {
          asked.push(question);
          return false;
        },
      },
    );
    expect(asked).toEqual([]);
    expect(run.record.steps.map((s) => `${s.phase}:${s.stepId}:${s.status}`)).toEqual([
      'forward:a:passed',
      'forward:b:failed',
      'rollback:undo-a:passed',
    ]);
  });
});

describe('retries', () => {
  it("leave no listener on the run's interrupt signal once the step is over", async () => {
    const controller = new AbortController();
    const run = await runDoc(doc('```bash {id=flaky retries=2 backoff=10ms rollback=none}\nexit 3\n```'), 'proc', {
      signal: controller.signal,
    });
    expect(run.record.steps[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
  });

  it("a step's time is the sum of its attempts", async () => {
    const counter = path.join(tempDir(), 'count');
    writeFileSync(counter, '0');
    const run = await runDoc(
      doc(
        '```bash {id=slow retries=2 backoff=10ms rollback=none}\nn=$(( $(cat "$COUNTER") + 1 )); echo $n > "$COUNTER"; sleep 0.2; [ $n -ge 3 ]\n```',
      ),
      'proc',
      { env: { ...process.env, COUNTER: counter } },
    );
    expect(run.record.steps[0]).toMatchObject({ status: 'passed', attempts: 3 });
    expect(run.record.steps[0]!.durationMs).toBeGreaterThanOrEqual(600);
    const end = run.events.find((e) => e.type === 'step.end');
    expect(end).toMatchObject({ attempts: 3, durationMs: run.record.steps[0]!.durationMs });
    expect(
      run.events.filter((e) => e.type === 'step.start').map((e) => (e.type === 'step.start' ? e.attempt : 0)),
    ).toEqual([1, 2, 3]);
  });

  it('an interrupt during the wait before a retry ends the step at once, interrupted, without another attempt', async () => {
    const controller = new AbortController();
    const seen: RunEvent[] = [];
    const started = Date.now();
    const run = await runDoc(
      doc('```bash {id=flaky retries=3 backoff=20s rollback=none}\necho try; exit 3\n```'),
      'proc',
      {
        signal: controller.signal,
        // (Listeners given replace the helper's own: the events are collected here.)
        listeners: [
          (e) => {
            seen.push(e);
            if (e.type === 'step.retry') setTimeout(() => controller.abort(), 50);
          },
        ],
      },
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    const retries = seen.filter((e) => e.type === 'step.retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 2, delayMs: 20_000, reason: 'exited with code 3, expected 0' });
    expect(run.record.steps[0]).toMatchObject({
      status: 'interrupted',
      attempts: 1,
      exitCode: 3,
      reason: reasons.interrupted(),
      outputExcerpt: 'try',
    });
  });

  it('a wait is never longer than 30 s, whatever the backoff', async () => {
    const controller = new AbortController();
    const seen: RunEvent[] = [];
    const started = Date.now();
    await runDoc(doc('```bash {id=flaky retries=1 backoff=45s rollback=none}\nexit 3\n```'), 'proc', {
      signal: controller.signal,
      listeners: [
        (e) => {
          seen.push(e);
          if (e.type === 'step.retry') controller.abort();
        },
      ],
    });
    expect(seen.find((e) => e.type === 'step.retry')).toMatchObject({ delayMs: 30_000 });
    // Interrupted as the wait began: no second attempt, and no 30 s spent waiting.
    expect(seen.filter((e) => e.type === 'step.start')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('what a step records of its output', () => {
  it('the last 20 lines, without the trailing line breaks; no metrics key when it measured nothing', async () => {
    const run = await runDoc(
      doc('```bash {id=chatty rollback=none}\nfor i in $(seq 1 30); do echo "line $i"; done; printf "\\n\\n"\n```'),
      'proc',
    );
    const step = run.record.steps[0]!;
    expect(step.outputExcerpt).toBe(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`).join('\n'));
    expect('metrics' in step).toBe(false);
    expect('checks' in step).toBe(false);
    const end = run.events.find((e) => e.type === 'step.end')!;
    expect('metrics' in end).toBe(false);
  });

  it('passes only when the output is what the step expects, and says what differed', async () => {
    const run = await runDoc(
      doc('```bash {id=greet rollback=none}\necho "hello world"\n```\n\n```output\nhello there\n```'),
      'proc',
    );
    expect(run.record.steps[0]).toMatchObject({ status: 'failed', exitCode: 0 });
    expect(run.record.steps[0]!.reason).toContain('expected:\nhello there\ngot:\nhello world');
  });
});

describe('attempts, exactly', () => {
  it('the last failed attempt is not followed by a retry; a passed or failed step was not timed out', async () => {
    const events: RunEvent[] = [];
    const run = await runDoc(
      doc(
        '```bash {id=fails retries=1 backoff=10ms rollback=none}\nexit 4\n```\n\n```bash {id=fine rollback=none}\ntrue\n```',
      ),
      'proc',
      { listeners: [(e) => events.push(e)] },
    );
    expect(events.filter((e) => e.type === 'step.retry')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step.start').map((e) => (e.type === 'step.start' ? e.attempt : 0))).toEqual(
      [1, 2],
    );
    expect(run.record.steps[0]).toMatchObject({ status: 'failed', attempts: 2, timedOut: false, signal: null });
    const passed = await runDoc(doc('```bash {id=fine rollback=none}\ntrue\n```'), 'proc');
    expect(passed.record.steps[0]).toMatchObject({ status: 'passed', timedOut: false, signal: null, exitCode: 0 });
  });

  it('a step interrupted while it runs is not retried', async () => {
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const run = await runDoc(doc('```bash {id=slow retries=3 backoff=10ms rollback=none}\nsleep 5\n```'), 'proc', {
      signal: controller.signal,
      listeners: [
        (e) => {
          events.push(e);
          if (e.type === 'step.start') setTimeout(() => controller.abort(), 100);
        },
      ],
    });
    expect(events.filter((e) => e.type === 'step.retry')).toHaveLength(0);
    expect(run.record.steps[0]).toMatchObject({ status: 'interrupted', attempts: 1 });
  });
});
