import { randomBytes } from 'node:crypto';

/**
 * A run's id: sorted by time, then what ran (`20261124T053000Z-zero-downtime-a1b2c3`). Runs of
 * sections and runs of a checks phase share the form.
 */
export function newRunId(what: string, now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${what.slice(0, 40)}-${randomBytes(3).toString('hex')}`;
}
