// Loads every document of the docs folder, reusing extraction results from caches keyed by
// each file's size and modification time (and the extractor's own build): documents.json
// holds the full runbooks (for run and plan), index.json only the section summaries, which
// is all `list` reads, so listing a large guide stays fast.
import { walkFiles } from '../util/walk-files.js';
import { projectRoot } from '../util/project-root.js';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentRunbooks } from '../model/types.js';
import { writeAtomic } from '../util/fs.js';
import { discoverDocuments } from './discover.js';
import type { LoadOptions } from './load.js';
import { summarize, type DocumentSummary, type SectionSummary } from './summary.js';

const CACHE_FORMAT = 1;

interface CacheFile<T> {
  format: number;
  fingerprint: string;
  entries: Record<string, { mtimeMs: number; size: number; doc: T }>;
}

const indexFileOf = (cacheFile: string): string => path.join(path.dirname(cacheFile), 'index.json');

export interface CorpusOptions extends LoadOptions {
  /** Cache file; no cache when undefined. */
  cacheFile?: string;
}

export async function loadCorpus(options: CorpusOptions): Promise<DocumentRunbooks[]> {
  return (await loadCorpusEntries(options)).map((entry) => entry.doc);
}

/** Each document with its absolute path, in path order. */
export async function loadCorpusEntries(
  options: CorpusOptions,
): Promise<Array<{ path: string; doc: DocumentRunbooks }>> {
  const files = discoverDocuments(options.docsRoot);
  const fingerprint = extractorFingerprint(options);
  const cache = options.cacheFile ? readCache<DocumentRunbooks>(options.cacheFile, fingerprint) : undefined;
  const next: CacheFile<DocumentRunbooks> = { format: CACHE_FORMAT, fingerprint, entries: {} };
  let changed = cache === undefined || Object.keys(cache.entries).length !== files.length;
  // Bounded concurrency: parsing is CPU-bound, reading is not.
  const queue = files.map((file, index) => ({ file, index }));
  const results: DocumentRunbooks[] = new Array(files.length);
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item; item = queue.shift()) {
      const stat = statSync(item.file);
      const hit = cache?.entries[item.file];
      if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) {
        results[item.index] = hit.doc;
      } else {
        // The parser (unified, micromark, acorn) loads only when a document must be parsed.
        const { loadDocument } = await import('./load.js');
        results[item.index] = await loadDocument(item.file, options);
        changed = true;
      }
      next.entries[item.file] = { mtimeMs: stat.mtimeMs, size: stat.size, doc: results[item.index]! };
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  if (options.cacheFile && changed) {
    // The same JSON as JSON.stringify(next), written piece by piece so that the index can say
    // where each document's runbooks are: `plan` and `run` of one section parse only that slice.
    const writeId = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    const parts = [
      `{"format":${CACHE_FORMAT},"writeId":${JSON.stringify(writeId)},"fingerprint":${JSON.stringify(fingerprint)},"entries":{`,
    ];
    let bytes = Buffer.byteLength(parts[0]!);
    const at: Record<string, [number, number]> = {};
    Object.entries(next.entries).forEach(([file, entry], i) => {
      const head = `${i > 0 ? ',' : ''}${JSON.stringify(file)}:{"mtimeMs":${JSON.stringify(entry.mtimeMs)},"size":${entry.size},"doc":`;
      const doc = JSON.stringify(entry.doc);
      const length = Buffer.byteLength(doc);
      at[file] = [bytes + Buffer.byteLength(head), length];
      bytes += Buffer.byteLength(head) + length + 1;
      parts.push(head, doc, '}');
    });
    parts.push('}}');
    writeAtomic(options.cacheFile, parts.join(''), 0o600);
    const index: IndexFile = { format: CACHE_FORMAT, fingerprint, documentsWriteId: writeId, entries: {} };
    for (const [file, entry] of Object.entries(next.entries))
      index.entries[file] = { mtimeMs: entry.mtimeMs, size: entry.size, doc: summarize(entry.doc), at: at[file]! };
    writeAtomic(indexFileOf(options.cacheFile), JSON.stringify(index), 0o600);
  }
  return files.map((file, i) => ({ path: file, doc: results[i]! }));
}

/** index.json: each document's summary, and where its runbooks are in documents.json. */
interface IndexFile {
  format: number;
  fingerprint: string;
  /** The documents.json these offsets belong to (both files are replaced on every change). */
  documentsWriteId: string;
  entries: Record<string, { mtimeMs: number; size: number; doc: DocumentSummary; at: [number, number] }>;
}

/** The index's summaries when every document is unchanged since it was written; undefined otherwise. */
function freshIndex(options: CorpusOptions): { index: IndexFile; files: string[] } | undefined {
  if (!options.cacheFile) return undefined;
  const index = readCache<DocumentSummary>(indexFileOf(options.cacheFile), extractorFingerprint(options)) as
    IndexFile | undefined;
  const files = discoverDocuments(options.docsRoot);
  if (!index || files.length !== Object.keys(index.entries).length) return undefined;
  for (const file of files) {
    const entry = index.entries[file];
    if (!entry) return undefined;
    const stat = statSync(file);
    if (entry.mtimeMs !== stat.mtimeMs || entry.size !== stat.size) return undefined;
  }
  return { index, files };
}

