// `exec-doc mcp` driven as an agent drives it: the MCP SDK's own client starts the real server
// process over stdio, discovers the database guide from the hub's comments, searches, reads and
// plans a procedure, runs one that fails, and reads the rollback's outcome; then hostile calls.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { BIN, ROOT, tempDir } from '../helpers.js';
import { createMcpServer } from '../../src/cli/mcp.js';

type Structured = Record<string, unknown> & { error?: { code: string; message: string; details: string[] } };

// Once as an agent starts it (a real process over stdio), once in this process over the SDK's
// in-memory transport (the same server, so coverage sees its tools).
describe.each(['stdio', 'in-process'] as const)('exec-doc mcp (%s)', (mode) => {
  const stateDir = tempDir('exec-doc-mcp-');
  let client: Client;
  let stderr = '';

  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await client.callTool({ name, arguments: args });
    return { isError: r.isError === true, data: r.structuredContent as Structured, text: JSON.stringify(r.content) };
  };

  beforeAll(async () => {
    client = new Client({ name: 'exec-doc-test-agent', version: '1.0.0' });
    if (mode === 'in-process') {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const server = createMcpServer({ docs: path.join(ROOT, 'docs'), stateDir }, { env: process.env });
      await server.connect(serverSide);
      await client.connect(clientSide);
      return;
    }
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', '--docs', path.join(ROOT, 'docs'), '--state-dir', stateDir],
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1' },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await client.connect(transport);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
  });

  it('offers the tools and the guide pages, and the hub leads to the database guide', async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual([
      'check',
      'get_result',
      'list_procedures',
      'plan',
      'read_section',
      'resume',
      'rollback',
      'run',
    ]);
    const resources = (await client.listResources()).resources.map((r) => r.uri);
    expect(resources).toContain('exec-doc://guide/index.md');
    expect(resources).toContain('exec-doc://guide/database-migrations.md');
    const hub = await client.readResource({ uri: 'exec-doc://guide/index.md' });
    const text = (hub.contents[0] as { text: string }).text;
    // The AI-discovery comments point at resources the agent can read, not at unpublished sources.
    expect(text).toContain('<!-- MODULE_REFERENCE: exec-doc://guide/database-migrations.md -->');
    const db = await client.readResource({ uri: 'exec-doc://guide/database-migrations.md' });
    expect((db.contents[0] as { text: string }).text).toContain('# Database migrations');
  });

  it('finds, reads and plans a procedure', async () => {
    const found = await call('list_procedures', { query: 'zero downtime not null column' });
    expect(found.isError).toBe(false);
    const sections = found.data.sections as Array<{ address: string; page: string }>;
    expect(sections[0]!.address).toBe('database-migrations/zero-downtime');
    expect(sections[0]!.page).toBe('exec-doc://guide/database-migrations.md');
    // Its last verification, from the records the repository carries (verification/).
    expect((sections[0] as { lastVerified?: { status: string } | null }).lastVerified?.status).toBe('succeeded');

    const read = await call('read_section', { section: 'database-migrations/zero-downtime' });
    expect(read.isError).toBe(false);
    expect(read.data.markdown as string).toMatch(/^## /);
    expect((read.data.steps as Array<{ id: string }>).length).toBeGreaterThan(3);
    expect((read.data.params as Array<{ name: string }>).map((p) => p.name)).toContain('table');

    const plan = await call('plan', { section: 'database-migrations/zero-downtime', params: { batch: 500 } });
    expect(plan.isError).toBe(false);
    expect(plan.data.exitCode).toBe(0);
    expect(plan.data.section).toBe('database-migrations/zero-downtime');
    expect(JSON.stringify(plan.data)).toContain('"batch"');
  });

  it('runs a procedure that fails, and reads how the rollback went', async () => {
    const run = await call('run', { section: 'quick-start/demo-migration-failing' });
    expect(run.isError).toBe(false);
    expect(run.data.exitCode).toBe(1);
    expect(run.data.status).toBe('rolled-back');
    const record = run.data.record as {
      status: string;
      failedStep: string;
      rollback: { complete: boolean; undone: string[] };
      steps: Array<{ stepId: string; phase: string; status: string }>;
    };
    expect(record.rollback.complete).toBe(true);
    expect(record.rollback.undone.length).toBeGreaterThan(0);
    // The verification after the rollback ran and passed.
    expect(record.steps.filter((s) => s.phase === 'verify').every((s) => s.status === 'passed')).toBe(true);
    const events = run.data.events as Array<{ type: string }>;
    expect(events[0]!.type).toBe('run.start');
    expect(events.some((e) => e.type === 'rollback.end')).toBe(true);

    const again = await call('get_result', { runId: run.data.runId });
    expect(again.isError).toBe(false);
    expect(again.data.runId).toBe(run.data.runId);
    expect(again.data.failedStep).toBe(record.failedStep);
  }, 120_000);

  it('answers malformed and hostile calls with a structured error, and runs nothing', async () => {
    const unknown = await call('run', { section: 'database-migrations/zero-downtme' });
    expect(unknown.isError).toBe(true);
    expect(unknown.data.error!.code).toBe('E_UNKNOWN_SECTION');
    expect(unknown.data.error!.details.join('\n')).toContain('database-migrations/zero-downtime');

    const badValue = await call('plan', { section: 'database-migrations/zero-downtime', params: { batch: 'many' } });
    expect(badValue.isError).toBe(true);
    expect(JSON.stringify(badValue.data.error)).toContain('batch');

    // A step marked confirm, and no yes: refused before anything runs.
    const dangerous = await call('run', { section: 'database-migrations/rollback' });
    expect(dangerous.isError).toBe(true);
    expect(JSON.stringify(dangerous.data.error)).toContain('rb-down');

    // An option smuggled in as a section, a path as a run id: refused by the tools' schemas.
    const smuggled = await call('run', { section: '--docs=/etc' });
    expect(smuggled.isError).toBe(true);
    // Only the guide's sections: not a markdown file elsewhere on disk, not a path out of the guide.
    for (const section of ['/tmp/evil.md', '/tmp/evil.md#all', '../outside/x', 'quick-start/demo-migration#step'])
      expect((await call('run', { section })).isError, section).toBe(true);
    const escape = await call('get_result', { runId: '../../etc/passwd' });
    expect(escape.isError).toBe(true);
    const noRun = await call('get_result', { runId: '20990101T000000Z-nothing-000000' });
    expect(noRun.isError).toBe(true);
    expect(noRun.data.error!.code).toBe('E_UNKNOWN_RUN');

    const { readdirSync, existsSync } = await import('node:fs');
    const runs = path.join(stateDir, 'runs');
    // Only the one run of the previous test exists: none of these started one.
    expect(existsSync(runs) ? readdirSync(runs).length : 0).toBe(1);
    expect(stderr).not.toContain('internal error');
  }, 60_000);
});
