// The live view of a run. On a terminal: a step list with a spinner, per-step durations and
// the last output line of the running step, redrawn in place. Elsewhere (CI logs, pipes):
// plain lines, one per event, with the steps' output indented under them.
import type { RunEvent, StepPhase } from '../events/types.js';
import { formatMs, paint, type Paint } from './format.js';

interface Row {
  key: string;
  id: string;
  label: string;
  phase: StepPhase;
  state: 'pending' | 'running' | 'passed' | 'failed' | 'skipped';
  durationMs?: number;
  startedAt?: number;
  lastLine?: string;
  /** The last lines of its output, shown under it when it fails. */
  tail: string[];
  note?: string;
}

const TAIL_LINES = 6;

export interface TerminalReporter {
  listener(event: RunEvent): void;
  /** A line for the operator (not an event), printed above the live frame. */
  notice(line: string): void;
  /** Stops the spinner and leaves the final frame on screen. */
  stop(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const PHASE_LABEL: Record<StepPhase, string> = {
  forward: '',
  rollback: 'rollback ',
  verify: 'verify ',
  teardown: 'teardown ',
};

export function createTerminalReporter(options: {
  write: (text: string) => void;
  tty: boolean;
  color: boolean;
  columns?: number;
}): TerminalReporter {
  const p = paint(options.color);
  return options.tty ? liveReporter(options.write, p, options.columns ?? 100) : plainReporter(options.write, p);
}

/** `[3/8, ~12s left]` from the progress event before a block. */
function progressText(event: Extract<RunEvent, { type: 'progress' }> | undefined): string {
  if (!event) return '';
  const left = event.estimatedRemainingMs === null ? '' : `, ~${formatMs(event.estimatedRemainingMs)} left`;
  return `[${event.done + 1}/${event.total}${left}] `;
}

function plainReporter(write: (text: string) => void, p: Paint): TerminalReporter {
  const pendingOutput = new Map<string, string>();
  let progress: Extract<RunEvent, { type: 'progress' }> | undefined;
  return {
    listener(event) {
      switch (event.type) {
        case 'progress':
          progress = event;
          break;
        case 'run.start':
          write(`${p.bold('▶')} ${p.bold(event.section)}  ${p.dim(`run ${event.runId}`)}\n`);
          break;
        case 'run.resume':
          write(
            `${p.bold('▶')} resuming ${p.bold(event.section)} ${event.rollingBack ? 'in its rollback' : event.fromStep ? `at ${event.fromStep}` : ''}  ${p.dim(`run ${event.runId}`)}\n`,
          );
          break;
        case 'requirements':
          for (const r of event.results)
            write(`  ${r.ok ? p.green('✔') : p.red('✖')} requires ${r.requirement}: ${r.detail}\n`);
          break;
        case 'step.start':
          write(
            `${p.cyan('→')} ${p.dim(progressText(progress?.stepId === event.stepId ? progress : undefined))}${PHASE_LABEL[event.phase]}${event.stepId} ${p.dim(`(${event.kind}, ${event.lang}${event.attempt > 1 ? `, attempt ${event.attempt}` : ''})`)}\n`,
          );
          break;
        case 'step.output': {
          const text = (pendingOutput.get(event.stepId) ?? '') + event.text;
          const lines = text.split('\n');
          pendingOutput.set(event.stepId, lines.pop() ?? '');
          for (const line of lines) write(`  ${p.dim('│')} ${line}\n`);
          break;
        }
        case 'step.retry':
          write(
            `  ${p.yellow('↻')} retrying ${event.stepId} in ${formatMs(event.delayMs)} (attempt ${event.attempt}): ${firstLine(event.reason)}\n`,
          );
          break;
        case 'step.end': {
          const rest = pendingOutput.get(event.stepId);
          if (rest) write(`  ${p.dim('│')} ${rest}\n`);
          pendingOutput.delete(event.stepId);
          const ok = event.status === 'passed';
          write(
            `${ok ? p.green('✔') : p.red('✖')} ${PHASE_LABEL[event.phase]}${event.stepId} ${p.dim(formatMs(event.durationMs))}${ok ? '' : ` ${p.red(event.status)}: ${indentRest(event.reason ?? '')}`}\n`,
          );
          break;
        }
        case 'rollback.start':
          write(
            `${p.yellow('↺')} rolling back ${event.steps.length ? event.steps.join(', ') : '(nothing completed)'}\n`,
          );
          break;
        case 'rollback.end':
          write(
            `${event.status === 'complete' ? p.green('↺') : p.red('↺')} rollback ${event.status} in ${formatMs(event.durationMs)}${event.notUndone.length ? `; not undone: ${event.notUndone.join(', ')}` : ''}\n`,
          );
          break;
        case 'run.end':
          break;
      }
    },
    notice(line) {
      write(`${p.dim(`exec-doc: ${line}`)}\n`);
    },
    stop() {},
  };
}

function liveReporter(write: (text: string) => void, p: Paint, columns: number): TerminalReporter {
  const rows: Row[] = [];
  const byKey = new Map<string, Row>();
  const header: string[] = [];
  let progress: Extract<RunEvent, { type: 'progress' }> | undefined;
  let frameLines = 0;
  let tick = 0;
  const timer = setInterval(() => {
    tick += 1;
    if (rows.some((r) => r.state === 'running')) redraw();
  }, 80);
  timer.unref();

  const rowFor = (id: string, phase: StepPhase, label = ''): Row => {
    const key = `${phase}:${id}`;
    let row = byKey.get(key);
    if (!row) {
      row = { key, id, label, phase, state: 'pending', tail: [] };
      rows.push(row);
      byKey.set(key, row);
    }
    return row;
  };

  const render = (): string[] => {
    const lines = [...header];
    if (progress) lines.push(p.dim(`${progress.phase}: ${progressText(progress).trim()}`));
    for (const row of rows) {
      const icon =
        row.state === 'running'
          ? p.cyan(SPINNER[tick % SPINNER.length]!)
          : row.state === 'passed'
            ? p.green('✔')
            : row.state === 'failed'
              ? p.red('✖')
              : p.dim('·');
      const duration =
        row.state === 'running' && row.startedAt
          ? formatMs(Date.now() - row.startedAt)
          : row.durationMs !== undefined
            ? formatMs(row.durationMs)
            : '';
      let line = `${icon} ${PHASE_LABEL[row.phase]}${row.id} ${p.dim(row.label)} ${p.dim(duration)}`;
      if (row.state === 'running' && row.lastLine) line += p.dim(`  ${row.lastLine}`);
      lines.push(truncate(line, columns));
      if (row.note)
        for (const noteLine of row.note.split('\n')) lines.push(truncate(`    ${p.red(noteLine)}`, columns));
    }
    return lines;
  };

  const redraw = (): void => {
    const lines = render();
    const up = frameLines > 0 ? `\x1b[${frameLines}A\r\x1b[J` : '';
    write(up + lines.join('\n') + '\n');
    frameLines = lines.length;
  };

  return {
    listener(event) {
      switch (event.type) {
        case 'run.start':
          header.push(`${p.bold('▶')} ${p.bold(event.section)}  ${p.dim(`run ${event.runId}`)}`);
          // Verification checks only run after a rollback: their rows appear if they start.
          for (const step of event.steps.filter((s) => s.phase !== 'verify'))
            rowFor(step.id, step.phase, `${step.kind} · ${step.lang}`);
          break;
        case 'progress':
          progress = event;
          break;
        case 'run.resume':
          header.push(`${p.bold('▶')} resuming ${p.bold(event.section)}  ${p.dim(`run ${event.runId}`)}`);
          break;
        case 'requirements':
          for (const r of event.results.filter((x) => !x.ok))
            header.push(`${p.red('✖')} requires ${r.requirement}: ${r.detail}`);
          break;
        case 'step.start': {
          const row = rowFor(event.stepId, event.phase, `${event.kind} · ${event.lang}`);
          row.state = 'running';
          row.startedAt = Date.now();
          row.note = undefined;
          row.lastLine = undefined;
          row.tail = [];
          break;
        }
        case 'step.output': {
          const row = [...rows].reverse().find((r) => r.id === event.stepId && r.state === 'running');
          const lines = event.text.split('\n').filter((l) => l.trim());
          if (row && lines.length > 0) {
            row.lastLine = lines[lines.length - 1]!.slice(0, 80);
            row.tail = [...row.tail, ...lines].slice(-TAIL_LINES);
          }
          return;
        }
        case 'step.retry': {
          const row = [...rows].reverse().find((r) => r.id === event.stepId);
          if (row) row.note = `retrying in ${formatMs(event.delayMs)}: ${firstLine(event.reason)}`;
          break;
        }
        case 'step.end': {
          const row = rowFor(event.stepId, event.phase);
          row.state = event.status === 'passed' ? 'passed' : 'failed';
          row.durationMs = event.durationMs;
          row.note =
            event.status === 'passed'
              ? undefined
              : [
                  ...`${event.status}: ${event.reason ?? ''}`.split('\n').slice(0, 12),
                  ...row.tail.map((l) => `│ ${l}`),
                ].join('\n');
          break;
        }
        case 'rollback.start':
          for (const row of rows) if (row.state === 'pending' && row.phase === 'forward') row.state = 'skipped';
          break;
        case 'rollback.end':
        case 'run.end':
          break;
      }
      redraw();
    },
    notice(line) {
      // Erase the frame, print the line where it was, and draw the frame again below it.
      const up = frameLines > 0 ? `\x1b[${frameLines}A\r\x1b[J` : '';
      write(`${up}${truncate(p.dim(`exec-doc: ${line}`), columns)}\n`);
      frameLines = 0;
      redraw();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function indentRest(text: string): string {
  return text.split('\n').join('\n    ');
}

/**
 * Cuts a line to the terminal's width, counting only visible characters (colour codes are
 * kept whole), so that a redraw never has to guess how many screen lines a frame took.
 */
export function truncate(line: string, columns: number): string {
  if (visibleLength(line) <= columns) return line;
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end < 0) break;
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible === columns - 1) return `${out}…\x1b[0m`;
    out += line[i];
    visible += 1;
  }
  return out;
}

function visibleLength(line: string): number {
  return line.replace(/\x1b\[[0-9;]*m/g, '').length;
}
