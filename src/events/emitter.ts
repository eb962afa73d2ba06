// Numbers, timestamps and masks events, then hands them to every listener. Listeners
// see only masked events, so nothing downstream (terminal, NDJSON, files) can leak a secret.
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { maskDeep, type Masker } from '../secrets/masker.js';
import type { EventListener, RunEvent, RunEventBody } from './types.js';

export class EventBus {
  private seq: number;
  private readonly listeners: EventListener[] = [];

  constructor(
    readonly runId: string,
    private readonly mask: Masker,
    lastSeq = 0,
  ) {
    this.seq = lastSeq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  on(listener: EventListener): void {
    this.listeners.push(listener);
  }

  emit(body: RunEventBody): RunEvent {
    this.seq += 1;
    const event = maskDeep(
      { seq: this.seq, runId: this.runId, time: new Date().toISOString(), ...body },
      this.mask,
    ) as RunEvent;
    for (const listener of this.listeners) listener(event);
    return event;
  }
}

/** Appends each event as one JSON line to a file kept open for the run. */
export function ndjsonFileSink(file: string): { listener: EventListener; close(): void } {
  const fd = openSync(file, 'a', 0o600);
  let open = true;
  return {
    listener: (event) => {
      if (open) writeSync(fd, `${JSON.stringify(event)}\n`);
    },
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * The number of the last event in an events file (0: none). A killed runner may have written
 * events after its last checkpoint (output, samples): a resumed run continues from here.
 */
export function lastSeqInFile(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return 0;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      try {
        const seq = (JSON.parse(lines[i]!) as { seq?: unknown }).seq;
        if (typeof seq === 'number') return seq;
      } catch {
        // A partial line (the runner died writing it), or the first line cut by the window.
      }
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}
