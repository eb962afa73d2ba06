// The checks configuration and `checks` blocks: defaults, overrides, and every problem as
// file:line:column with what was expected.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ExecDocError } from '../../src/errors/exec-doc-error.js';
import { findConfigFile, loadChecksConfig, phaseChecks } from '../../src/checks/config.js';
import { parseChecksBlock, planChecksBlock } from '../../src/checks/block.js';
import { CHECKS, DEFAULT_PHASES } from '../../src/checks/registry.js';
import { ROOT, tempDir } from '../helpers.js';
import { runCheck } from './helpers.js';

function configFile(text: string): string {
  const file = path.join(tempDir(), 'exec-doc.checks.yaml');
  writeFileSync(file, text);
  return file;
}

function problems(file: string): string[] {
  try {
    loadChecksConfig(file);
  } catch (error) {
    expect(error).toBeInstanceOf(ExecDocError);
    expect((error as ExecDocError).exitCode).toBe(64);
    return (error as ExecDocError).details;
  }
  throw new Error('expected the configuration to be refused');
}

describe('checks configuration', () => {
  it('has a default for everything, and the project file is valid', () => {
    const defaults = loadChecksConfig(null);
    expect(phaseChecks(defaults, 'pre-upgrade').map((c) => c.name)).toEqual(DEFAULT_PHASES['pre-upgrade']);
    expect(defaults.checks.get('postgres.connections')!.settings).toEqual({
      warnPercent: 70,
      failPercent: 90,
      reserve: 5,
    });
    const project = loadChecksConfig(path.join(ROOT, 'exec-doc.checks.yaml'));
    expect(project.checks.get('ledger.consistent')!.settings.migrations).toBe(
      path.join(ROOT, 'scripts', 'procedures', 'database', 'orders'),
    );
    // Every check appears in some phase of the shipped file.
    const used = new Set(Object.values(project.phases).flat());
    expect(CHECKS.map((c) => c.type).filter((t) => !used.has(t))).toEqual([]);
  });

  it('applies thresholds, named instances, a global timeout and relative paths', () => {
    const file = configFile(
      'timeoutMs: 2500\nchecks:\n  postgres.connections: { warnPercent: 50 }\n  api.health:\n    type: http.health\n    url: http://127.0.0.1:8080/healthz\n    timeoutMs: 900\n  backup.fresh: { dir: ./backups }\nphases:\n  pre-upgrade: [postgres.connections, api.health, backup.fresh]\nprometheus: { file: metrics/checks.prom }\n',
    );
    const config = loadChecksConfig(file);
    const [connections, api, backup] = phaseChecks(config, 'pre-upgrade');
    expect(connections).toMatchObject({
      name: 'postgres.connections',
      timeoutMs: 2500,
      settings: { warnPercent: 50, failPercent: 90 },
    });
    expect(api).toMatchObject({
      name: 'api.health',
      timeoutMs: 900,
      settings: { url: 'http://127.0.0.1:8080/healthz', expectStatus: [200] },
    });
    expect(api!.definition.type).toBe('http.health');
    expect(backup!.settings.dir).toBe(path.join(path.dirname(file), 'backups'));
    expect(config.prometheusFile).toBe(path.join(path.dirname(file), 'metrics', 'checks.prom'));
    expect(phaseChecks(config, 'post-upgrade').map((c) => c.name)).toEqual(DEFAULT_PHASES['post-upgrade']);
  });

  it('reports every problem with its position, and what was expected', () => {
    const file = configFile(
      [
        'checks:',
        '  postgres.connections:',
        '    warnPercent: lots',
        '    failPercnt: 95',
        '  postgres.reachble: {}',
        '  web:',
        '    type: http.health',
        '    url: not a url',
        '  container.image: { expectImage: latest }',
        'phases:',
        '  pre-upgrade: [postgres.connections, host.memroy]',
        '  during: []',
        '',
      ].join('\n'),
    );
    const out = problems(file);
    expect(out).toEqual([
      `${file}:3:18: error: Unexpected value for \`warnPercent\` in \`postgres.connections\`: expected number, received string [checks-config]`,
      `${file}:4:5: error: Unexpected setting \`failPercnt\` in \`postgres.connections\`, expected one of type, timeoutMs, warnPercent, failPercent, reserve [checks-config]`,
      `${file}:5:3: error: Unexpected check type \`postgres.reachble\`, expected one of the checks in the validation reference (did you mean \`postgres.reachable\`?); a check of your own name needs \`type: <check>\` [checks-config]`,
      `${file}:8:10: error: Unexpected value for \`url\` in \`web\`: Invalid URL [checks-config]`,
      `${file}:9:35: error: Unexpected value for \`expectImage\` in \`container.image\`: an image digest: sha256:<64 hex>, or an image id of at least 12 hex digits [checks-config]`,
      `${file}:11:39: error: Unexpected check \`host.memroy\` in phase pre-upgrade, expected a check type or a name under \`checks:\` (did you mean \`host.memory\`?) [checks-config]`,
      `${file}:12:3: error: Unexpected setting \`during\` in exec-doc.checks.yaml, expected one of version, timeoutMs, checks, phases, prometheus, pre-upgrade, post-upgrade, post-rollback [checks-config]`,
    ]);
    const top = problems(configFile('phases:\n  during: []\n'));
    expect(top[0]).toMatch(
      /:2:3: error: Unexpected setting `during` in exec-doc.checks.yaml, expected one of version, timeoutMs, checks, phases, prometheus, pre-upgrade, post-upgrade, post-rollback/,
    );
  });

  it('refuses broken YAML and a missing file with a clear message', () => {
    expect(problems(configFile('checks:\n  a: [1, 2\n'))[0]).toMatch(
      /exec-doc\.checks\.yaml:\d+:\d+: error: Unexpected YAML: /,
    );
    expect(() => loadChecksConfig('/nonexistent/exec-doc.checks.yaml')).toThrow(
      /Cannot read the checks configuration \/nonexistent\/exec-doc\.checks\.yaml: it does not exist/,
    );
  });

  it('finds the nearest file above a folder', () => {
    const file = configFile('version: 1\n');
    const deep = path.join(path.dirname(file), 'a', 'b');
    expect(findConfigFile(deep)).toBe(file);
  });
});

