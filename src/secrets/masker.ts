// Hides secret values everywhere the runner writes: terminal, events, logs, state, results.

export const MASK = '***';

export interface Masker {
  (text: string): string;
  /** Adds values to hide (e.g. the password of a connection string found later). */
  add(...values: string[]): void;
  readonly size: number;
}

export function createMasker(initial: Iterable<string> = []): Masker {
  let values: string[] = [];
  const mask = ((text: string): string => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(MASK);
    return out;
  }) as Masker;
  mask.add = (...more: string[]) => {
    // Longest first, so a secret containing another is hidden whole.
    values = [...new Set([...values, ...more.filter((v) => v.length > 0)])].sort((a, b) => b.length - a.length);
  };
  Object.defineProperty(mask, 'size', { get: () => values.length });
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
 * Line-buffered masking of a stream, so that a secret split across two chunks is still
 * caught. Partial lines are released when they grow past `maxPendingChars`, or at the end.
 */
export function createLineMasker(mask: Masker, emit: (text: string) => void, maxPendingChars = 8192): { write(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    write(chunk: string) {
      pending += chunk;
      const cut = pending.lastIndexOf('\n');
      if (cut >= 0) {
        emit(mask(pending.slice(0, cut + 1)));
        pending = pending.slice(cut + 1);
      }
      if (pending.length > maxPendingChars) {
        emit(mask(pending));
        pending = '';
      }
    },
    flush() {
      if (pending) emit(mask(pending));
      pending = '';
    },
  };
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
