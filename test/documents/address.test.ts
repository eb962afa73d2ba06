import path from 'node:path';
import { writeFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveSection } from '../../src/documents/address.js';
import { loadCorpusEntries, loadMatchingDocuments } from '../../src/documents/corpus.js';
import { cli, tempDir } from '../helpers.js';

function guide(): { docsRoot: string; dir: string } {
  const dir = tempDir();
  const docsRoot = path.join(dir, 'docs');
  mkdirSync(path.join(docsRoot, 'db'), { recursive: true });
  const block = (id: string) => `\`\`\`bash {id=${id} rollback=none}\ntrue\n\`\`\`\n`;
  writeFileSync(
    path.join(docsRoot, '400_guide.md'),
    `# Guide\n\n## Upgrade\n\n${block('a')}\n## Shared name\n\n${block('b')}`,
  );
  writeFileSync(
    path.join(docsRoot, 'db', 'migrations.mdx'),
    `---\nid: schema\n---\n# DB\n\n## Shared name\n\n${block('c')}\n## Only here {#only-here}\n\n${block('d')}`,
  );
  writeFileSync(
    path.join(docsRoot, 'broken.md'),
    `# Broken\n\n## Bad\n\n\`\`\`bash {id=x retries=lots}\ntrue\n\`\`\`\n`,
  );
  return { docsRoot, dir };
}

