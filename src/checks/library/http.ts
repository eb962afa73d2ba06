// An HTTP health endpoint answers as expected: the status code, optionally a body pattern or
// JSON fields, within a latency.
import * as z from 'zod';
import type { CheckDefinition } from '../types.js';

function pick(value: unknown, dotted: string): unknown {
  let current = value;
  for (const key of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export const httpHealth: CheckDefinition<{
  url?: string | undefined;
  method: 'GET' | 'HEAD';
  expectStatus: number[];
  expectBody?: string | undefined;
  expectJson?: Record<string, string | number | boolean | null> | undefined;
  warnLatencyMs: number;
  headers: Record<string, string>;
}> = {
  type: 'http.health',
  title: 'Health endpoint answers',
  description:
    'Requests `url` and expects one of `expectStatus` (default 200), a body matching `expectBody` (a regular expression) and `expectJson` fields (dotted paths) to hold the given values; warns when slower than warnLatencyMs.',
  settings: z.strictObject({
    url: z.url({ protocol: /^https?$/ }).optional(),
    method: z.enum(['GET', 'HEAD']).default('GET'),
    expectStatus: z
      .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
      .default(200)
      .transform((v) => (Array.isArray(v) ? v : [v])),
    expectBody: z
      .string()
      .min(1)
      .refine((v) => {
        try {
          new RegExp(v);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid regular expression')
      .optional(),
    expectJson: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
    warnLatencyMs: z.number().int().positive().default(1000),
    headers: z.record(z.string(), z.string()).default({}),
  }) as unknown as z.ZodType<{
    url?: string;
    method: 'GET' | 'HEAD';
    expectStatus: number[];
    expectBody?: string;
    expectJson?: Record<string, string | number | boolean | null>;
    warnLatencyMs: number;
    headers: Record<string, string>;
  }>,
  usesPostgres: false,
  async run(context, s) {
    const expect = [
      `status ${s.expectStatus.join('|')}`,
      s.expectBody ? `body /${s.expectBody}/` : '',
      s.expectJson
        ? `json ${Object.entries(s.expectJson)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(', ')}`
        : '',
      `warn ≥ ${s.warnLatencyMs} ms`,
    ]
      .filter(Boolean)
      .join(', ');
    if (!s.url)
      return {
        status: 'warn',
        value: 'not configured',
        threshold: expect,
        detail: 'no health endpoint configured, so nothing was checked: set http.health.url in exec-doc.checks.yaml',
      };
    const started = performance.now();
    let response: Response;
    try {
      response = await fetch(s.url, {
        method: s.method,
        headers: s.headers,
        signal: context.signal,
        redirect: 'manual',
      });
    } catch (error) {
      if (context.signal.aborted) throw error;
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return {
        status: 'fail',
        value: 'no answer',
        threshold: expect,
        detail: `${s.method} ${s.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}; is the service running and listening there?`,
      };
    }
    const body = s.method === 'HEAD' ? '' : await response.text();
    const latencyMs = Math.round(performance.now() - started);
    const value = `HTTP ${response.status} in ${latencyMs} ms`;
    const base = { value, metric: latencyMs / 1000, unit: 'seconds', threshold: expect };
    const excerpt = body.replace(/\s+/g, ' ').trim().slice(0, 120);
    if (!s.expectStatus.includes(response.status))
      return {
        ...base,
        status: 'fail',
        detail: `${s.method} ${s.url} answered ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ''}; look at the service's logs`,
      };
    if (s.expectBody && !new RegExp(s.expectBody).test(body))
      return { ...base, status: 'fail', detail: `the body does not match /${s.expectBody}/: ${excerpt || '(empty)'}` };
    if (s.expectJson) {
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return { ...base, status: 'fail', detail: `expected a JSON body, got: ${excerpt || '(empty)'}` };
      }
      const wrong = Object.entries(s.expectJson)
        .filter(([k, v]) => pick(json, k) !== v)
        .map(([k, v]) => `${k} is ${JSON.stringify(pick(json, k)) ?? 'missing'}, expected ${JSON.stringify(v)}`);
      if (wrong.length > 0) return { ...base, status: 'fail', detail: wrong.join('; ') };
    }
    if (latencyMs >= s.warnLatencyMs)
      return { ...base, status: 'warn', detail: `${s.url} is healthy but took ${latencyMs} ms` };
    return { ...base, status: 'pass', detail: `${s.method} ${s.url} answered as expected` };
  },
};
