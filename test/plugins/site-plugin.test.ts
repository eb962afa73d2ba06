// The Docusaurus plugin's pieces on the real guide and on fixture sites: build-time
// validation, last-verified data from real result records, and the outputs for agents.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import GithubSlugger from 'github-slugger';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { unified } from 'unified';
import remarkParse from 'remark-parse';
import { VFile } from 'vfile';
import type { Root } from 'mdast';
import execDocSitePlugin from '../../plugins/docusaurus-exec-doc/index.js';
import { readLatestRuns } from '../../src/agents/last-runs.js';
import { pageInfo, runbooksIndex, writeAgentOutputs, markdownCopyPath } from '../../src/agents/outputs.js';
import remarkExecDoc from '../../plugins/remark-exec-doc/index.js';
import { extract, ROOT, runDoc, tempDir } from '../helpers.js';

const SITES = path.join(ROOT, 'test', 'fixtures', 'sites');
const plugin = (siteDir: string, stateDir?: string) =>
  execDocSitePlugin({ siteDir } as never, { docsRoot: 'docs', ...(stateDir ? { stateDir } : {}) });

describe('docusaurus-exec-doc', () => {
  it('fails the build with positioned messages when the guide has errors', async () => {
    await expect(plugin(path.join(SITES, 'broken-link')).loadContent!()).rejects.toThrow(
      /the guide has 1 error\(s\)[\s\S]*docs\/hub\.mdx:16:8: error: Unexpected link `\.\/missing\.mdx`/,
    );
  });

  it('loads the real guide with the last runs, and writes the agent outputs', async () => {
    const run = await runDoc('# T\n\n## Proc\n\n```bash {id=a rollback=none}\ntrue\n```\n', 'proc');
    const content = (await plugin(ROOT, run.stateDir).loadContent!())!;
    // The record's hash is the section's, as extraction computes it (not the record compared with itself).
    const section = (await extract('# T\n\n## Proc\n\n```bash {id=a rollback=none}\ntrue\n```\n')).sections[0]!;
    expect(section.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(content.lastRuns['doc/proc']).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      contentHash: section.contentHash,
      steps: [{ stepId: 'a', phase: 'forward', status: 'passed' }],
    });
    expect(content.pages.length).toBeGreaterThanOrEqual(15);
    // A checks block's answers reach the page with its step.
    const checked = await runDoc(
      '# T\n\n## Checked\n\n```checks {id=gate phase=pre}\nchecks:\n  host.memory:\n```\n',
      'checked',
      { stateDir: run.stateDir },
    );
    expect(checked.exitCode).toBe(0);
    const withChecks = (await plugin(ROOT, run.stateDir).loadContent!())!;
    expect(withChecks.lastRuns['doc/checked']!.steps[0]).toMatchObject({
      stepId: 'gate',
      status: 'passed',
      checks: [{ name: 'host.memory', status: 'pass', value: expect.stringMatching(/ available$/) }],
    });

    const outDir = tempDir();
    writeAgentOutputs({
      outDir,
      pages: content.pages,
      siteUrl: 'https://guide.example/',
      title: 'Migration & Upgrade Guide',
      tagline: 'Executable procedures.',
    });
    const llms = readFileSync(path.join(outDir, 'llms.txt'), 'utf8');
    expect(llms).toMatch(/^# Migration & Upgrade Guide\n\n> Executable procedures\.\n/);
    const linked = [...llms.matchAll(/\]\(https:\/\/guide\.example\/([^)]+\.md)\)/g)].map((m) => m[1]!);
    expect(linked.length).toBe(content.pages.length);
    for (const file of linked) expect(existsSync(path.join(outDir, file)), file).toBe(true);
    // Every link in what agents read resolves in the published site: the .md copies, llms.txt,
    // llms-full.txt (to a copy and one of its headings, or a static file), none to a source .mdx.
    const published = ['llms.txt', 'llms-full.txt', ...linked];
    const headingsOf = (file: string) =>
      new Set(
        [...readFileSync(path.join(outDir, file), 'utf8').matchAll(/^#{1,6} (.*)$/gm)].map((m) => {
          const id = /\{#([^}]+)\}\s*$/.exec(m[1]!);
          return id ? id[1]! : new GithubSlugger().slug(m[1]!.replace(/`/g, ''));
        }),
      );
    let checkedLinks = 0;
    for (const file of published) {
      const text = readFileSync(path.join(outDir, file), 'utf8');
      expect(text, file).not.toMatch(
        /\]\([^)]*\.mdx[)#]|\]\(pathname:\/\/|<!-- (CONTEXT|MODULE)_REFERENCE: [^ ]*\.mdx/,
      );
      for (const m of text.matchAll(
        /\]\((https:\/\/guide\.example\/[^)\s]*)\)|REFERENCE: (https:\/\/guide\.example\/\S+)/g,
      )) {
        const [target, anchor] = (m[1] ?? m[2]!).replace('https://guide.example/', '').split('#') as [string, string?];
        const where = path.join(outDir, target);
        const exists = existsSync(where) || existsSync(path.join(ROOT, 'static', target));
        expect(exists, `${file}: ${m[0]}`).toBe(true);
        if (anchor && target.endsWith('.md')) expect(headingsOf(target).has(anchor), `${file}: ${m[0]}`).toBe(true);
        checkedLinks += 1;
      }
    }
    expect(checkedLinks).toBeGreaterThan(100);
    // A page says whether it holds procedures: an agent is not promised a rollback that does not exist.
    expect(llms).toMatch(/\[Security\]\([^)]+\): .* \(4 executable procedures\)\n/);
    expect(llms).toMatch(
      /\[Pre-upgrade checklist\]\([^)]+\): .* \(reference only: no executable procedure on this page yet\)\n/,
    );
    expect(readFileSync(path.join(outDir, 'index.md'), 'utf8')).toMatch(
      /^<!-- CONTEXT_REFERENCE[\s\S]*\n# Migration & Upgrade Guide\n/,
    );
    expect(readFileSync(path.join(outDir, 'llms-full.txt'), 'utf8')).toContain('# Quick start');

    const index = JSON.parse(readFileSync(path.join(outDir, 'runbooks.json'), 'utf8'));
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'static', 'schemas', 'runbooks.schema.json'), 'utf8'));
    const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
    expect(validate(index), JSON.stringify(validate.errors)).toBe(true);
    expect(index.sections.find((s: { address: string }) => s.address === 'quick-start/demo-migration')).toMatchObject({
      page: '/quick-start#demo-migration',
      command: 'npm run exec-doc -- quick-start/demo-migration',
      rollbacks: expect.arrayContaining([{ step: 'add-status-column', rollback: 'drop-status-column' }]),
    });
    // What an agent needs to choose and trust a procedure without opening the page.
    const rotation = index.sections.find(
      (s: { address: string }) => s.address === 'security/rotate-a-database-password',
    );
    expect(rotation.summary).toMatch(/^The application keeps connecting while its credentials change/);
    expect(rotation.keywords).toEqual(expect.arrayContaining(['security', 'operator', 'database']));
    expect(rotation.steps.find((st: { id: string }) => st.id === 'rot-setup')).toMatchObject({
      kind: 'setup',
      fixture: true,
    });
    expect(rotation.steps.find((st: { id: string }) => st.id === 'rot-move-app').code).toContain('dbapp.sh switch');
    expect(rotation.lastVerified).toBeNull();
    // With a record of this exact content, the index says when it was last verified; a stale one is not shown.
    const record = {
      runId: 'r1',
      status: 'succeeded' as const,
      exitCode: 0,
      finishedAt: '2026-11-24T09:00:00.000Z',
      durationMs: 8900,
      contentHash: rotation.contentHash,
      steps: [],
    };
    const withRuns = runbooksIndex(content.pages, { [rotation.address]: record });
    expect(withRuns.sections.find((s) => s.address === rotation.address)!.lastVerified).toEqual({
      runId: 'r1',
      status: 'succeeded',
      exitCode: 0,
      finishedAt: '2026-11-24T09:00:00.000Z',
      durationMs: 8900,
    });
    expect(validate(withRuns), JSON.stringify(validate.errors)).toBe(true);
    const stale = runbooksIndex(content.pages, { [rotation.address]: { ...record, contentHash: 'sha256:old' } });
    expect(stale.sections.find((s) => s.address === rotation.address)!.lastVerified).toBeNull();
    // Deterministic: the same guide gives the same bytes.
    expect(JSON.stringify(runbooksIndex(content.pages))).toBe(JSON.stringify(index));
  });

  it('never publishes a secret parameter value', async () => {
    const content = (await plugin(ROOT).loadContent!())!;
    const index = runbooksIndex(content.pages);
    const token = index.sections
      .find((s) => s.address === 'annotation-reference/example-parameters')!
      .params.find((p) => p.name === 'api_token')!;
    expect(token).toMatchObject({ secret: true });
    expect('default' in token).toBe(false);
  });

  it('maps pages to the routes Docusaurus serves', () => {
    const page = (source: string, docId = 'd') =>
      pageInfo({
        absolutePath: '/x',
        file: 'x',
        source,
        runbooks: { file: 'x', docId, title: 'T', sections: [], diagnostics: [] },
      });
    expect(page('---\nslug: /\ntitle: Hub\n---\n# Hub\n').route).toBe('/');
    expect(page('---\nid: quick-start\n---\nText\n').route).toBe('/quick-start');
    expect(page('Body\n', 'guides/x')).toMatchObject({ route: '/guides/x', markdown: '# T\n\nBody\n' });
    expect(markdownCopyPath('/')).toBe('index.md');
    expect(markdownCopyPath('/a/b')).toBe('a/b.md');
  });

  it('skips unreadable and foreign result files', () => {
    const dir = path.join(SITES, 'good');
    expect(readLatestRuns(path.join(dir, 'no-such-folder'))).toEqual({});
    expect(readdirSync(dir)).toContain('docs');
  });
});

describe('remark-exec-doc annotate', () => {
  it('puts a RunbookSection after each runbook heading and a RunbookStep before each executable block', async () => {
    const file = new VFile({
      path: '/site/docs/g.md',
      value:
        '# G\n\n## Proc {#proc}\n\n```bash {id=a rollback=undo timeout=30s}\ntrue\n```\n\n```bash {id=undo}\ntrue\n```\n\n```bash\nexample\n```\n',
    });
    const processor = unified().use(remarkParse).use(remarkExecDoc, { docsRoot: '/site/docs', annotate: true });
    const tree = (await processor.run(processor.parse(file), file)) as Root;
    const shape = tree.children.map((n) =>
      n.type === 'mdxJsxFlowElement'
        ? `<${n.name} ${n.attributes
            .map((a) => ('name' in a ? `${a.name}=${String(a.value)}` : ''))
            .filter((a) => /^(id|address|rollback|timeout|command)=/.test(a))
            .join(' ')}>`
        : n.type,
    );
    expect(shape).toEqual([
      'heading',
      'heading',
      '<RunbookSection address=g/proc command=npm run exec-doc -- g/proc>',
      '<RunbookStep id=a timeout=30s rollback=undo>',
      'code',
      '<RunbookStep id=undo timeout=10m rollback=>',
      'code',
      'code',
    ]);
  });
});
