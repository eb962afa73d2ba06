/** Levenshtein distance; meant for short strings (field names, section addresses). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/**
 * The candidates nearest to `input`, best first (ties in input order), at most `limit`,
 * each within `maxDistance` edits or containing `input` as a substring.
 */
export function closest(input: string, candidates: readonly string[], maxDistance: number, limit = 3): string[] {
  const needle = input.toLowerCase();
  return candidates
    .map((candidate, index) => {
      const hay = candidate.toLowerCase();
      const distance =
        hay.includes(needle) || (needle.includes(hay) && hay.length > 2) ? 0.5 : editDistance(needle, hay);
      return { candidate, index, distance };
    })
    .filter((c) => c.distance <= maxDistance)
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, limit)
    .map((c) => c.candidate);
}
