// $EXEC_DOC_METRICS lines as the runner reads them: each measurement, or a message naming the line.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readMetrics } from '../../src/runner/metrics.js';
import { tempDir } from '../helpers.js';

const file = (text: string) => {
  const f = path.join(tempDir(), 'metrics.ndjson');
  writeFileSync(f, text);
  return f;
};

describe('readMetrics', () => {
  it('reads every line, in order; a missing unit is empty; blank lines are skipped', () => {
    expect(readMetrics(file('{"name":"a","value":1,"unit":"ms"}\n\n{"name":"bMs","value":-2.5}\n'))).toEqual({
      metrics: [
        { name: 'a', value: 1, unit: 'ms' },
        { name: 'bMs', value: -2.5, unit: '' },
      ],
      problems: [],
    });
  });

  it('a line of spaces only is blank too', () => {
    expect(readMetrics(file('   \n{"name":"a","value":1}\n\t\n'))).toEqual({
      metrics: [{ name: 'a', value: 1, unit: '' }],
      problems: [],
    });
  });

  it('keeps the time of a series point', () => {
    expect(readMetrics(file('{"name":"loadTps","value":180,"unit":"tps","at":1795539164000}\n')).metrics).toEqual([
      { name: 'loadTps', value: 180, unit: 'tps', at: 1795539164000 },
    ]);
  });

  it('is empty when the step wrote nothing', () => {
    expect(readMetrics(path.join(tempDir(), 'none.ndjson'))).toEqual({ metrics: [], problems: [] });
  });

  it.each([
    ['not json', 'expected a JSON object such as {"name":"failedRequests","value":0,"unit":"requests"}'],
    ['[1,2]', 'expected a JSON object, got [1,2]'],
    ['null', 'expected a JSON object, got null'],
    ['{"name":"latencyMs!","value":1}', 'expected "name" in lowerCamelCase (e.g. "p99Ms"), got "latencyMs!"'],
    [`[${'1,'.repeat(40)}1]`, `expected a JSON object, got [${'1,'.repeat(19)}1`],
    ['{"name":"Bad name","value":1}', 'expected "name" in lowerCamelCase (e.g. "p99Ms"), got "Bad name"'],
    ['{"value":1}', 'expected "name" in lowerCamelCase (e.g. "p99Ms"), got undefined'],
    ['{"name":"x","value":"1"}', 'expected "value" to be a finite number for x, got "1"'],
    ['{"name":"x","value":1e400}', 'expected "value" to be a finite number for x, got null'],
    ['{"name":"x","value":1,"unit":3}', 'expected "unit" to be a string for x'],
    [
      '{"name":"x","value":1,"at":"now"}',
      'expected "at" to be a time in milliseconds since the epoch for x, got "now"',
    ],
    ['{"name":"x","value":1,"at":1.5}', 'expected "at" to be a time in milliseconds since the epoch for x, got 1.5'],
    ['{"name":"x","value":1,"at":-1}', 'expected "at" to be a time in milliseconds since the epoch for x, got -1'],
  ])('names the line of %s', (line, message) => {
    expect(readMetrics(file(`{"name":"ok","value":0}\n${line}\n`))).toEqual({
      metrics: [{ name: 'ok', value: 0, unit: '' }],
      problems: [`$EXEC_DOC_METRICS line 2: ${message}`],
    });
  });
});
