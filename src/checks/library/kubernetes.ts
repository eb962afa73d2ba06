// Kubernetes: manifests validated offline against the Kubernetes API schemas (the kubernetes-models
// library, generated from Kubernetes' OpenAPI), each violation at its line and column; and a
// rollout that completed (`kubectl rollout status` with a deadline) on a reachable cluster.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import * as z from 'zod';
import { pathLocator } from '../../util/yaml-position.js';
import { lineStarts, positionAt } from '../../util/text-position.js';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { runProgram } from '../support.js';

export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** The kubernetes-models class for an apiVersion and kind (`apps/v1` Deployment), if the library knows it. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  if (!/^([a-z0-9.-]+\/)?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  try {
    // A specifier built at run time: one module per API group and version, loaded when used.
    const specifier = `kubernetes-models/${apiVersion}`;
    const module = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
    const model = module[kind];
    return typeof model === 'function' ? (model as ModelClass) : undefined;
  } catch {
    return undefined;
  }
}

/** Every problem of every document in `file`, with positions. */
export async function validateManifests(file: string, text: string): Promise<ManifestProblem[]> {
  const problems: ManifestProblem[] = [];
  const starts = lineStarts(text);
  for (const doc of parseAllDocuments(text, { prettyErrors: false })) {
    const locate = pathLocator(doc as never, text);
    for (const error of doc.errors) {
      const { line, column } = positionAt(starts, error.pos[0]);
      problems.push({ file, line, column, message: `Unexpected YAML: ${error.message.split('\n')[0]}` });
    }
    if (doc.errors.length > 0) continue;
    const data = doc.toJS() as Record<string, unknown> | null;
    if (data === null) continue;
    const apiVersion = typeof data.apiVersion === 'string' ? data.apiVersion : '';
    const kind = typeof data.kind === 'string' ? data.kind : '';
    const at = (path: Array<string | number>) => ({ file, ...locate.at(path) });
    const Model = await modelFor(apiVersion, kind);
    if (!Model) {
      problems.push({
        ...at(kind ? ['kind'] : ['apiVersion']),
        message: `Unexpected apiVersion/kind \`${apiVersion || '(none)'}\` \`${kind || '(none)'}\`, expected a Kubernetes resource such as apps/v1 Deployment`,
      });
      continue;
    }
    try {
      new Model(data).validate();
    } catch (error) {
      const errors = (error as { errors?: Array<{ instancePath: string; message?: string; params?: unknown }> }).errors;
      if (!errors) throw error;
      for (const e of errors) {
        const path = e.instancePath
          .split('/')
          .slice(1)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
        problems.push({
          ...at(path),
          message: `Unexpected value for \`${path.join('.') || kind}\` in ${kind} ${String((data.metadata as { name?: unknown } | undefined)?.name ?? '')}: ${e.message ?? 'invalid'}`,
        });
      }
    }
  }
  return problems;
}

export const kubernetesManifests: CheckDefinition<{ files: string[] }> = {
  type: 'kubernetes.manifests',
  title: 'Kubernetes manifests valid',
  description:
    'Validates each YAML document of `files` offline against the Kubernetes API schemas (no cluster needed): known apiVersion and kind, every field of the right type; fails naming each violation as file:line:column.',
  settings: z.strictObject({ files: z.array(z.string().min(1)).default([]) }),
  pathSettings: ['files'],
  usesPostgres: false,
  async run(_context, s) {
    const threshold = 'no schema violation';
    if (s.files.length === 0)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail: 'no manifest files configured, so nothing was checked: set kubernetes.manifests.files',
      };
    const problems: ManifestProblem[] = [];
    for (const file of s.files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CheckCannotRun(
          `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
      problems.push(...(await validateManifests(file, text)));
    }
    return {
      status: problems.length === 0 ? 'pass' : 'fail',
      value: `${s.files.length} file(s), ${problems.length} violation(s)`,
      metric: problems.length,
      unit: 'count',
      threshold,
      detail:
        problems.length === 0
          ? `valid against the Kubernetes API schemas: ${s.files.join(', ')}`
          : problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('; '),
    };
  },
};

export const kubernetesRollout: CheckDefinition<{
  resource?: string | undefined;
  namespace?: string | undefined;
  timeoutSeconds: number;
}> = {
  type: 'kubernetes.rollout',
  title: 'Kubernetes rollout complete',
  description:
    '`kubectl rollout status <resource>` within `timeoutSeconds` on the cluster of $KUBECONFIG: every replica updated and available. Error when no cluster answers.',
  settings: z.strictObject({
    resource: z
      .string()
      .regex(/^[a-z]+\/[a-z0-9.-]+$/, 'kind/name, e.g. deployment/web')
      .optional(),
    namespace: z.string().min(1).optional(),
    timeoutSeconds: z.number().int().positive().default(120),
  }),
  usesPostgres: false,
  async run(context, s) {
    const threshold = `rolled out within ${s.timeoutSeconds} s`;
    if (!s.resource)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail: 'no resource configured, so nothing was checked: set kubernetes.rollout.resource (e.g. deployment/web)',
      };
    const r = await runProgram(context, 'kubectl', [
      'rollout',
      'status',
      s.resource,
      `--timeout=${s.timeoutSeconds}s`,
      ...(s.namespace ? ['--namespace', s.namespace] : []),
    ]);
    const said = `${r.stdout}${r.stderr}`.trim().split('\n').pop() ?? '';
    if (
      r.exitCode !== 0 &&
      /connection refused|Unable to connect|no configuration|couldn't get current server/i.test(said)
    )
      throw new CheckCannotRun(`no cluster answers: ${said}; set KUBECONFIG`);
    return r.exitCode === 0
      ? { status: 'pass', value: 'complete', threshold, detail: said }
      : {
          status: 'fail',
          value: 'not complete',
          threshold,
          detail: `${said}; \`kubectl rollout undo ${s.resource}\` goes back`,
        };
  },
};
