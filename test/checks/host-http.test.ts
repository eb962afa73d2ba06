// Disk, memory and HTTP health checks against the real machine and real HTTP servers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runCheck } from './helpers.js';

describe('host.disk-space', () => {
  it('passes with the real free space, fails when more is needed than there is, errors on a missing path', async () => {
    const dir = tempDir();
    const ok = await runCheck('host.disk-space', { path: dir, minFreeMiB: 1, warnFreeMiB: 1 });
    expect(ok).toMatchObject({ status: 'pass', unit: 'bytes' });
    expect(ok.metric!).toBeGreaterThan(1024 * 1024);
    const freeMiB = ok.metric! / 1024 / 1024;
    const warn = await runCheck('host.disk-space', { path: dir, minFreeMiB: 1, warnFreeMiB: freeMiB * 2 });
    expect(warn.status).toBe('warn');
    const fail = await runCheck('host.disk-space', { path: dir, minFreeMiB: freeMiB * 2 });
    expect(fail.status).toBe('fail');
    expect(fail.detail).toContain('free space');
    const missing = await runCheck('host.disk-space', { path: '/nonexistent/data' });
    expect(missing.status).toBe('error');
    expect(missing.detail).toContain('does not exist');
  });
});

describe('host.memory', () => {
  it('reads MemAvailable and fails when the operation needs more', async () => {
    const ok = await runCheck('host.memory', { minAvailableMiB: 1, warnAvailableMiB: 1 });
    expect(ok.status).toBe('pass');
    expect(ok.value).toMatch(/ available$/);
    const huge = await runCheck('host.memory', { minAvailableMiB: 1024 * 1024 * 64 });
    expect(huge.status).toBe('fail');
    expect(huge.threshold).toMatch(/^fail < 64\.0 TiB/);
  });
});

describe('http.health', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/healthz')
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","db":{"connected":true}}');
      else if (req.url === '/broken') res.writeHead(500).end('database connection refused');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('ok'), 300);
      else if (req.url === '/hang')
        return; // never answers
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('passes on the expected status and JSON fields', async () => {
    const r = await runCheck('http.health', {
      url: `${base}/healthz`,
      expectJson: { status: 'ok', 'db.connected': true },
    });
    expect(r.status).toBe('pass');
    expect(r.value).toMatch(/^HTTP 200 in \d+ ms$/);
  });

  it('fails on a 500 with the body, on a wrong JSON field, on a body mismatch and when nothing listens', async () => {
    const broken = await runCheck('http.health', { url: `${base}/broken` });
    expect(broken.status).toBe('fail');
    expect(broken.detail).toContain('answered 500 Internal Server Error: database connection refused');
    const field = await runCheck('http.health', { url: `${base}/healthz`, expectJson: { status: 'degraded' } });
    expect(field.detail).toBe('status is "ok", expected "degraded"');
    expect((await runCheck('http.health', { url: `${base}/healthz`, expectBody: 'version' })).status).toBe('fail');
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const refused = await runCheck('http.health', { url: `http://127.0.0.1:${port}/healthz` });
    expect(refused).toMatchObject({ status: 'fail', value: 'no answer' });
    expect(refused.detail).toContain('ECONNREFUSED');
  });

  it('warns when slow, and reports error (not fail) when the endpoint never answers in time', async () => {
    expect((await runCheck('http.health', { url: `${base}/slow`, warnLatencyMs: 100 })).status).toBe('warn');
    const hang = await runCheck('http.health', { url: `${base}/hang` }, { timeoutMs: 400 });
    expect(hang.status).toBe('error');
    expect(hang.detail).toMatch(/^timed out after 400 ms/);
    expect(hang.durationMs).toBeLessThan(2000);
  });

  it('warns, never passes, when no endpoint is configured', async () => {
    expect(await runCheck('http.health', {})).toMatchObject({ status: 'warn', value: 'not configured' });
  });
});