describe('resolveSection', () => {
  it('finds <doc-id>/<slug>, the Docusaurus alias without number prefix, and front matter ids', async () => {
    const { docsRoot } = guide();
    expect((await resolveSection('400_guide/upgrade', { docsRoot })).section.address).toBe('400_guide/upgrade');
    expect((await resolveSection('guide/upgrade', { docsRoot })).section.address).toBe('400_guide/upgrade');
    expect((await resolveSection('db/schema/only-here', { docsRoot })).section.address).toBe('db/schema/only-here');
    // The file's own id stays an alias after the front matter gave the document a short one.
    expect((await resolveSection('db/migrations/only-here', { docsRoot })).section.address).toBe('db/schema/only-here');
  });

  it('accepts a unique bare slug and refuses an ambiguous one, listing both', async () => {
    const { docsRoot } = guide();
    expect((await resolveSection('only-here', { docsRoot })).section.address).toBe('db/schema/only-here');
    await expect(resolveSection('shared-name', { docsRoot })).rejects.toMatchObject({
      code: 'E_UNKNOWN_SECTION',
      details: ['400_guide/shared-name', 'db/schema/shared-name'],
    });
  });

  it('addresses any file on disk as path#slug, or by path alone when it has one section', async () => {
    const { docsRoot, dir } = guide();
    const file = path.join(docsRoot, 'db', 'migrations.mdx');
    expect((await resolveSection(`${file}#only-here`, { docsRoot })).section.slug).toBe('only-here');
    await expect(resolveSection(`${file}#only-hre`, { docsRoot })).rejects.toMatchObject({
      details: ['Closest matches:', `  ${file}#only-here`],
    });
    await expect(resolveSection(file, { docsRoot })).rejects.toThrow(/has 2 sections; add #<section>/);
    const single = path.join(dir, 'single.md');
    writeFileSync(single, '# S\n\n## One\n\n```bash {id=z rollback=none}\ntrue\n```\n');
    expect((await resolveSection(single, { docsRoot })).section.slug).toBe('one');
    await expect(resolveSection(`${dir}/missing.md#x`, { docsRoot })).rejects.toThrow(/^No such file: /);
  });

  it('refuses to run anything from a document with errors, listing them with positions', async () => {
    const { docsRoot } = guide();
    await expect(resolveSection('broken/bad', { docsRoot })).rejects.toMatchObject({
      code: 'E_DOCUMENT',
      exitCode: 64,
      details: [expect.stringMatching(/broken\.md:5:23: error: Unexpected value for `retries`/)],
    });
  });

  it('says when the guide has no sections at all', async () => {
    await expect(resolveSection('x/y', { docsRoot: tempDir() })).rejects.toMatchObject({
      details: [expect.stringMatching(/holds no executable sections/)],
    });
  });
});

describe('documents outside the docs folder', () => {
  it('keep their records inside the state folder, and plan prints a command that runs them', async () => {
    const { latestRecordPath } = await import('../../src/results/record.js');
    const state = path.join(tempDir(), '.exec-doc');
    for (const address of ['../elsewhere/doc/s', '../../x/y/z', 'a/../../b/s', './doc/s', 'docs/guide/s']) {
      const file = latestRecordPath(state, address);
      expect(path.relative(path.join(state, 'results'), file).startsWith('..'), `${address} → ${file}`).toBe(false);
    }
    const outside = tempDir();
    const inside = tempDir();
    writeFileSync(path.join(outside, 'doc.md'), '# D\n\n## S\n\n```bash {id=a rollback=none}\necho ran\n```\n');
    const relative = path.relative(inside, path.join(outside, 'doc.md'));
    const plan = await cli(['plan', `${relative}#s`, '--docs', '.'], { cwd: inside });
    expect(plan.exitCode, plan.stderr).toBe(0);
    const line = plan.stdout.split('\n').find((l) => l.startsWith('Run it:'))!;
    expect(line).toBe(`Run it: npm run exec-doc -- run ${relative}#s`);
    const run = await cli(['run', line.replace('Run it: npm run exec-doc -- run ', ''), '--docs', '.'], {
      cwd: inside,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    // Nothing was written beside the document or anywhere out of the state folder.
    expect(readdirSync(outside)).toEqual(['doc.md']);
    expect(readdirSync(inside)).toEqual(['.exec-doc']);
  });
});

describe('the document cache', () => {
  it('is keyed on every module that shapes extraction (the model, checks blocks, plugins) and on the installed dependencies', async () => {
    const { extractorFingerprint } = await import('../../src/documents/corpus.js');
    const parts = extractorFingerprint({ docsRoot: tempDir() })
      .split('|')
      .map((p) => p.split(':')[0]);
    for (const module of [
      'model/hash',
      'model/types',
      'checks/block',
      'placeholders/index',
      'extract/extract',
      'annotations/fields',
    ]) {
      expect(
        parts.some((p) => p?.replace(/\\/g, '/').startsWith(module)),
        module,
      ).toBe(true);
    }
    expect(parts.some((p) => p?.includes('remark-exec-doc'))).toBe(true);
    expect(parts).toContain('package-lock.json');
  });
});

describe('resolving one section from the warm cache', () => {
  const addresses = [
    '400_guide/upgrade',
    'guide/upgrade',
    'db/schema/only-here',
    'db/migrations/only-here',
    'only-here',
  ];

  it('finds the same sections as a full load, reading only the document that holds them', async () => {
    const { docsRoot, dir } = guide();
    const cacheFile = path.join(dir, '.exec-doc', 'cache', 'documents.json');
    const cold = await Promise.all(addresses.map((a) => resolveSection(a, { docsRoot })));
    await loadCorpusEntries({ docsRoot, cacheFile }); // warms the cache
    const warm = await Promise.all(addresses.map((a) => resolveSection(a, { docsRoot, cacheFile })));
    expect(warm.map((r) => [r.section, r.path])).toEqual(cold.map((r) => [r.section, r.path]));
    const quick = loadMatchingDocuments({ docsRoot, cacheFile }, (address) => address === 'db/schema/only-here');
    expect(quick?.matches.map((m) => path.relative(docsRoot, m.path))).toEqual([path.join('db', 'migrations.mdx')]);
    expect(quick?.matches[0]!.doc).toEqual(cold[2]!.document);
    // What the quick path cannot settle goes the full way: ambiguity, errors, unknown names.
    await expect(resolveSection('shared-name', { docsRoot, cacheFile })).rejects.toMatchObject({
      code: 'E_UNKNOWN_SECTION',
    });
    await expect(resolveSection('broken/bad', { docsRoot, cacheFile })).rejects.toMatchObject({ code: 'E_DOCUMENT' });
    await expect(resolveSection('guide/upgrad', { docsRoot, cacheFile })).rejects.toMatchObject({
      code: 'E_UNKNOWN_SECTION',
    });
  });

  it('is not used when the document changed, or the runbooks file is not the one the index was written with', async () => {
    const { docsRoot, dir } = guide();
    const cacheFile = path.join(dir, '.exec-doc', 'cache', 'documents.json');
    await loadCorpusEntries({ docsRoot, cacheFile });
    const wanted = (address: string) => address === '400_guide/upgrade';
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)?.matches).toHaveLength(1);
    // Another writer replaced documents.json (its index not yet): offsets would point elsewhere.
    const text = readFileSync(cacheFile, 'utf8');
    writeFileSync(cacheFile, text.replace(/"writeId":"[^"]+"/, '"writeId":"someone-else"'));
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)).toBeUndefined();
    writeFileSync(cacheFile, text.slice(0, 200));
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)).toBeUndefined();
    writeFileSync(cacheFile, text);
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)?.matches).toHaveLength(1);
    // The document changed since: the index is stale, and resolving reads the new text.
    const file = path.join(docsRoot, '400_guide.md');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('## Upgrade\n\n```bash {id=a', '## Upgrade\n\n```bash {id=renamed'),
    );
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)).toBeUndefined();
    const r = await resolveSection('400_guide/upgrade', { docsRoot, cacheFile });
    expect(r.section.steps.map((s) => s.id)).toEqual(['renamed']);
    expect(loadMatchingDocuments({ docsRoot, cacheFile }, wanted)?.matches[0]!.doc.sections[0]!.steps[0]!.id).toBe(
      'renamed',
    );
  });

  it('writes the runbooks file as the JSON it always was', async () => {
    const { docsRoot, dir } = guide();
    const cacheFile = path.join(dir, '.exec-doc', 'cache', 'documents.json');
    const docs = await loadCorpusEntries({ docsRoot, cacheFile });
    const parsed = JSON.parse(readFileSync(cacheFile, 'utf8')) as { entries: Record<string, { doc: unknown }> };
    expect(Object.fromEntries(Object.entries(parsed.entries).map(([f, e]) => [f, e.doc]))).toEqual(
      Object.fromEntries(docs.map((d) => [d.path, d.doc])),
    );
  });
});
