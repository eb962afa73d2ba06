// The application's compatibility matrix, as data: which Python, which package ranges and which
// database schema versions each release of the application runs with. The check holds what is
// there (or about to be: a lock file) against the row of the release about to run, before
// anything changes.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { readJsonFile, JsonFileError } from '../../util/read-json.js';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { runProgram, withPostgres } from '../support.js';
import { LockFileError, normalizeName, parseLockFile } from './python.js';
import { rangeProblem, satisfies } from './pep440.js';

const range = z.string().superRefine((value, ctx) => {
  const problem = rangeProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const matrixSchema = z.strictObject({
  $schema: z.string().optional(),
  application: z.string().min(1),
  releases: z.record(
    z.string(),
    z.strictObject({
      python: range.optional(),
      packages: z.record(z.string(), range).default({}),
      schema: range.optional(),
      notes: z.string().optional(),
    }),
  ),
});
export type CompatibilityMatrix = z.infer<typeof matrixSchema>;

export function readMatrix(file: string): CompatibilityMatrix {
  let data: unknown;
  try {
    data = readJsonFile(file, 'compatibility matrix');
  } catch (error) {
    if (error instanceof JsonFileError) throw new CheckCannotRun(error.message);
    throw error;
  }
  const parsed = matrixSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CheckCannotRun(
      `${file}: ${issue.path.length ? `\`${issue.path.join('.')}\`: ` : ''}${issue.message.replace(/^Invalid input: /, '')}`,
    );
  }
  return parsed.data;
}

const PROBE = `import importlib.metadata as m, json, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = m.version(name)
    except m.PackageNotFoundError:
        found[name] = None
print(json.dumps({"python": "%d.%d.%d" % sys.version_info[:3], "packages": found}))`;

export const appCompatibility: CheckDefinition<{
  matrix?: string | undefined;
  release?: string | undefined;
  python: string;
  lockFile?: string | undefined;
  schemaQuery?: string | undefined;
}> = {
  type: 'app.compatibility',
  title: 'Application release compatible',
  description:
    "Holds the Python version of `python`, the packages it has (or `lockFile` pins) and the database schema version (`schemaQuery`) against the `release`'s row of the compatibility `matrix`; fails naming each requirement not met.",
  settings: z.strictObject({
    matrix: z.string().min(1).optional(),
    release: z.string().min(1).optional(),
    python: z.string().min(1).default('python3'),
    lockFile: z.string().min(1).optional(),
    schemaQuery: z.string().min(1).optional(),
  }),
  pathSettings: ['matrix', 'python', 'lockFile'],
  usesPostgres: true,
  async run(context, s) {
    const threshold = 'every requirement of the release met';
    if (!s.matrix || !s.release)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail: 'no matrix or release given, so nothing was checked: set app.compatibility.matrix and .release',
      };
    const matrix = readMatrix(s.matrix);
    const row = matrix.releases[s.release];
    if (!row)
      return {
        status: 'fail',
        value: `release ${s.release} unknown`,
        threshold,
        detail: `${matrix.application} ${s.release} is not in ${s.matrix} (it knows ${Object.keys(matrix.releases).join(', ')}); add its row before deploying it`,
      };
    const names = Object.keys(row.packages);
    const probe = await runProgram(context, s.python, ['-c', PROBE, ...names]);
    if (probe.exitCode !== 0)
      throw new CheckCannotRun(
        `${s.python} could not be asked for its versions: ${probe.stderr.trim().split('\n').pop()}`,
      );
    const found = JSON.parse(probe.stdout) as { python: string; packages: Record<string, string | null> };
    let packages = found.packages;
    let source = s.python;
    if (s.lockFile) {
      let lock;
      try {
        lock = parseLockFile(s.lockFile, readFileSync(s.lockFile, 'utf8'));
      } catch (error) {
        if (error instanceof LockFileError) throw new CheckCannotRun(error.message);
        throw new CheckCannotRun(`cannot read the lock file ${s.lockFile}: ${(error as Error).message}`);
      }
      const pins = new Map(lock.map((e) => [e.name, e.version]));
      packages = Object.fromEntries(names.map((n) => [n, pins.get(normalizeName(n)) ?? null]));
      source = s.lockFile;
    }
    const who = `${matrix.application} ${s.release}`;
    const problems: string[] = [];
    if (row.python && !satisfies(found.python, row.python))
      problems.push(`${who} needs Python ${row.python}; ${s.python} is ${found.python}`);
    for (const [name, wanted] of Object.entries(row.packages)) {
      const have = packages[name];
      if (have === null || have === undefined)
        problems.push(
          `${who} needs ${name} ${wanted}; ${source} ${s.lockFile ? 'does not pin it' : 'does not have it'}`,
        );
      else if (!satisfies(have, wanted))
        problems.push(`${who} needs ${name} ${wanted}; ${source} ${s.lockFile ? 'pins' : 'has'} ${have}`);
    }
    let schema: string | null = null;
    if (s.schemaQuery && row.schema) {
      schema = await withPostgres(context, async (client) => {
        const result = await client.query({ text: s.schemaQuery!, rowMode: 'array' });
        const value = (result.rows[0] as unknown[] | undefined)?.[0];
        return value === null || value === undefined ? null : String(value);
      }).catch((error: unknown) => {
        throw new CheckCannotRun(`the schema query failed: ${(error as Error).message}`);
      });
      if (schema === null) problems.push(`${who} needs schema ${row.schema}; the schema query returned no version`);
      else if (!satisfies(schema, row.schema))
        problems.push(`${who} needs database schema ${row.schema}; the database is at ${schema}`);
    }
    const value = `Python ${found.python}, ${names.map((n) => `${n} ${packages[n] ?? '-'}`).join(', ')}${schema !== null ? `, schema ${schema}` : ''}`;
    return problems.length === 0
      ? {
          status: 'pass',
          value,
          metric: 0,
          unit: 'count',
          threshold,
          detail: `${who}: every requirement met (${s.matrix})`,
        }
      : { status: 'fail', value, metric: problems.length, unit: 'count', threshold, detail: problems.join('; ') };
  },
};
