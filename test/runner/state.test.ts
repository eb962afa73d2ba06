import { appendFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunStore, type RunState, type StepResult } from '../../src/runner/state.js';
import { runStateFixture, tempDir } from '../helpers.js';

const result = (stepId: string): StepResult => ({
  stepId,
  kind: 'step',
  lang: 'bash',
  phase: 'forward',
  status: 'passed',
  attempts: 1,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  exitCode: 0,
  signal: null,
  timedOut: false,
  reason: null,
  outputExcerpt: '',
});

const state = (): RunState => runStateFixture();

describe('the state journal', () => {
  it('appends one line per checkpoint with only the new results, and folds them back', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const s = state();
    store.save(s);
    s.results.push(result('a'));
    s.cursor = 1;
    store.save(s);
    s.results.push(result('b'));
    s.cursor = 2;
    store.save(s);
    store.close();
    const lines = readFileSync(store.statePath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.newResults.map((r: StepResult) => r.stepId))).toEqual([[], ['a'], ['b']]);
    expect(new RunStore(store.stateDir, 'r1').load()).toEqual(s);
  });

  it('ignores a torn last line left by a killed runner, and a resumed store continues the journal', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const s = state();
    s.results.push(result('a'));
    s.cursor = 1;
    store.save(s);
    store.close();
    appendFileSync(store.statePath, '{"version":1,"cursor":2,"newResu');
    const again = new RunStore(store.stateDir, 'r1');
    const loaded = again.load();
    expect(loaded).toEqual(s);
    loaded.results.push(result('b'));
    again.save(loaded);
    again.close();
    expect(new RunStore(store.stateDir, 'r1').load().results.map((r) => r.stepId)).toEqual(['a', 'b']);
  });

  it('says where a damaged checkpoint is, and goes on from the later ones (only its step results are lost)', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const s = state();
    s.results.push(result('a'));
    s.cursor = 1;
    s.completed = ['a'];
    store.save(s);
    s.results.push(result('b'));
    s.cursor = 2;
    s.completed = ['a', 'b'];
    store.save(s);
    store.close();
    const lines = readFileSync(store.statePath, 'utf8').split('\n');
    // A disk error flipped bytes in the first checkpoint; the second is intact.
    writeFileSync(store.statePath, [lines[0]!.replace('"cursor":1', '"cursor":#'), ...lines.slice(1)].join('\n'));
    const again = new RunStore(store.stateDir, 'r1');
    const loaded = again.load();
    expect(loaded.cursor).toBe(2);
    expect(loaded.completed).toEqual(['a', 'b']);
    expect(loaded.results.map((r) => r.stepId)).toEqual(['b']);
    expect(again.damage).toEqual([
      expect.stringMatching(
        /^the state journal's line 1 \(column \d+\) is damaged \(not JSON\); the step results it held are missing/,
      ),
    ]);
    // Valid JSON that is not a checkpoint (a phase no run has) is damage too, named by its field.
    appendFileSync(store.statePath, `${JSON.stringify({ ...JSON.parse(lines[1]!), phase: 'sideways' })}\n`);
    const third = new RunStore(store.stateDir, 'r1');
    expect(third.load().phase).toBe('forward');
    expect(third.damage.at(-1)).toBe(
      "the state journal's last checkpoint (line 3) was cut short or damaged (`phase` is not a phase of a run); the one before it stands",
    );
  });

  it('a journal with no readable checkpoint: every damaged line with its position, and what to do', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    writeFileSync(store.statePath, 'garbage\n{"version":2}\n');
    expect(() => store.load()).toThrow(/holds no readable checkpoint; the run cannot be resumed or rolled back/);
    try {
      store.load();
    } catch (error) {
      expect((error as { details: string[] }).details).toEqual([
        'line 1, column 1: not JSON',
        'line 2: `version` is not 1',
        'What the run did is in its events (events.ndjson) and output log: undo it by hand from there.',
      ]);
    }
  });

  it('explains a missing run', () => {
    expect(() => new RunStore(tempDir(), 'nope').load()).toThrow(/^No run `nope` in /);
  });

  it.each([
    ['null', 'not a JSON object'],
    ['[1]', 'not a JSON object'],
    ['"text"', 'not a JSON object'],
    ['{"version":1,"phase":"waiting"}', '`phase` is not a phase of a run'],
    ['{"version":1,"phase":7}', '`phase` is not a phase of a run'],
    ...['-1', '1.5', '"2"', 'null'].map((cursor) => [
      JSON.stringify({ ...state(), results: undefined, newResults: [] }).replace('"cursor":0', `"cursor":${cursor}`),
      '`cursor` is not a step position',
    ]),
    ...['completed', 'rollbackPending', 'undone', 'notUndone', 'newResults'].map((list) => [
      JSON.stringify({ ...state(), results: undefined, newResults: [], [list]: 'x' }),
      `\`${list}\` is not a list`,
    ]),
    [JSON.stringify({ ...state(), results: undefined, newResults: [], section: {} }), '`section` is missing'],
    [JSON.stringify({ ...state(), results: undefined, newResults: [], section: undefined }), '`section` is missing'],
  ])('refuses a checkpoint %s: %s', (line, message) => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    writeFileSync(store.statePath, `${line}\n`);
    expect(() => store.load()).toThrow(
      expect.objectContaining({ details: [`line 1: ${message}`, expect.any(String)] }),
    );
  });

  it('takes every phase of a run, and a cursor of 0; names at most five damaged lines', () => {
    for (const phase of ['forward', 'rollback', 'verify', 'rollback-setup', 'teardown', 'done']) {
      const store = new RunStore(tempDir(), 'r1');
      store.create();
      writeFileSync(store.statePath, `${JSON.stringify({ ...state(), phase, results: undefined, newResults: [] })}\n`);
      expect(store.load().phase).toBe(phase);
    }
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    writeFileSync(store.statePath, 'a\nb\nc\nd\ne\nf\ng\n');
    expect(() => store.load()).toThrow(
      expect.objectContaining({
        details: [
          'line 1, column 1: not JSON',
          'line 2, column 1: not JSON',
          'line 3, column 1: not JSON',
          'line 4, column 1: not JSON',
          'line 5, column 1: not JSON',
          'What the run did is in its events (events.ndjson) and output log: undo it by hand from there.',
        ],
      }),
    );
  });

  it('a blank line between checkpoints is not damage, and a damaged line before the last is not called the last', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const good = JSON.stringify({ ...state(), cursor: 3, results: undefined, newResults: [result('a')] });
    writeFileSync(store.statePath, `${good}\n   \nbroken\n${good}\n\n`);
    const loaded = store.load();
    expect(loaded.cursor).toBe(3);
    expect(store.damage).toEqual([
      "the state journal's line 3 (column 1) is damaged (not JSON); the step results it held are missing from the record, the run's position comes from the later checkpoints",
    ]);
  });

  it('a torn last checkpoint followed only by blank space is still the last one', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const good = JSON.stringify({ ...state(), results: undefined, newResults: [] });
    writeFileSync(store.statePath, `${good}\n{"version":1,"pha\n   \n`);
    store.load();
    expect(store.damage).toEqual([
      "the state journal's last checkpoint (line 2) was cut short or damaged (not JSON); the one before it stands",
    ]);
  });

  it('a run id that could leave the runs folder is refused; the run folders are private', () => {
    expect(() => new RunStore(tempDir(), '../x')).toThrow(/is not a run id/);
    const dir = tempDir();
    const store = new RunStore(dir, 'r1');
    store.create();
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(path.basename(store.eventsPath)).toBe('events.ndjson');
    expect(path.basename(store.resultPath)).toBe('result.json');
    expect(path.basename(store.logPath)).toBe('output.log');
  });
});

