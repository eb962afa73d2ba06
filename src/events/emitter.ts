// Numbers, timestamps and masks events, then hands them to every listener. Listeners
// see only masked events, so nothing downstream (terminal, NDJSON, files) can leak a secret.
import { closeSync, openSync, writeSync } from 'node:fs';
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
