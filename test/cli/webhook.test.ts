// Alerting through a real local HTTP server: a failed run posts one JSON notice; a success posts
// nothing; a webhook that fails or is unreachable is reported and does not change the exit code;
// the URL (it may hold a credential) is never printed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliInProcess, freePort, writeDoc } from '../helpers.js';

describe('webhook alerts', () => {
  const received: Array<{ headers: http.IncomingHttpHeaders; body: Record<string, unknown>; url: string }> = [];
  let status = 200;
  let server: http.Server;
  let base = '';

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown>, url: req.url ?? '' });
        res.writeHead(status).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const doc = (body: string) =>
    writeDoc(
      `# A\n\n## S {#s}\n\n\`\`\`bash {id=a rollback=undo-a}\ntrue\n\`\`\`\n\n\`\`\`bash {id=undo-a kind=rollback}\ntrue\n\`\`\`\n\n\`\`\`bash {id=b rollback=none}\n${body}\n\`\`\`\n`,
    );
  const env = (dir: string, extra: Record<string, string> = {}) => ({
    EXEC_DOC_STATE_DIR: path.join(dir, '.state'),
    PATH: process.env.PATH ?? '',
    ...extra,
  });

  it('posts one notice for a run that failed and was rolled back, and none for a success', async () => {
    received.length = 0;
    status = 200;
    const failing = doc('exit 7');
    const secretPath = '/hooks/T000/B000/s3cr3t-token';
    const r = await cliInProcess(['run', `${failing.file}#s`, '--webhook', `${base}${secretPath}`], {
      env: env(failing.dir),
    });
    expect(r.exitCode).toBe(1);
    expect(received).toHaveLength(1);
    const { body, headers, url } = received[0]!;
    expect(url).toBe(secretPath);
    expect(headers['content-type']).toBe('application/json');
    expect(body).toMatchObject({
      type: 'exec-doc.run',
      status: 'rolled-back',
      exitCode: 1,
      failedStep: 'b',
      rollback: { ran: true, complete: true, undone: ['a'] },
    });
    expect(body.text).toMatch(/^exec-doc: .*s failed and was rolled back \(exit 1, run .*\); failed step: b$/);
    expect(r.stderr).toContain(`alert sent to the webhook at ${base.replace('http://', '')} (200)`);
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-token');

    const passing = doc('true');
    const ok = await cli(['run', `${passing.file}#s`], {
      env: env(passing.dir, { EXEC_DOC_WEBHOOK_URL: `${base}/hook` }),
    });
    expect(ok.exitCode).toBe(0);
    expect(received).toHaveLength(1);
  });

  it('a webhook that fails or is unreachable is reported, tried twice, and the exit code stays the run’s', async () => {
    received.length = 0;
    status = 500;
    const failing = doc('exit 7');
    const r = await cli(['run', `${failing.file}#s`, '--webhook', `${base}/hook?token=abc123`], {
      env: env(failing.dir),
    });
    expect(r.exitCode).toBe(1);
    expect(received).toHaveLength(2);
    expect(r.stderr).toContain('could not alert the webhook at 127.0.0.1');
    expect(r.stderr).toContain('answered 500 (tried 2 times)');
    expect(r.stderr).not.toContain('abc123');

    const port = await freePort();
    const down = await cli(['run', `${failing.file}#s`, '--webhook', `http://127.0.0.1:${port}/hook`], {
      env: env(failing.dir),
    });
    expect(down.exitCode).toBe(1);
    expect(down.stderr).toContain('ECONNREFUSED');
  });

  it('refuses a webhook address that is not http(s) before anything runs', async () => {
    const failing = doc('touch "$MARK"');
    const mark = path.join(failing.dir, 'ran');
    const r = await cli(['run', `${failing.file}#s`, '--webhook', 'file:///etc/passwd'], {
      env: env(failing.dir, { MARK: mark }),
    });
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain('The webhook address uses file; expected http or https');
    const { existsSync } = await import('node:fs');
    expect(existsSync(mark)).toBe(false);
  });
});
