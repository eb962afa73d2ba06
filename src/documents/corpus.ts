// Loads every document of the docs folder, reusing extraction results from a cache keyed by
// each file's size and modification time (and the extractor's own build), so that `list`
// on a large guide stays fast.
import { readFileSync, statSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DocumentRunbooks } from '../model/types.js';
import { writeAtomic } from '../runner/state.js';
import { discoverDocuments } from './discover.js';
import { loadDocument, type LoadOptions } from './load.js';

const CACHE_FORMAT = 1;

interface CacheFile {
  format: number;
  fingerprint: string;
  entries: Record<string, { mtimeMs: number; size: number; doc: DocumentRunbooks }>;
}

export interface CorpusOptions extends LoadOptions {
  /** Cache file; no cache when undefined. */
  cacheFile?: string;
}

export async function loadCorpus(options: CorpusOptions): Promise<DocumentRunbooks[]> {
  const files = discoverDocuments(options.docsRoot);
  const fingerprint = extractorFingerprint(options);
  const cache = options.cacheFile ? readCache(options.cacheFile, fingerprint) : undefined;
  const next: CacheFile = { format: CACHE_FORMAT, fingerprint, entries: {} };
  let changed = cache === undefined || Object.keys(cache.entries).length !== files.length;
  const docs: DocumentRunbooks[] = [];
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
        results[item.index] = await loadDocument(item.file, options);
        changed = true;
      }
      next.entries[item.file] = { mtimeMs: stat.mtimeMs, size: stat.size, doc: results[item.index]! };
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  docs.push(...results);
  if (options.cacheFile && changed) writeAtomic(options.cacheFile, JSON.stringify(next));
  return docs;
}

function readCache(file: string, fingerprint: string): CacheFile | undefined {
  try {
    const cache = JSON.parse(readFileSync(file, 'utf8')) as CacheFile;
    return cache.format === CACHE_FORMAT && cache.fingerprint === fingerprint ? cache : undefined;
  } catch {
    return undefined;
  }
}

/** Changes whenever the extractor's code, the docs root or the display root change. */
function extractorFingerprint(options: LoadOptions): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dirs = [path.join(here, '..', 'extract'), path.join(here, '..', 'annotations'), path.join(here, '..', '..', 'plugins', 'remark-exec-doc'), here];
  const parts = [path.resolve(options.docsRoot), path.resolve(options.displayRoot ?? '.')];
  for (const dir of dirs) {
    try {
      for (const name of readdirSync(dir).sort()) parts.push(`${name}:${statSync(path.join(dir, name)).mtimeMs}`);
    } catch {
      parts.push(`${dir}:missing`);
    }
  }
  return parts.join('|');
}
