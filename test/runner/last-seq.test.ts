// A resumed run numbers its events after the last one in the events file: a killed runner may have
// written some (output, resource samples) after its last checkpoint.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastSeqInFile } from '../../src/events/emitter.js';
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