/**
 * The documents whose sections `wanted` accepts (given each section's address and the document's
 * path), read from the warm cache without parsing the others; undefined when the cache cannot say
 * (missing, stale, or written by an older exec-doc): then the caller loads the whole corpus.
 */
export function loadMatchingDocuments(
  options: CorpusOptions,
  wanted: (address: string, file: string) => boolean,
): { matches: Array<{ path: string; doc: DocumentRunbooks }> } | undefined {
  const fresh = freshIndex(options);
  if (!fresh || typeof fresh.index.documentsWriteId !== 'string') return undefined;
  const files = fresh.files.filter((file) =>
    fresh.index.entries[file]!.doc.sections.some((s) => wanted(s.address, file)),
  );
  if (files.length === 0) return { matches: [] };
  // Only the header and the matching documents' slices are read, not the whole file.
  let fd: number;
  try {
    fd = openSync(options.cacheFile!, 'r');
  } catch {
    return undefined;
  }
  try {
    const read = (offset: number, length: number): string => {
      const buffer = Buffer.alloc(length);
      const got = readSync(fd, buffer, 0, length, offset);
      return buffer.toString('utf8', 0, got);
    };
    if (!read(0, 512).includes(`"writeId":${JSON.stringify(fresh.index.documentsWriteId)},`)) return undefined;
    const matches: Array<{ path: string; doc: DocumentRunbooks }> = [];
    for (const file of files) {
      const [offset, length] = fresh.index.entries[file]!.at ?? [];
      if (typeof offset !== 'number' || typeof length !== 'number') return undefined;
      try {
        matches.push({ path: file, doc: JSON.parse(read(offset, length)) as DocumentRunbooks });
      } catch {
        return undefined;
      }
    }
    return { matches };
  } finally {
    closeSync(fd);
  }
}

/** The guide's sections, sorted by address, from the index cache when every file is unchanged. */
export async function loadIndex(
  options: CorpusOptions,
): Promise<{ sections: SectionSummary[]; errors: number; warnings: number }> {
  const combine = (summaries: DocumentSummary[]) => ({
    sections: summaries
      .flatMap((s) => s.sections)
      .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0)),
    errors: summaries.reduce((n, s) => n + s.errors, 0),
    warnings: summaries.reduce((n, s) => n + s.warnings, 0),
  });
  const fresh = freshIndex(options);
  if (fresh) return combine(fresh.files.map((file) => fresh.index.entries[file]!.doc));
  return combine((await loadCorpus(options)).map(summarize));
}

/**
 * Everything `list` depends on, as one string: the extractor's build, and each document's
 * path, size and modification time. Built from stat calls only, and compared exactly (a hash
 * would need node:crypto, whose loading alone costs more than the comparison).
 */
export function corpusStamp(options: CorpusOptions): string {
  const parts = [extractorFingerprint(options)];
  for (const file of discoverDocuments(options.docsRoot)) {
    const stat = statSync(file);
    parts.push(`${file}\0${stat.size}\0${stat.mtimeMs}`);
  }
  return parts.join('\n');
}

function readCache<T>(file: string, fingerprint: string): CacheFile<T> | undefined {
  try {
    const cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile<T>;
    return cache.format === CACHE_FORMAT && cache.fingerprint === fingerprint ? cache : undefined;
  } catch {
    return undefined;
  }
}

/** Changes whenever the extractor's code, the docs root or the display root change. */
/**
 * What the cached results depend on besides the documents: every module of the engine and the
 * plugins (the model, the checks blocks, the annotations… anything could shape extraction), and
 * the installed dependencies (package-lock.json). Sizes and modification times only: a few hundred
 * stat calls, no reading.
 */
export function extractorFingerprint(options: LoadOptions): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const engine = path.resolve(here, '..');
  const plugins = path.resolve(here, '..', '..', 'plugins');
  const parts = [path.resolve(options.docsRoot), path.resolve(options.displayRoot ?? '.')];
  const code = (entry: { name: string }) => /\.(m?[jt]s|json)$/.test(entry.name);
  for (const file of [...walkFiles(engine, code), ...walkFiles(plugins, code)]) {
    const stat = statSync(file, { throwIfNoEntry: false });
    parts.push(`${path.relative(engine, file)}:${stat?.size ?? 'missing'}:${stat?.mtimeMs ?? 0}`);
  }
  let lock: ReturnType<typeof statSync> | undefined;
  try {
    lock = statSync(path.join(projectRoot(), 'package-lock.json'), { throwIfNoEntry: false });
  } catch {
    lock = undefined;
  }
  parts.push(`package-lock.json:${lock?.size ?? 'missing'}:${lock?.mtimeMs ?? 0}`);
  return parts.join('|');
}
