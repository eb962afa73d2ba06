// The built site in a real browser: Debian's Chromium driven by Playwright (never a downloaded
// browser), against the production build served on 127.0.0.1. The build happens here, after
// a real run of the quick-start procedure, so that its "last verified" badge has a record.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { BIN, ROOT, tempDir } from '../helpers.js';
import { serveStatic } from './static-server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
let site: { url: string; close(): Promise<void> };
let browser: Browser;
let buildDir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH`,
    );
  const stateDir = tempDir('exec-doc-site-');
  buildDir = path.join(stateDir, 'build');
  const run = await execa(process.execPath, [BIN, 'run', 'quick-start/demo-migration', '--state-dir', stateDir], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: '1' },
  });
  expect(run.exitCode, String(run.stdout)).toBe(0);
  // An older version of a real procedure, run for real: its record no longer matches the page.
  const olderDocs = path.join(stateDir, 'older-docs');
  mkdirSync(olderDocs);
  const reference = readFileSync(
    path.join(ROOT, 'docs', '400_migration-upgrade-guide_annotation-reference.mdx'),
    'utf8',
  );
  writeFileSync(
    path.join(olderDocs, '400_migration-upgrade-guide_annotation-reference.mdx'),
    reference.replace('workers=4', 'workers=2'),
  );
  const older = await execa(
    process.execPath,
    [BIN, 'run', 'annotation-reference/example-rollback', '--docs', olderDocs, '--state-dir', stateDir],
    { cwd: ROOT, reject: false, env: { NO_COLOR: '1' } },
  );
  expect(older.exitCode, String(older.stdout)).toBe(0);
  // A procedure with a checks block: each check's answer shows under its step.
  const checked = await execa(process.execPath, [BIN, 'run', 'validation/example-config', '--state-dir', stateDir], {
    cwd: ROOT,
    reject: false,
    env: { NO_COLOR: '1' },
  });
  expect(checked.exitCode, String(checked.stdout)).toBe(0);
  const build = await execa('npx', ['docusaurus', 'build', '--out-dir', buildDir], {
    cwd: ROOT,
    reject: false,
    all: true,
    env: { EXEC_DOC_STATE_DIR: stateDir },
  });
  expect(build.exitCode, String(build.all)).toBe(0);
  site = await serveStatic(buildDir);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** A page that records console errors, failed requests and uncaught exceptions. */
async function open(route: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
  await page.goto(`${site.url}${route}`, { waitUntil: 'networkidle' });
  return { page, problems };
}

describe('the published guide', () => {
  it('navigates through the sidebar and the table of contents', async () => {
    const { page, problems } = await open('/');
    await expect(page.locator('h1').textContent()).resolves.toBe('Migration & Upgrade Guide');
    await page.locator('.theme-doc-sidebar-container a', { hasText: 'Rollback procedures' }).click();
    await page.waitForURL(/\/rollback$/);
    // Client-side navigation: the URL changes before the new page is rendered.
    await page.locator('h1', { hasText: 'Rollback procedures' }).waitFor();
    await expect(page.locator('h1').textContent()).resolves.toBe('Rollback procedures');
    await page.locator('.table-of-contents a', { hasText: 'Writing a good rollback' }).click();
    await page.waitForURL(/#writing-a-good-rollback$/);
    await expect(page.locator('#writing-a-good-rollback').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(SHOTS, 'rollback.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('finds a procedure with the offline search', async () => {
    const { page, problems } = await open('/');
    await page.locator('input.navbar__search-input').fill('backfill');
    const hit = page.locator('[role=option]', { hasText: 'Quick start' }).first();
    await hit.waitFor({ timeout: 15_000 });
    await page.screenshot({ path: path.join(SHOTS, 'search.png') });
    await hit.click();
    await page.waitForURL(/\/quick-start/);
    await page.locator('h1', { hasText: 'Quick start' }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows each step with its metadata and rollback link, and the last verified run', async () => {
    const { page, problems } = await open('/quick-start');
    const section = page.locator('[data-address="quick-start/demo-migration"]');
    await expect(section.locator('code').first().textContent()).resolves.toBe(
      'npm run exec-doc -- quick-start/demo-migration',
    );
    const badge = section.getByTestId('last-verified');
    const badgeText = (await badge.textContent()) ?? '';
    // This machine's run is newer than the published record: it wins, and says where it ran.
    expect(badgeText).toMatch(
      /^Last verified \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(linux x64, Node v\d+\.\d+\.\d+, PostgreSQL 18\.\d+ \(embedded\)\): passed in \d/,
    );
    // A run of the procedure as it is now is current, not stale.
    expect(badgeText).not.toContain('stale');
    await badge.locator('summary').click();
    await expect(badge.locator('tr').count()).resolves.toBe(6);
    // Not run here: the record the repository carries (verification/) is shown, with its commit.
    await expect(
      page.locator('[data-address="quick-start/demo-migration-failing"]').getByTestId('last-verified').textContent(),
    ).resolves.toMatch(
      /^Last verified [\d-]+ [\d:]+ UTC \(commit [0-9a-f]{7}; linux x64, Node v[\d.]+, PostgreSQL 18\.\d+ \(embedded\)\): failed, rolled back in /,
    );

    const validation = await open('/validation');
    const checked = validation.page.locator('[data-address="validation/example-config"]').getByTestId('last-verified');
    await checked.locator('summary').click();
    await expect(checked.locator('tr[data-check="config.schema"]').textContent()).resolves.toMatch(
      /^↳ config\.schema\s*check\s*pass\s*0 violations$/,
    );
    expect(validation.problems).toEqual([]);
    await validation.page.close();

    const stale = await open('/annotation-reference');
    await expect(
      stale.page
        .locator('[data-address="annotation-reference/example-rollback"]')
        .getByTestId('last-verified')
        .textContent(),
    ).resolves.toMatch(/: passed in .* — stale: the procedure changed since this run/);
    await stale.page.close();

    const step = page.locator('[data-step-id="add-status-column"]');
    await expect(step.textContent()).resolves.toMatch(
      /^step\s*add-status-column\s*timeout 30s\s*requires postgres\s*undone by drop-status-column$/,
    );
    await step.locator('a', { hasText: 'drop-status-column' }).click();
    await page.waitForURL(/#step-drop-status-column$/);
    await expect(page.locator('#step-drop-status-column').getAttribute('data-kind')).resolves.toBe('rollback');
    await section.screenshot({ path: path.join(SHOTS, 'runbook-section.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('draws the load, latency and CPU of the performance procedure across its steps', async () => {
    const { page, problems } = await open('/performance');
    const chart = page.locator('[data-address="performance/under-load"]').getByTestId('run-chart');
    await chart.scrollIntoViewIfNeeded();
    for (const series of ['cpu', 'sessions', 'loadTps', 'loadP99Ms']) {
      const points = (await chart.locator(`polyline[data-series="${series}"]`).getAttribute('points')) ?? '';
      // At least a few seconds of samples, each an x,y pair inside the drawing.
      const pairs = points.split(' ').map((p) => p.split(',').map(Number));
      expect(pairs.length, series).toBeGreaterThanOrEqual(3);
      for (const [x, y] of pairs) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThanOrEqual(640);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThanOrEqual(150);
      }
    }
    // The steps are bands on the same time axis, the migration's among them.
    await expect(chart.locator('g[data-step="ul-backfill"] rect').count()).resolves.toBe(1);
    await expect(chart.locator('figcaption').textContent()).resolves.toMatch(/loadP99Ms \(peak [\d.]+ ms\)/);
    await chart.screenshot({ path: path.join(SHOTS, 'impact-chart.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('every page loads without console errors, and every internal link resolves', async () => {
    const sitemap = readFileSync(path.join(buildDir, 'sitemap.xml'), 'utf8');
    const routes = [...sitemap.matchAll(/<loc>[^<]*?(\/[^<]*)<\/loc>/g)].map(
      (m) => new URL(m[1]!, 'http://x').pathname,
    );
    expect(routes.length).toBeGreaterThanOrEqual(16);
    const links = new Set<string>();
    for (const route of routes) {
      const { page, problems } = await open(route);
      expect(problems, route).toEqual([]);
      // Every procedure shows a real verification state: the published records cover the guide.
      for (const badge of await page.getByTestId('last-verified').allTextContents())
        expect(badge, route).toMatch(/^(Last verified|Cannot be verified on the verification machine) /);
      for (const href of await page
        .locator('a[href]')
        .evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href))) {
        if (href.startsWith(site.url)) links.add(href.split('#')[0]!);
      }
      await page.close();
    }
    for (const link of links) {
      const response = await fetch(link);
      expect(response.status, link).toBe(200);
    }
  });

  it('serves llms.txt, the .md copies and a runbooks.json valid against its published schema', async () => {
    const llms = await (await fetch(`${site.url}/llms.txt`)).text();
    expect(llms.startsWith('# Migration & Upgrade Guide\n\n> ')).toBe(true);
    expect((await fetch(`${site.url}/quick-start.md`)).status).toBe(200);
    expect((await fetch(`${site.url}/llms-full.txt`)).status).toBe(200);
    const index = await (await fetch(`${site.url}/runbooks.json`)).json();
    const schema = (await (await fetch(`${site.url}/schemas/runbooks.schema.json`)).json()) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(index), JSON.stringify(validate.errors)).toBe(true);
  });
});