describe('the run lock', () => {
  it('is taken by one live runner at a time: another is refused by pid, a dead holder is taken over', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const { processStartTime } = await import('../../src/util/process-identity.js');
    const { ExecDocError } = await import('../../src/errors/exec-doc-error.js');
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const lockFile = path.join(store.dir, 'lock');
    store.lock();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    // The same runner taking it again (resume after its own run) is not refused.
    store.lock();
    store.unlock();
    expect(existsSync(lockFile)).toBe(false);

    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      writeFileSync(lockFile, JSON.stringify({ pid: other.pid, startTime: processStartTime(other.pid!) ?? null }));
      let error: unknown;
      try {
        store.lock();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExecDocError);
      expect((error as InstanceType<typeof ExecDocError>).code).toBe('E_RUN_LOCKED');
      expect((error as Error).message).toBe(`Run \`r1\` is being executed by process ${other.pid}`);
      expect((error as InstanceType<typeof ExecDocError>).details).toEqual([
        'Wait for it to finish, or stop that process first.',
      ]);
    } finally {
      other.kill('SIGKILL');
    }
    await new Promise((resolve) => other.once('exit', resolve));
    store.lock();
    expect(JSON.parse(readFileSync(lockFile, 'utf8')).pid).toBe(process.pid);
    store.unlock();
  });
});

describe('the run folder and its journal, exactly', () => {
  it('a journal of an older exec-doc (no setupPending) loads with no setup to undo', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    const { setupPending: _absent, results, ...older } = state();
    writeFileSync(store.statePath, `${JSON.stringify({ ...older, newResults: results })}\n`);
    expect(new RunStore(store.stateDir, 'r1').load()).toEqual({ ...state(), setupPending: [] });
  });

  it('a run starts with nothing done', async () => {
    const { progressAtStart } = await import('../../src/runner/state.js');
    const start = progressAtStart();
    expect(start.completed).toEqual([]);
    expect([start.rollbackPending, start.setupPending]).toEqual([[], []]);
    expect(start.results).toEqual([]);
    expect(start.cursor).toBe(0);
    expect(start.final).toBeNull();
  });

  it('is made with its parents, private, and making it again is harmless', () => {
    const stateDir = path.join(tempDir(), 'not', 'yet');
    const store = new RunStore(stateDir, 'r1');
    store.create();
    store.create();
    expect(statSync(path.dirname(store.dir)).mode & 0o777).toBe(0o700);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    // Unlocking a run that holds no lock is harmless too.
    store.unlock();
    store.unlock();
  });

  it('a journal reopened after an intact last line gains no blank line; closing it leaves no file open', () => {
    const store = new RunStore(tempDir(), 'r1');
    store.create();
    store.save(state());
    store.close();
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const again = new RunStore(store.stateDir, 'r1');
    again.load();
    again.save({ ...state(), cursor: 1 });
    expect(openFiles()).toBe(before + 1);
    again.close();
    expect(openFiles()).toBe(before);
    expect(readFileSync(store.statePath, 'utf8')).not.toContain('\n\n');
    expect(readFileSync(store.statePath, 'utf8').split('\n')).toHaveLength(3);
  });

  it('a run that does not exist is named, with where runs live', () => {
    const stateDir = tempDir();
    let error: unknown;
    try {
      new RunStore(stateDir, 'nope').load();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'E_RUN_NOT_FOUND',
      message: `No run \`nope\` in ${path.join(stateDir, 'runs')}`,
      details: [`List runs with \`ls ${path.join(stateDir, 'runs')}\`, or pass --state-dir if they live elsewhere.`],
    });
  });
});
