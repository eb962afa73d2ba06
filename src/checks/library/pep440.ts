// Versions and version ranges as Python packaging writes them (PEP 440), the subset a
// compatibility matrix needs: release versions (1.2.3, with pre/post/dev suffixes compared after
// the release numbers) and specifiers joined by commas: ==, !=, <=, >=, <, >, ~= and ==1.*.

export interface ParsedVersion {
  release: number[];
  /** Anything after the release numbers (`rc1`, `.post2`): compared as text, before a bare release. */
  suffix: string;
}

const VERSION =
  /^v?(\d+(?:\.\d+)*)([-_.]?(?:a|b|rc|alpha|beta|c|pre|preview|post|rev|r|dev)[-_.]?\d*)*(?:\+[a-z0-9.]+)?$/i;

export function parseVersion(text: string): ParsedVersion | undefined {
  const trimmed = text.trim();
  if (!VERSION.test(trimmed)) return undefined;
  const release = /^v?(\d+(?:\.\d+)*)/i.exec(trimmed)![1]!.split('.').map(Number);
  const suffix = trimmed.replace(/^v?\d+(?:\.\d+)*/i, '').replace(/\+.*$/, '');
  return { release, suffix };
}

export function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  const length = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < length; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (a.suffix === b.suffix) return 0;
  // A pre-release (1.0rc1) comes before its release (1.0); a post-release after it.
  const rank = (s: string) => (s === '' ? 1 : /post|rev|^[-_.]?r\d/i.test(s) ? 2 : 0);
  return Math.sign(rank(a.suffix) - rank(b.suffix)) || (a.suffix < b.suffix ? -1 : 1);
}

const CLAUSE = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/;

/** A problem with the range's text, or undefined when it is well-formed. */
export function rangeProblem(range: string): string | undefined {
  for (const clause of range.split(',').map((c) => c.trim())) {
    const m = CLAUSE.exec(clause);
    if (!m) return `\`${clause}\` is not a version clause (e.g. >=1.2,<2)`;
    const version = m[1] === '==' || m[1] === '!=' ? m[2]!.replace(/\.\*$/, '') : m[2]!;
    if (!parseVersion(version)) return `\`${m[2]}\` in \`${clause}\` is not a version`;
    if (m[1] === '~=' && parseVersion(version)!.release.length < 2) return `\`${clause}\` needs at least two numbers`;
  }
  return undefined;
}

/** Whether `version` is inside every clause of `range` (`>=1.1,<2`). */
export function satisfies(version: string, range: string): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range
    .split(',')
    .map((c) => c.trim())
    .every((clause) => {
      const m = CLAUSE.exec(clause);
      if (!m) return false;
      const [, op, target] = m as unknown as [string, string, string];
      if ((op === '==' || op === '!=') && target.endsWith('.*')) {
        const prefix = parseVersion(target.slice(0, -2))!.release;
        const matches = prefix.every((n, i) => (v.release[i] ?? 0) === n);
        return op === '==' ? matches : !matches;
      }
      const t = parseVersion(target);
      if (!t) return false;
      const c = compareVersions(v, t);
      switch (op) {
        case '==':
        case '===':
          return c === 0;
        case '!=':
          return c !== 0;
        case '<=':
          return c <= 0;
        case '>=':
          return c >= 0;
        case '<':
          return c < 0;
        case '>':
          return c > 0;
        default: {
          // ~=1.4.2 means >=1.4.2,==1.4.*
          const prefix = t.release.slice(0, -1);
          return c >= 0 && prefix.every((n, i) => (v.release[i] ?? 0) === n);
        }
      }
    });
}
