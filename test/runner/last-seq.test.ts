// A resumed run numbers its events after the last one in the events file: a killed runner may have
// written some (output, resource samples) after its last checkpoint.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus, lastSeqInFile, ndjsonFileSink } from '../../src/events/emitter.js';
import { createMasker } from '../../src/secrets/masker.js';
import type { RunEvent } from '../../src/events/types.js';
import { readFileSync } from 'node:fs';
import { tempDir } from '../helpers.js';

const file = (text: string) => {
  const f = path.join(tempDir(), 'events.ndjson');
  writeFileSync(f, text);
  return f;
};

describe('lastSeqInFile', () => {
  it('is the seq of the last whole line, past a line the runner died writing', () => {
    expect(lastSeqInFile(file('{"seq":1}\n{"seq":2}\n{"seq":3}\n'))).toBe(3);
    expect(lastSeqInFile(file('{"seq":1}\n{"seq":2}\n{"seq":3,"ty'))).toBe(2);
    // One line, without its newline: the first line counts too.
    expect(lastSeqInFile(file('{"seq":7}'))).toBe(7);
  });

  it('is 0 for a missing, empty or foreign file', () => {
    expect(lastSeqInFile(path.join(tempDir(), 'none.ndjson'))).toBe(0);
    expect(lastSeqInFile(file(''))).toBe(0);
    expect(lastSeqInFile(file('hello\n'))).toBe(0);
  });

  it('reads only the end of a long file', () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ seq: i + 1, text: 'x'.repeat(40) }));
    expect(lastSeqInFile(file(`${lines.join('\n')}\n`))).toBe(20_000);
  });
});

describe('the event bus', () => {
  it('numbers events after the last one, stamps them, masks secrets, and hands every listener the same event', () => {
    const bus = new EventBus('run-9', createMasker(['hunter2']), 41);
    const seen: RunEvent[][] = [[], []];
    bus.on((e) => seen[0]!.push(e));
    bus.on((e) => seen[1]!.push(e));
    const first = bus.emit({ type: 'step.output', stepId: 'a', stream: 'stdout', text: 'password hunter2\n' });
    bus.emit({ type: 'run.resume', section: 's', fromStep: null, rollingBack: false });
    expect(first).toMatchObject({ seq: 42, runId: 'run-9', type: 'step.output', text: 'password ***\n' });
    expect(Date.parse(first.time)).not.toBeNaN();
    expect(bus.lastSeq).toBe(43);
    expect(seen[0]!.map((e) => e.seq)).toEqual([42, 43]);
    expect(seen[1]).toEqual(seen[0]);
    expect(
      new EventBus('r', createMasker([])).emit({ type: 'run.resume', section: 's', fromStep: null, rollingBack: false })
        .seq,
    ).toBe(1);
  });

  it('the file sink appends one JSON line per event, and nothing after it is closed', () => {
    const f = path.join(tempDir(), 'events.ndjson');
    const sink = ndjsonFileSink(f);
    const bus = new EventBus('r', createMasker([]));
    bus.on(sink.listener);
    bus.emit({ type: 'run.resume', section: 's', fromStep: null, rollingBack: false });
    bus.emit({ type: 'run.resume', section: 't', fromStep: 'x', rollingBack: true });
    sink.close();
    sink.close();
    bus.emit({ type: 'run.resume', section: 'u', fromStep: null, rollingBack: false });
    const lines = readFileSync(f, 'utf8').split('\n');
    expect(lines.length).toBe(3);
    expect(lines[2]).toBe('');
    expect(lines.slice(0, 2).map((l) => (JSON.parse(l) as { section: string }).section)).toEqual(['s', 't']);
    expect(lastSeqInFile(f)).toBe(2);
  });

  it('leaves no file open: neither a closed sink nor reading the last seq', () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const f = path.join(tempDir(), 'events.ndjson');
    writeFileSync(f, '{"seq":1}\n');
    const before = openFiles();
    for (let i = 0; i < 20; i += 1) expect(lastSeqInFile(f)).toBe(1);
    const sink = ndjsonFileSink(f);
    expect(openFiles()).toBe(before + 1);
    sink.close();
    expect(openFiles()).toBe(before);
  });
});
