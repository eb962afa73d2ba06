// A configuration file is valid against its JSON Schema: every violation with its line and
// column in the file, before the configuration is deployed or after it was.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { JsonFileError, readJsonFile } from '../../util/read-json.js';
import { pathLocator } from '../../util/yaml-position.js';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CheckCannotRun(
      `cannot read the ${what} ${file}: ${code === 'ENOENT' ? 'it does not exist' : (code ?? (error as Error).message)}`,
    );
  }
}

export const configSchema: CheckDefinition<{ file?: string | undefined; schema?: string | undefined }> = {
  type: 'config.schema',
  title: 'Configuration valid against its schema',
  description:
    'Parses `file` (JSON or YAML) and validates it against the JSON Schema `schema` (draft 2020-12); fails naming each violation as file:line:column.',
  settings: z.strictObject({ file: z.string().min(1).optional(), schema: z.string().min(1).optional() }),
  pathSettings: ['file', 'schema'],
  usesPostgres: false,
  async run(_context, s) {
    const threshold = 'no schema violation';
    if (!s.file || !s.schema)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail:
          'no configuration file and schema configured, so nothing was checked: set config.schema.file and .schema in exec-doc.checks.yaml',
      };
    let schema: unknown;
    try {
      schema = readJsonFile(s.schema, 'JSON Schema');
    } catch (error) {
      throw new CheckCannotRun(error instanceof JsonFileError ? error.message : String(error));
    }
    const { Ajv2020 } = await import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    let validate;
    try {
      validate = ajv.compile(schema as object);
    } catch (error) {
      throw new CheckCannotRun(`${s.schema} is not a usable JSON Schema: ${(error as Error).message}`);
    }
    const text = readText(s.file, 'configuration file');
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(text, { prettyErrors: false });
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      const { line, col } = e.linePos?.[0] ?? { line: 1, col: 1 };
      return {
        status: 'fail',
        value: 'unparseable',
        metric: 1,
        unit: 'count',
        threshold,
        detail: `${s.file}:${line}:${col}: ${e.message.split('\n')[0]}; fix the syntax`,
      };
    }
    const value = doc.toJS();
    if (validate(value))
      return {
        status: 'pass',
        value: '0 violations',
        metric: 0,
        unit: 'count',
        threshold,
        detail: `${s.file} is valid against ${s.schema}`,
      };
    const locate = pathLocator(doc, text);
    const errors = (validate.errors ?? []).map((e) => {
      const path = e.instancePath
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const where = extra ? locate.keyAt([...path, extra]) : locate.at(path);
      const subject = extra ? `\`${extra}\`` : path.length ? `\`${path.join('.')}\`` : 'the document';
      return `${s.file}:${where.line}:${where.column}: ${subject} ${extra ? 'is not allowed here' : e.message}`;
    });
    return {
      status: 'fail',
      value: `${errors.length} violations`,
      metric: errors.length,
      unit: 'count',
      threshold,
      detail: errors.slice(0, 10).join('; '),
    };
  },
};
