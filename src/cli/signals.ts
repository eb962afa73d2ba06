// How a command stops: SIGINT, SIGTERM and SIGHUP (a closed terminal) all ask it to stop, once
// gently (the running step is stopped and rolled back; checks are abandoned) and a second time
// firmly (a rollback in progress is abandoned; `resume` finishes it). Every server the command
// started is stopped on its way out. A closed stdout (`| head`) is not a reason to stop: the
// output is dropped and the work finishes.
import type { Io } from './main.js';

export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export interface StopRequests {
  /** Aborted at the first signal. */
  interrupt: AbortSignal;
  /** Aborted at the second. */
  force: AbortSignal;
  dispose(): void;
}

export function watchStopSignals(
  io: Io,
  messages: { first: (signal: string) => string; second?: (signal: string) => string },
): StopRequests {
  const interrupt = new AbortController();
  const force = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interrupt.signal.aborted) {
      io.stderr.write(`\nexec-doc: ${messages.first(signal)}\n`);
      interrupt.abort();
    } else if (!force.signal.aborted) {
      if (messages.second) io.stderr.write(`\nexec-doc: ${messages.second(signal)}\n`);
      force.abort();
    }
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    interrupt: interrupt.signal,
    force: force.signal,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

/** Writes to a closed pipe are dropped instead of crashing the process mid-procedure. */
export function dropWritesToClosedPipes(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
      throw error;
    });
  }
}