describe('checks blocks', () => {
  it('plan a phase from the configuration, with the block overriding and adding checks', () => {
    const file = configFile('checks:\n  postgres.long-transactions: { warnSeconds: 5 }\n');
    const config = loadChecksConfig(file);
    const planned = planChecksBlock(
      'phase: post-rollback\nchecks:\n  postgres.long-transactions: { failSeconds: 30 }\n  snapshot.identical: { dataOnly: true }\n  orders.ledger: { type: ledger.consistent, migrations: ../migrations }\n',
      config,
      '/docs/guide',
      { file: 'g.md', line: 10 },
      {},
    );
    expect(planned.map((p) => p.name)).toEqual([
      ...DEFAULT_PHASES['post-rollback'],
      'postgres.long-transactions',
      'orders.ledger',
    ]);
    expect(planned.find((p) => p.name === 'postgres.long-transactions')!.settings).toMatchObject({
      warnSeconds: 5,
      failSeconds: 30,
    });
    expect(planned.find((p) => p.name === 'snapshot.identical')!.settings).toMatchObject({ dataOnly: true });
    expect(planned.find((p) => p.name === 'orders.ledger')!.settings.migrations).toBe('/docs/migrations');
  });

  it('take ${NAME} from the step environment when they run, and refuse an unset one', () => {
    const config = loadChecksConfig(null);
    const code =
      'checks:\n  http.health: { url: "http://127.0.0.1:${PORT}/healthz" }\n  snapshot.identical: { file: "${EXEC_DOC_RUN_DIR}/before.json" }\n';
    expect(parseChecksBlock(code).problems).toEqual([]);
    const planned = planChecksBlock(
      code,
      config,
      '/docs',
      { file: 'g.md', line: 4 },
      { PORT: '8080', EXEC_DOC_RUN_DIR: '/runs/r1' },
    );
    expect(planned.map((p) => p.settings.url ?? p.settings.file)).toEqual([
      'http://127.0.0.1:8080/healthz',
      '/runs/r1/before.json',
    ]);
    expect(() => planChecksBlock(code, config, '/docs', { file: 'g.md', line: 4 }, { EXEC_DOC_RUN_DIR: '/r' })).toThrow(
      expect.objectContaining({
        details: [
          "g.md:6:41: Unexpected `${PORT}`: no variable PORT is set for this step, expected one of the step's environment variables (e.g. ${EXEC_DOC_RUN_DIR}) or a value handed on by an earlier step",
        ],
      }),
    );
  });

  it('report problems with positions inside the block', () => {
    expect(parseChecksBlock('phase: during\n').problems).toEqual([
      {
        ruleId: 'checks-block',
        line: 1,
        column: 8,
        message:
          'Unexpected value for `phase` in the checks block: expected one of "pre-upgrade"|"post-upgrade"|"post-rollback"',
      },
    ]);
    expect(parseChecksBlock('checks:\n  http.health: { urll: x }\n').problems[0]).toEqual({
      ruleId: 'checks-block',
      line: 2,
      column: 18,
      message: expect.stringMatching(
        /^Unexpected setting `urll` in `http.health`, expected one of type, timeoutMs, url, method/,
      ),
    });
    expect(parseChecksBlock('').problems[0]!.message).toMatch(
      /^Unexpected empty checks block, expected `phase: <pre-upgrade\|post-upgrade\|post-rollback>`/,
    );
    expect(parseChecksBlock('checks: [a\n').problems[0]!.message).toMatch(/^Unexpected YAML in the checks block/);
  });
});

