// Steps report measurements by appending JSON lines to the file named by $EXEC_DOC_METRICS:
// {"name": "failedRequests", "value": 0, "unit": "requests"}. They land in the step's result, the
// `step.end` event and the run's record, beside the step's duration.
import { existsSync, readFileSync } from 'node:fs';

export const METRICS_ENV = 'EXEC_DOC_METRICS';
/** Names the file holding the steps run so far ($EXEC_DOC_TIMELINE); given to the blocks that mention it. */
export const TIMELINE_ENV = 'EXEC_DOC_TIMELINE';

export interface StepMetric {
  /** lowerCamelCase, units in the name where they help (`p99Ms`). */
  name: string;
  value: number;
  unit: string;
  /** A point of a series (e.g. latency second by second): when it was measured, in ms since the epoch. */
  at?: number;
}

const NAME = /^[a-z][A-Za-z0-9]*$/;

export function readMetrics(file: string): { metrics: StepMetric[]; problems: string[] } {
  if (!existsSync(file)) return { metrics: [], problems: [] };
  const metrics: StepMetric[] = [];
  const problems: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, index) => {
      if (line.trim() === '') return;
      const where = `$${METRICS_ENV} line ${index + 1}`;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        problems.push(`${where}: expected a JSON object such as {"name":"failedRequests","value":0,"unit":"requests"}`);
        return;
      }
      const m = value as Partial<StepMetric> | null;
      if (m === null || typeof m !== 'object' || Array.isArray(m)) {
        problems.push(`${where}: expected a JSON object, got ${JSON.stringify(value).slice(0, 40)}`);
      } else if (typeof m.name !== 'string' || !NAME.test(m.name)) {
        problems.push(`${where}: expected "name" in lowerCamelCase (e.g. "p99Ms"), got ${JSON.stringify(m.name)}`);
      } else if (typeof m.value !== 'number' || !Number.isFinite(m.value)) {
        problems.push(`${where}: expected "value" to be a finite number for ${m.name}, got ${JSON.stringify(m.value)}`);
      } else if (m.unit !== undefined && typeof m.unit !== 'string') {
        problems.push(`${where}: expected "unit" to be a string for ${m.name}`);
      } else if (m.at !== undefined && (typeof m.at !== 'number' || !Number.isInteger(m.at) || m.at < 0)) {
        problems.push(
          `${where}: expected "at" to be a time in milliseconds since the epoch for ${m.name}, got ${JSON.stringify(m.at)}`,
        );
      } else {
        metrics.push({ name: m.name, value: m.value, unit: m.unit ?? '', ...(m.at !== undefined ? { at: m.at } : {}) });
      }
    });
  return { metrics, problems };
}
