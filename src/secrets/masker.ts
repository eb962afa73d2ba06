// Hides secret values everywhere the runner writes: terminal, events, logs, state, results.

export const MASK = '***';

export interface Masker {
  (text: string): string;
  /** Adds values to hide (e.g. the password of a connection string found later). */
  add(...values: string[]): void;
  readonly size: number;
  /** What is searched for, longest first: each secret, and each line of a multi-line secret. */
  readonly needles: readonly string[];
}

// A line of a multi-line secret (a PEM key printed line by line, or indented in YAML) is hidden
// on its own when it is at least this long: shorter lines ("}", "-----") say nothing.
const MIN_SECRET_LINE = 8;

export function createMasker(initial: Iterable<string> = []): Masker {
  let values: string[] = [];
  // Set by the first `add` below, before the masker is handed out.
  let needles!: string[];
  const mask = ((text: string): string =>
    needles.length === 0 ? text : maskText(text, 0, text.length, needles, text.length).out) as Masker;
  mask.add = (...more: string[]) => {
    values = [...new Set([...values, ...more.filter((v) => v.length > 0)])];
    const lines = values
      .flatMap((v) => (v.includes('\n') ? v.split('\n').map((l) => l.replace(/\r$/, '').trim()) : []))
      .filter((l) => l.length >= MIN_SECRET_LINE);
    // Longest first, so a secret containing another is hidden whole.
    needles = [...new Set([...values, ...lines])].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  };
  Object.defineProperty(mask, 'size', { get: () => values.length });
  Object.defineProperty(mask, 'needles', { get: () => needles });
  mask.add(...initial);
  return mask;
}

/** The password inside a connection string (`postgres://user:pw@host/db`), if any. */
export function connectionStringSecrets(url: string): string[] {
  try {
    const parsed = new URL(url);
    const out: string[] = [];
    if (parsed.password) out.push(parsed.password, decodeURIComponent(parsed.password));
    const param = parsed.searchParams.get('password');
    if (param) out.push(param);
    return out;
  } catch {
    return [];
  }
}

/**
 * Masking of a stream. Text is released a line at a time (or when a partial line grows past
 * `maxPendingChars`), masked, and never with a possible beginning of a secret at its end: the
 * tail that could still become a secret, at most the longest secret's length less one, waits for
 * the next chunk. A secret split across chunks, lines or the size limit is hidden whole.
 */
export function createLineMasker(
  mask: Masker,
  emit: (text: string) => void,
  maxPendingChars = 8192,
): { write(chunk: string): void; flush(): void } {
  let pending = '';
  const drain = (final: boolean) => {
    const limit = final || pending.length > maxPendingChars ? pending.length : pending.lastIndexOf('\n') + 1;
    // Shortcuts on the path of every chunk of output: nothing to release yet, or no secret to hold back for.
    if (limit === 0) return;
    const needles = mask.needles;
    const held = final || needles.length === 0 ? pending.length : heldFrom(pending, needles);
    const { out, end } = maskText(pending, 0, limit, needles, held);
    pending = pending.slice(end);
    if (out) emit(out);
  };
  return {
    write(chunk: string) {
      pending += chunk;
      drain(false);
    },
    flush() {
      drain(true);
    },
  };
}

/**
 * Masks `text` from `from` up to `limit`: at each place the earliest needle, the longest there.
 * Nothing at or after `held` is released (a match starting before it that a longer needle could
 * still extend waits too); returns the masked text and where it stopped.
 */
function maskText(
  text: string,
  from: number,
  limit: number,
  needles: readonly string[],
  held: number,
): { out: string; end: number } {
  // Next occurrence of each needle, found once and searched again only when passed.
  const next = needles.map((needle) => text.indexOf(needle, from));
  let out = '';
  let i = from;
  const stop = Math.min(limit, held);
  while (i < stop) {
    let best = -1;
    for (let k = 0; k < needles.length; k += 1) {
      if (next[k]! >= 0 && next[k]! < i) next[k] = text.indexOf(needles[k]!, i);
      if (next[k]! >= 0 && (best < 0 || next[k]! < next[best]!)) best = k;
    }
    const at = best < 0 ? -1 : next[best]!;
    if (at < 0 || at >= stop) break;
    out += text.slice(i, at) + MASK;
    i = at + needles[best]!.length;
  }
  if (i < stop) {
    out += text.slice(i, stop);
    i = stop;
  }
  return { out, end: i };
}

/**
 * Where the text that must wait begins: the earliest place from which the rest of the buffer is
 * the beginning of a longer needle. The end of the text when there is none.
 */
function heldFrom(text: string, needles: readonly string[]): number {
  const longest = needles[0]?.length ?? 0;
  const firsts = new Set(needles.map((n) => n[0]));
  for (let at = Math.max(0, text.length - longest + 1); at < text.length; at += 1) {
    if (!firsts.has(text[at])) continue;
    const rest = text.slice(at);
    if (needles.some((needle) => needle.length > rest.length && needle.startsWith(rest))) return at;
  }
  return text.length;
}

/** A copy of `value` with every string masked (objects and arrays walked). */
export function maskDeep<T>(value: T, mask: Masker): T {
  if (mask.size === 0) return value;
  if (typeof value === 'string') return mask(value) as T;
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, mask)])) as T;
  }
  return value;
}
