// What each lexer keeps: the context found at each placeholder's start.
export function contextRecorder<C extends string>(
  starts: readonly number[],
  initial: C,
): { out: C[]; record(at: number, context: C): void; indexAt(at: number): number | undefined } {
  const wanted = new Map(starts.map((s, i) => [s, i]));
  const out: C[] = new Array(starts.length).fill(initial);
  return {
    out,
    record(at, context) {
      const index = wanted.get(at);
      if (index !== undefined) out[index] = context;
    },
    indexAt: (at) => wanted.get(at),
  };
}
