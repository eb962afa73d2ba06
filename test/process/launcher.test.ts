// The launcher's replies, read from chunks split anywhere: what a pipe delivers is not framed.
import { describe, expect, it } from 'vitest';
import { ReplyReader, type Reply } from '../../src/process/launcher.js';

const out = (id: number, stream: 1 | 2, bytes: Buffer) =>
  Buffer.concat([Buffer.from(`O ${id} ${stream} ${bytes.length}\n`), bytes]);

// Output holding what the framing itself uses (newlines, spaces, digits, a frame's look-alike)
// and a character cut between frames.
const euro = Buffer.from('€');
const STREAM = Buffer.concat([
  Buffer.from('S 1 4242\n'),
  out(1, 1, Buffer.from('line one\nO 1 1 99\nX 1 0 -\n')),
  out(1, 2, euro.subarray(0, 2)),
  out(1, 2, euro.subarray(2)),
  Buffer.from('S 2 4243\n'),
  out(2, 1, Buffer.from(' ')),
  Buffer.from('X 1 3 -\n'),
  Buffer.from('E 3 2 exec\n'),
  Buffer.from('E 4 99999 chdir\n'),
  Buffer.from('X 2 - 9\n'),
  Buffer.from('X 5 - 250\n'),
]);

const EXPECTED: Reply[] = [
  { kind: 'S', id: 1, pid: 4242 },
  { kind: 'O', id: 1, stream: 'stdout', chunk: Buffer.from('line one\nO 1 1 99\nX 1 0 -\n') },
  { kind: 'O', id: 1, stream: 'stderr', chunk: euro.subarray(0, 2) },
  { kind: 'O', id: 1, stream: 'stderr', chunk: euro.subarray(2) },
  { kind: 'S', id: 2, pid: 4243 },
  { kind: 'O', id: 2, stream: 'stdout', chunk: Buffer.from(' ') },
  { kind: 'X', id: 1, exitCode: 3, signal: null },
  { kind: 'E', id: 3, code: 'ENOENT' },
  { kind: 'E', id: 4, code: 'errno 99999' },
  { kind: 'X', id: 2, exitCode: null, signal: 'SIGKILL' },
  { kind: 'X', id: 5, exitCode: null, signal: null },
];

const readAll = (chunks: Buffer[]): Reply[] => {
  const reader = new ReplyReader();
  return chunks.flatMap((chunk) => reader.read(chunk));
};

describe('the launcher reply reader', () => {
  it('reads the replies of one chunk', () => {
    expect(readAll([STREAM])).toEqual(EXPECTED);
  });

  it('reads the same replies however the stream is cut: at every byte, and in two cuts', () => {
    for (let i = 0; i <= STREAM.length; i++) {
      expect(readAll([STREAM.subarray(0, i), STREAM.subarray(i)]), `cut at ${i}`).toEqual(EXPECTED);
    }
    for (let i = 1; i < STREAM.length; i += 7)
      for (let j = i; j < STREAM.length; j += 5)
        expect(readAll([STREAM.subarray(0, i), STREAM.subarray(i, j), STREAM.subarray(j)]), `cuts ${i} ${j}`).toEqual(
          EXPECTED,
        );
    expect(readAll([...STREAM].map((byte) => Buffer.from([byte])))).toEqual(EXPECTED);
  });

  it('keeps an incomplete reply for the next chunk and gives nothing until it is complete', () => {
    const reader = new ReplyReader();
    expect(reader.read(Buffer.from('O 7 1 5\nabc'))).toEqual([]);
    expect(reader.read(Buffer.from('d'))).toEqual([]);
    expect(reader.read(Buffer.from('eX 7 0'))).toEqual([
      { kind: 'O', id: 7, stream: 'stdout', chunk: Buffer.from('abcde') },
    ]);
    expect(reader.read(Buffer.from(' -\n'))).toEqual([{ kind: 'X', id: 7, exitCode: 0, signal: null }]);
    expect(reader.read(Buffer.alloc(0))).toEqual([]);
    // A chunk that ends exactly where a reply ends gives that reply at once (output is not held back).
    expect(reader.read(Buffer.from('O 8 2 2\nhi'))).toEqual([
      { kind: 'O', id: 8, stream: 'stderr', chunk: Buffer.from('hi') },
    ]);
  });
});
