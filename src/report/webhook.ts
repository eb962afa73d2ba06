// Alerting: when a run fails, is rolled back, or leaves a rollback incomplete, a configured
// webhook (`--webhook <url>` or $EXEC_DOC_WEBHOOK_URL) receives one JSON notice, built from the
// result record (secrets already masked). Delivery is tried twice with a short timeout; a webhook
// that is down is reported and never changes the run's exit code. The URL itself is never
// printed: webhook URLs often carry their credential (a Slack or Teams hook), so only its host is.
import os from 'node:os';
import type { RunRecord } from '../results/record.js';

export const WEBHOOK_ENV = 'EXEC_DOC_WEBHOOK_URL';
const TIMEOUT_MS = 5_000;
const ATTEMPTS = 2;

export interface WebhookNotice {
  type: 'exec-doc.run';
  /** What happened, in words a channel shows as it is. */
  text: string;
  runId: string;
  section: string;
  status: RunRecord['status'];
  exitCode: number;
  failedStep: string | null;
  failureReason: string | null;
  rollback: RunRecord['rollback'];
  finishedAt: string;
  durationMs: number;
  host: string;
}

/** Whether a run ending this way is worth an alert: anything but a plain success. */
export function needsAlert(record: RunRecord): boolean {
  return record.status !== 'succeeded';
}

export function webhookNotice(record: RunRecord): WebhookNotice {
  const what =
    record.status === 'rollback-incomplete'
      ? 'ROLLBACK INCOMPLETE — the system may be half-changed'
      : record.status === 'rolled-back'
        ? record.exitCode === 0
          ? "rolled back at the operator's request"
          : 'failed and was rolled back'
        : record.status === 'requirements-missing'
          ? 'did not start: a requirement is missing'
          : record.status === 'teardown-failed'
            ? 'succeeded, but a teardown failed'
            : 'failed';
  return {
    type: 'exec-doc.run',
    text: `exec-doc: ${record.section.address} ${what} (exit ${record.exitCode}, run ${record.runId})${record.failedStep ? `; failed step: ${record.failedStep}` : ''}`,
    runId: record.runId,
    section: record.section.address,
    status: record.status,
    exitCode: record.exitCode,
    failedStep: record.failedStep,
    failureReason: record.failureReason,
    rollback: record.rollback,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    host: os.hostname(),
  };
}

/** Checks a webhook address: http(s) only, with a host. Returns the problem, or undefined. */
export function webhookProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL; expected http(s)://host/path';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `uses ${parsed.protocol.replace(/:$/, '')}; expected http or https`;
  return undefined;
}

/** Posts the notice; resolves to a line saying what happened (never the URL, only its host). */
export async function sendWebhook(url: string, notice: WebhookNotice): Promise<{ ok: boolean; message: string }> {
  const host = new URL(url).host;
  let last = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'exec-doc' },
        body: JSON.stringify(notice),
        signal: AbortSignal.timeout(TIMEOUT_MS),
        redirect: 'error',
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, message: `alert sent to the webhook at ${host} (${response.status})` };
      last = `answered ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      last =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${TIMEOUT_MS / 1000}s`
          : (cause ?? (error as Error).message);
    }
  }
  return { ok: false, message: `could not alert the webhook at ${host}: ${last} (tried ${ATTEMPTS} times)` };
}