describe('config.schema', () => {
  const schema = {
    type: 'object',
    additionalProperties: false,
    required: ['port', 'database'],
    properties: {
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      database: { type: 'object', properties: { pool: { type: 'integer', minimum: 1 } } },
      mode: { enum: ['blue', 'green'] },
    },
  };
  function files(config: string, ext = 'yaml') {
    const dir = tempDir();
    const schemaFile = path.join(dir, 'app.schema.json');
    const file = path.join(dir, `app.${ext}`);
    writeFileSync(schemaFile, JSON.stringify(schema));
    writeFileSync(file, config);
    return { file, schema: schemaFile };
  }

  it('passes on a valid YAML or JSON file', async () => {
    expect((await runCheck('config.schema', files('port: 8080\ndatabase: { pool: 5 }\nmode: blue\n'))).status).toBe(
      'pass',
    );
    expect((await runCheck('config.schema', files('{"port": 1, "database": {}}', 'json'))).status).toBe('pass');
  });

  it('fails naming each violation at its line and column', async () => {
    const f = files('port: 70000\ndatabase:\n  pool: 0\nmode: red\ncolour: blue\n');
    const r = await runCheck('config.schema', f);
    expect(r).toMatchObject({ status: 'fail', metric: 4 });
    expect(r.detail.split('; ')).toEqual([
      `${f.file}:5:1: \`colour\` is not allowed here`,
      `${f.file}:1:7: \`port\` must be <= 65535`,
      `${f.file}:3:9: \`database.pool\` must be >= 1`,
      `${f.file}:4:7: \`mode\` must be equal to one of the allowed values`,
    ]);
    const syntax = await runCheck('config.schema', files('port: 1\ndatabase: {pool: 1\n'));
    expect(syntax.status).toBe('fail');
    expect(syntax.detail).toMatch(/app\.yaml:\d+:\d+: .*; fix the syntax$/);
  });

  it('reports error when the schema itself is unreadable or truncated', async () => {
    const f = files('port: 1\n');
    writeFileSync(f.schema, '{"type": "object", "properties": {');
    const r = await runCheck('config.schema', f);
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(
      /app\.schema\.json:1:35: Unexpected end of the JSON Schema \(truncated\?\), expected complete JSON$/,
    );
    expect((await runCheck('config.schema', { file: f.file, schema: '/nonexistent.json' })).status).toBe('error');
    expect((await runCheck('config.schema', { file: '/nonexistent.yaml', schema: f.schema })).status).toBe('error');
  });
});
