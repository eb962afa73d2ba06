// The CLI edge: the only place that prints and decides the exit code.
import path from 'node:path';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { CodedError, ExecDocError, EXIT, formatDiagnostic, systemReason } from '../errors/exec-doc-error.js';
import type { Step } from '../model/types.js';
import type { RunOutcome } from '../runner/run.js';
import { parseCli, type CliOptions } from './parse.js';

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export const INTERNAL_ERROR_EXIT = EXIT.internalError;

export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env },
): Promise<number> {
  // Internal: the steps a rolling section is expanded into run `exec-doc hosts batch|undo -` (../hosts).
  if (argv[0] === 'hosts') {
    const { hostsCommand } = await import('./hosts.js');
    return hostsCommand(argv.slice(1), io);
  }
  const parsed = parseCli(argv, io.env);
  if (parsed.kind === 'output') {
    (parsed.exitCode === 0 ? io.stdout : io.stderr).write(parsed.text);
    return parsed.exitCode;
  }
  const { command, args, options } = parsed;
  try {
    const { preflight } = await import('./preflight.js');
    preflight(command, args, options);
    switch (command) {
      case 'doctor': {
        const { doctor } = await import('./doctor.js');
        return await doctor(options, io);
      }
      case 'mcp': {
        const { serveMcp } = await import('./mcp.js');
        return await serveMcp(options, io);
      }
      case 'list':
        return args[0] !== undefined ? await listFile(args[0], options, io) : await list(options, io);
      case 'validate':
        return await validate(args, options, io);
      case 'check-docs':
        return await checkDocs(options, io);
      case 'verify-guide': {
        const { verifyGuide } = await import('./verify-guide.js');
        return await verifyGuide(args, options, io);
      }
      case 'check': {
        const { checkCommand } = await import('./check.js');
        return await checkCommand(args[0]!, options, io);
      }
      case 'plan':
        return await plan(args[0]!, options, io);
      case 'run':
      case 'resume':
      case 'rollback':
        return await execute(command, args[0]!, options, io);
      case 'approve': {
        const { approveCommand } = await import('./security.js');
        return await approveCommand(args[0]!, options, io);
      }
      case 'audit': {
        const { auditCommand } = await import('./security.js');
        return await auditCommand(args[0]!, options, io);
      }
      case 'keygen': {
        const { keygenCommand } = await import('./security.js');
        return keygenCommand(args[0]!, options, io);
      }
      case 'token': {
        const { tokenCommand } = await import('./security.js');
        return await tokenCommand(args[0]!, options, io);
      }
    }
  } catch (error) {
    // Errors a user can act on carry a code (one table gives the exit code); anything else is a bug.
    if (error instanceof CodedError) {
      const diagnostics = error instanceof ExecDocError ? error.diagnostics : [];
      if (options.json)
        io.stdout.write(
          `${JSON.stringify({ error: { code: error.code, message: error.message, details: error.details, diagnostics } })}\n`,
        );
      io.stderr.write(`exec-doc: ${error.message}\n${error.details.map((d) => `  ${d}\n`).join('')}`);
      return error.exitCode;
    }
    // A file the system refused (gone, unreadable, full disk) is the machine's state, not a bug.
    const system = systemError(error);
    if (system) {
      io.stderr.write(`exec-doc: ${system}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`exec-doc: internal error (please report it): ${(error as Error).stack ?? String(error)}\n`);
    return INTERNAL_ERROR_EXIT;
  }
}

const loadOptions = (options: CliOptions) => ({
  docsRoot: path.resolve(options.docs),
  cacheFile: path.join(options.stateDir, 'cache', 'documents.json'),
});

async function list(options: CliOptions, io: Io): Promise<number> {
  const { loadIndex, corpusStamp } = await import('../documents/corpus.js');
  const corpus = loadOptions(options);
  if (options.json) {
    const index = await loadIndex(corpus);
    const { loadCorpus } = await import('../documents/corpus.js');
    const diagnostics =
      index.errors + index.warnings > 0 ? (await loadCorpus(corpus)).flatMap((d) => d.diagnostics) : [];
    io.stdout.write(`${JSON.stringify({ sections: index.sections, diagnostics }, null, 2)}\n`);
    return 0;
  }
  // The rendered list is kept beside the caches, stamped with the corpus's sizes and times:
  // an unchanged guide is listed without parsing any cache at all.
  const textCache = path.join(path.dirname(corpus.cacheFile), 'list.txt');
  const stamp = corpusStamp(corpus);
  // The stamp holds newlines: it is stored first, with its length, then the list.
  const cached = readIfExists(textCache);
  const header = `${stamp.length}\n${stamp}\n`;
  if (cached?.startsWith(header)) {
    io.stdout.write(cached.slice(header.length));
    return 0;
  }
  const { formatList } = await import('../report/list.js');
  const index = await loadIndex(corpus);
  const text = formatList(index.sections, index);
  const { writeAtomic } = await import('../util/fs.js');
  writeAtomic(textCache, `${header}${text}`, 0o600);
  io.stdout.write(text);
  return 0;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function validate(files: string[], options: CliOptions, io: Io): Promise<number> {
  const { loadCorpus } = await import('../documents/corpus.js');
  const { loadDocument } = await import('../documents/load.js');
  const docs =
    files.length > 0
      ? await Promise.all(files.map((f) => loadDocument(f, { docsRoot: path.resolve(options.docs) })))
      : await loadCorpus(loadOptions(options));
  const diagnostics = docs.flatMap((d) => d.diagnostics);
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  if (options.json)
    io.stdout.write(
      `${JSON.stringify({ documents: docs.length, errors, warnings: diagnostics.length - errors, diagnostics }, null, 2)}\n`,
    );
  else {
    for (const d of diagnostics) io.stdout.write(`${formatDiagnostic(d)}\n`);
    io.stdout.write(
      `${docs.length} document(s), ${docs.reduce((n, d) => n + d.sections.length, 0)} section(s): ${errors} error(s), ${diagnostics.length - errors} warning(s)\n`,
    );
  }
  return errors > 0 ? 64 : 0;
}

async function checkDocs(options: CliOptions, io: Io): Promise<number> {
  const { checkGuide } = await import('../guide-check/check.js');
  const result = await checkGuide({ docsRoot: path.resolve(options.docs) });
  if (options.json)
    io.stdout.write(
      `${JSON.stringify({ documents: result.documents.length, errors: result.errors, warnings: result.warnings, diagnostics: result.diagnostics }, null, 2)}\n`,
    );
  else {
    for (const d of result.diagnostics) io.stdout.write(`${formatDiagnostic(d)}\n`);
    io.stdout.write(
      `check-docs: ${result.documents.length} document(s): ${result.errors} error(s), ${result.warnings} warning(s)\n`,
    );
  }
  return result.errors > 0 ? 64 : 0;
}

/** `list <file>`: a document's sections and each block, with the names `run <file>#<name>` takes. */
async function listFile(file: string, options: CliOptions, io: Io): Promise<number> {
  if (!existsSync(file) || statSync(file).isDirectory())
    throw new ExecDocError('E_USAGE', `${file} is not a markdown file`, {
      details: ['Give a .md or .mdx file, e.g. `exec-doc list README.md`; `exec-doc list` alone lists the guide.'],
    });
  const { loadDocument } = await import('../documents/load.js');
  const { formatFileList, fileListJson } = await import('../report/list.js');
  const document = await loadDocument(file, { docsRoot: path.resolve(options.docs) });
  io.stdout.write(
    options.json ? `${JSON.stringify(fileListJson(document, file), null, 2)}\n` : formatFileList(document, file),
  );
  return document.diagnostics.some((d) => d.severity === 'error') ? 64 : 0;
}

async function plan(address: string, options: CliOptions, io: Io): Promise<number> {
  const { resolveSection } = await import('../documents/address.js');
  const { formatPlan, planJson } = await import('../report/plan.js');
  const { planForTarget, resolveTouches } = await import('../plan/rehearsal.js');
  const { parseSets, resolveParams, checkedParams, shownValues } = await import('../runner/params.js');
  const resolved = await resolveSection(address, { ...loadOptions(options), tags: options.tag });
  const { sets, problems } = parseSets(options.set);
  if (problems.length > 0) throw new ExecDocError('E_USAGE', 'Malformed --set', { details: problems });
  const { plan: p, use } = planForTarget(resolved.section, io.env, options.disposable);
  // The values given are checked as `run` would check them; one not given yet is not a problem here.
  const params = checkedParams(
    p,
    resolveParams(resolved.section.params, sets, io.env, { requireAll: false }),
    `Cannot run ${resolved.section.address}`,
  );
  const tables = use.disposable ? undefined : resolveTouches(resolved.section, params.values);
  const context = {
    use,
    values: shownValues(resolved.section.params, params.values),
    provenOver: tables ?? ('database' as const),
  };
  const { accessSummary } = await import('./plan-access.js');
  const access = await accessSummary(p, resolved.path, options, io.env);
  const rolling = resolved.section.hosts
    ? await rollingSummary(resolved.section, params.values, resolved.path, io.env)
    : undefined;
  if (!options.preview) {
    io.stdout.write(
      options.json
        ? `${JSON.stringify({ ...planJson(p, context), ...(rolling ? { hosts: rolling.json } : {}), access: access.json }, null, 2)}\n`
        : formatPlan(p, context) + (rolling?.text ?? '') + access.text,
    );
    return 0;
  }
  const { runPreviews } = await import('./preview.js');
  return runPreviews(resolved, p, options, io);
}

/** A rolling section's hosts and batches as Ansible lists them now, or why they cannot be listed. */
async function rollingSummary(
  section: import('../model/types.js').Section,
  values: Record<string, string>,
  documentPath: string,
  env: NodeJS.ProcessEnv,
): Promise<{ text: string; json: unknown }> {
  const { rollingPlan } = await import('../hosts/prepare.js');
  try {
    const { hosts, batches } = rollingPlan(section, values, documentPath, env);
    const lines = [
      `Hosts: ${batches.flat().length} host(s) of ${hosts.inventory} matching \`${hosts.pattern}\`, in ${batches.length} batch(es) of ${hosts.serial} (Ansible); a batch with more than ${hosts.maxFailPercentage} % failed hosts stops the upgrade and rolls back`,
      ...batches.map((b, i) => `  batch ${i + 1}: ${b.join(', ')}`),
    ];
    return { text: `\n${lines.join('\n')}\n`, json: { ...hosts, batches } };
  } catch (error) {
    const message = (error as Error).message;
    return { text: `\nHosts: cannot list them: ${message}\n`, json: { error: message } };
  }
}

async function execute(
  command: 'run' | 'resume' | 'rollback',
  target: string,
  options: CliOptions,
  io: Io,
): Promise<number> {
  const { resolveSection } = await import('../documents/address.js');
  const { runSection, resumeRun, rollbackRun } = await import('../runner/run.js');
  const { parseSets } = await import('../runner/params.js');
  const webhook = options.webhook ?? (io.env.EXEC_DOC_WEBHOOK_URL || undefined);
  if (webhook !== undefined) {
    const { webhookProblem } = await import('../report/webhook.js');
    const problem = webhookProblem(webhook);
    // The address is not repeated: it may hold the webhook's credential.
    if (problem)
      throw new ExecDocError('E_USAGE', `The webhook address ${problem}`, {
        details: [`Give --webhook or $EXEC_DOC_WEBHOOK_URL as http(s)://host/path; nothing ran`],
      });
  }
  const { createTerminalReporter } = await import('../report/terminal.js');
  const { formatSummary } = await import('../report/summary.js');

  const { sets, problems } = parseSets(options.set);
  if (problems.length > 0) throw new ExecDocError('E_USAGE', 'Malformed --set', { details: problems });
  const { parseSecretFiles } = await import('../security/secret-sources.js');
  const secretFiles = parseSecretFiles(options.secretFile);

  const tty = Boolean(io.stdout.isTTY) && !options.json && io.env.CI !== 'true';
  const interactive = tty && Boolean(io.stdin.isTTY);
  const reporter = options.json
    ? undefined
    : createTerminalReporter({
        write: (t) => io.stdout.write(t),
        tty,
        color: options.color && tty,
        columns: io.stdout.columns ?? 100,
      });
  const listeners = options.json
    ? [(event: unknown) => io.stdout.write(`${JSON.stringify(event)}\n`)]
    : [reporter!.listener];

  // Ctrl-C (or SIGTERM, SIGHUP) once: stop the running step and roll back. Twice: abandon the rollback (resume can finish it).
  const { watchStopSignals } = await import('./signals.js');
  const stop = watchStopSignals(io, {
    first: (signal) => `${signal}: stopping the current step and rolling back (${signal} again abandons the rollback)`,
    second: (signal) => `${signal} again: abandoning the rollback; finish it later with \`exec-doc resume\``,
  });

  const confirm = interactive
    ? async (question: string, step: Step) => {
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: io.stdin, output: io.stdout });
        try {
          const answer = await rl.question(`? ${step.id}: ${question} [y/N] `);
          return /^y(es)?$/i.test(answer.trim());
        } finally {
          rl.close();
        }
      }
    : undefined;
  // Runme's promptEnv: a person at a terminal is asked for an `export` line's value (Enter keeps the default).
  const ask = interactive
    ? async (name: string, hint: { defaultValue?: string; message?: string }) => {
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: io.stdin, output: io.stdout });
        try {
          const shown = hint.message ?? (hint.defaultValue !== undefined ? `default: ${hint.defaultValue}` : '');
          const answer = await rl.question(`? ${name}${shown ? ` (${shown})` : ''}: `);
          return answer === '' ? undefined : answer;
        } finally {
          rl.close();
        }
      }
    : undefined;
  const { fragmentOf } = await import('../documents/select.js');
  const common = {
    ...(ask ? { ask } : {}),
    ...(options.session ? { session: options.session } : {}),
    stateDir: options.stateDir,
    sets,
    env: io.env,
    yes: options.yes,
    ...(confirm ? { confirm } : {}),
    signal: stop.interrupt,
    forceSignal: stop.force,
    keepDb: options.keepDb,
    lockWaitMs: options.lockWaitMs,
    failBefore: options.failBefore,
    disposable: options.disposable,
    listeners,
    notice: (line: string) => (reporter ? reporter.notice(line) : io.stderr.write(`exec-doc: ${line}\n`)),
  };
  const { prepareAccess } = await import('./plan-access.js');
  let outcome: RunOutcome;
  let closeAudit = async () => {};
  try {
    if (command === 'run') {
      const resolved = await resolveSection(target, { ...loadOptions(options), tags: options.tag });
      const prepared = await prepareAccess(resolved.section, path.dirname(resolved.path), {
        options,
        io,
        sets,
        secretFiles,
        notice: common.notice,
      });
      closeAudit = () => finishAudit(prepared.access, common.notice);
      outcome = await runSection({
        ...common,
        sets: prepared.sets,
        access: prepared.access,
        section: resolved.section,
        documentPath: resolved.path,
        docsRoot: path.resolve(options.docs),
      });
    } else {
      let prepared: Awaited<ReturnType<typeof prepareAccess>> | undefined;
      outcome = await (command === 'rollback' ? rollbackRun : resumeRun)({
        ...common,
        runId: target,
        rerunInterrupted: options.rerunInterrupted,
        rollback: options.rollback,
        loadSection: async (state) => {
          const section = (
            await resolveSection(`${state.section.file}#${fragmentOf(state.section.address)}`, {
              docsRoot: state.section.docsRoot,
            })
          ).section;
          prepared = await prepareAccess(section, path.dirname(state.section.file), {
            options,
            io,
            sets,
            secretFiles,
            notice: common.notice,
          });
          closeAudit = () => finishAudit(prepared!.access, common.notice);
          return section;
        },
        prepare: () => prepared,
      });
    }
  } finally {
    reporter?.stop();
    stop.dispose();
    await closeAudit();
  }
  if (!options.json)
    io.stdout.write(formatSummary(outcome.record, path.relative('.', outcome.runDir) || outcome.runDir));
  if (webhook !== undefined) {
    const { needsAlert, sendWebhook, webhookNotice } = await import('../report/webhook.js');
    if (needsAlert(outcome.record)) {
      const sent = await sendWebhook(webhook, webhookNotice(outcome.record));
      io.stderr.write(`exec-doc: ${sent.message}\n`);
    }
  }
  if (options.report) {
    const { formatJunit } = await import('../report/junit.js');
    writeFileSync(options.report.file, formatJunit(outcome.record));
  }
  return outcome.exitCode;
}

/** At the end of a run: a signed checkpoint when the policy names a signing key, then the syslog flush. */
async function finishAudit(
  access: import('../security/access.js').AccessContext,
  notice: (line: string) => void,
): Promise<void> {
  const key = access.policy?.audit.signingKey;
  if (key) {
    try {
      const { loadPrivateKey } = await import('../security/signing.js');
      const { signAuditLog } = await import('../security/audit.js');
      signAuditLog(access.audit.file, loadPrivateKey(key), access.identity.name);
    } catch (error) {
      notice(`audit trail: not signed: ${(error as Error).message}`);
    }
  }
  await access.audit.close();
}

const SYSTEM_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EPERM',
  'EISDIR',
  'ENOTDIR',
  'EROFS',
  'ENOSPC',
  'EEXIST',
  'ENAMETOOLONG',
  'ELOOP',
]);

/** "cannot open /x: no such file or directory" for a file system error on a path, else undefined. */
export function systemError(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || !SYSTEM_CODES.has(e.code) || typeof e.path !== 'string') return undefined;
  return `cannot ${e.syscall ?? 'use'} ${e.path}: ${systemReason(e)}`;
}
