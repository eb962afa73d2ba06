// The stream masker, split at random chunk boundaries: whatever the chunks, the released text is
// the masked whole, and no secret (nor a line of a multi-line one) appears in it, in one piece or
// across two.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { connectionStringSecrets, createLineMasker, createMasker, maskDeep } from '../../src/secrets/masker.js';

const PEM = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
  'BKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  '-----END PRIVATE KEY-----',
].join('\n');

function streamed(secrets: string[], chunks: string[], maxPendingChars?: number): { pieces: string[]; joined: string } {
  const pieces: string[] = [];
  const stream = createLineMasker(createMasker(secrets), (t) => pieces.push(t), maxPendingChars);
  for (const chunk of chunks) stream.write(chunk);
  stream.flush();
  return { pieces, joined: pieces.join('') };
}

/** Cuts `text` at the given (sorted, deduplicated) offsets. */
const cut = (text: string, offsets: number[]) => {
  const at = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at]
    .map((start, i) => text.slice(start, at[i] ?? text.length))
    .filter((c, i, all) => c.length > 0 || all.length === 1);
};

describe('stream masking', () => {
  const char = fc.constantFrom(...'abcxyz0189-_ \n'.split(''));
  const secret = fc.string({ unit: char, minLength: 1, maxLength: 24 }).filter((s) => s.trim().length > 0);
  const filler = fc.string({ unit: fc.constantFrom(...'abcxyz \n.'.split('')), maxLength: 12 });

  it('releases the masked whole, whatever the chunks and the pending limit', () => {
    fc.assert(
      fc.property(
        fc.array(secret, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(filler, fc.nat(2)), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 64 }),
        (secrets, parts, offsets, max) => {
          const text = parts.map(([f, k]) => f + (secrets[k % secrets.length] ?? '')).join('');
          const mask = createMasker(secrets);
          const { joined, pieces } = streamed(secrets, cut(text, offsets), max);
          expect(joined).toBe(mask(text));
          for (const needle of mask.needles)
            expect(joined.includes(needle), `${JSON.stringify(needle)} leaked`).toBe(false);
          // No piece is released empty or ends with a secret's beginning that the next piece completes.
          for (const piece of pieces) expect(piece.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('hides a secret printed across the 8 KiB partial-line limit', () => {
    const secret = 's3cr3t-value-that-is-long';
    const text = 'x'.repeat(8190) + secret + ' tail';
    const { joined, pieces } = streamed([secret], cut(text, [8000, 8192, 8200]));
    expect(joined).toBe('x'.repeat(8190) + '*** tail');
    expect(pieces.some((p) => p.includes('s3cr'))).toBe(false);
  });

  it('hides a multi-line secret printed whole, line by line, or with other line endings and indentation', () => {
    const whole = streamed([PEM], cut(`key:\n${PEM}\nend\n`, [5, 40, 41, 90]));
    expect(whole.joined).toBe('key:\n***\nend\n');
    const lines = PEM.split('\n');
    const crlf = streamed(
      [PEM],
      lines.map((l) => `    ${l}\r\n`),
    );
    for (const line of lines) expect(crlf.joined).not.toContain(line);
    expect(crlf.joined).toBe('    ***\r\n'.repeat(lines.length));
    // And in records and events, masked as a whole.
    expect(maskDeep({ reason: `failed: ${lines[1]}` }, createMasker([PEM]))).toEqual({ reason: 'failed: ***' });
  });

  it('masks every occurrence, repeated in one chunk, the longest first', () => {
    const mask = createMasker(['abc', 'abcdef']);
    expect(mask('abcdef abc abcdef abcabc')).toBe('*** *** *** ******');
    expect(streamed(['hunter2'], ['hunter2 hunter2\nhunter2']).joined).toBe('*** ***\n***');
  });
});

describe('what is searched for', () => {
  it('ignores empty values, and leaves text without secrets alone', () => {
    const mask = createMasker(['', 'abc']);
    expect(mask.size).toBe(1);
    expect(mask.needles).toEqual(['abc']);
    expect(mask('xyz')).toBe('xyz');
    expect(createMasker().needles).toEqual([]);
  });

  it('lines of a multi-line secret: CR and indentation dropped, 8 characters or more', () => {
    const mask = createMasker(['  key-line-one\r\n  key-line-two\r\nshort12\n12345678']);
    expect(mask.needles).toContain('key-line-one');
    expect(mask.needles).toContain('12345678');
    expect(mask.needles).not.toContain('short12');
    expect(mask('got key-line-one and key-line-two; 12345678 but short12')).toBe('got *** and ***; *** but short12');
  });
});

describe('the pieces a stream releases', () => {
  /** What each write (and the final flush) released, in order. */
  function perWrite(secrets: string[], writes: string[], maxPendingChars?: number): string[][] {
    let current: string[] = [];
    const out: string[][] = [];
    const stream = createLineMasker(createMasker(secrets), (t) => current.push(t), maxPendingChars);
    for (const chunk of [...writes, null]) {
      if (chunk === null) stream.flush();
      else stream.write(chunk);
      out.push(current);
      current = [];
    }
    return out;
  }

  it('a partial line waits for its end, or until it is longer than the limit', () => {
    expect(perWrite([], ['ab\ncd', 'ef\n'])).toEqual([['ab\n'], ['cdef\n'], []]);
    // At the limit it still waits; past it, it is released.
    expect(perWrite([], ['abcd', 'e'], 4)).toEqual([[], ['abcde'], []]);
    expect(perWrite(['zzz'], ['abcdef'], 4)).toEqual([['abcdef'], []]);
  });

  it('past the limit, only a tail that can still become a secret waits', () => {
    // `SECRET1` is the longest secret but one character: it waits, whole, for the next write.
    expect(perWrite(['SECRET12'], ['abcdeSECRET1', '2 after\n'], 4)).toEqual([['abcde'], ['*** after\n'], []]);
    // A tail that starts like a secret but cannot become one is released at once.
    expect(perWrite(['SECRET12'], ['abcdeSx'], 4)).toEqual([['abcdeSx'], []]);
    // A shorter secret complete at the end is masked at once, unless a longer one could extend it.
    expect(perWrite(['SECRET12', 'ABCD'], ['xxxxABCD'], 4)).toEqual([['xxxx***'], []]);
    expect(perWrite(['ABCDEFGH', 'ABCD'], ['xxxxABCD', 'EFGH\n'], 4)).toEqual([['xxxx'], ['***\n'], []]);
  });
});

describe('what is searched for, exactly', () => {
  it('a masker made with nothing hides nothing', () => {
    const mask = createMasker();
    expect(mask.size).toBe(0);
    expect(mask('Stryker was here')).toBe('Stryker was here');
  });

  it('a one-line secret is matched as given, spaces included; a line of a multi-line one only loses a final CR', () => {
    const mask = createMasker([' padded-secret-value ']);
    expect(mask.needles).toEqual([' padded-secret-value ']);
    expect(mask('x-padded-secret-value-y')).toBe('x-padded-secret-value-y');
    expect(createMasker(['line-one\rinside\nline-two-long\r']).needles).toEqual([
      'line-one\rinside\nline-two-long\r',
      'line-one\rinside',
      'line-two-long',
    ]);
  });

  it('needles of the same length are in a fixed order, whatever the order they were given in', () => {
    expect(createMasker(['bbbb', 'aaaa', 'cccc']).needles).toEqual(['aaaa', 'bbbb', 'cccc']);
    expect(createMasker(['cccc', 'aaaa', 'bbbb']).needles).toEqual(['aaaa', 'bbbb', 'cccc']);
  });

  it('a connection string gives its password, as written and decoded, and a password parameter', () => {
    expect(connectionStringSecrets('postgres://app:p%40ss@db:5432/main')).toEqual(['p%40ss', 'p@ss']);
    expect(connectionStringSecrets('postgres://db/main?password=s3cret&user=app')).toEqual(['s3cret']);
    expect(connectionStringSecrets('postgres://app@db/main')).toEqual([]);
    expect(connectionStringSecrets('not a url')).toEqual([]);
  });

  it('maskDeep: the same value back when there is nothing to hide; numbers, booleans and null as they are', () => {
    const value = { a: ['x'], b: 1 };
    expect(maskDeep(value, createMasker())).toBe(value);
    const mask = createMasker(['hidden']);
    expect(maskDeep(5, mask)).toBe(5);
    expect(maskDeep(null, mask)).toBe(null);
    expect(maskDeep(true, mask)).toBe(true);
    expect(maskDeep({ n: 2, list: ['a hidden b', 3] }, mask)).toEqual({ n: 2, list: ['a *** b', 3] });
  });
});
