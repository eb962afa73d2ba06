// The command line as data: commands and options in one table that also produces --help.
// parseCli() runs nothing; it returns what to do, or the text to print and the exit code.
// Node's util.parseArgs does the parsing: commander did the same job but cost 14 ms of
// start-up on every call, a tenth of `exec-doc list`'s budget.
import { parseArgs } from 'node:util';
import { parseDurationMs } from '../annotations/duration.js';

export type CommandName =
  | 'list'
  | 'plan'
  | 'run'
  | 'resume'
  | 'rollback'
  | 'validate'
  | 'check-docs'
  | 'check'
  | 'approve'
  | 'audit'
  | 'keygen'
  | 'token'
  | 'mcp'
  | 'doctor'
  | 'verify-guide';

export interface CliOptions {
  docs: string;
  stateDir: string;
  color: boolean;
  json: boolean;
  set: string[];
  yes: boolean;
  keepDb: boolean;
  report?: { format: 'junit'; file: string };
  /** check: the checks configuration (default: the nearest exec-doc.checks.yaml). */
  config?: string;
  format: 'table' | 'json' | 'prometheus';
  prometheusFile?: string;
  only: string[];
  strict: boolean;
  /** check <section>: which of its check blocks. */
  phase: 'pre' | 'post' | 'rollback';
  /** resume: run again the step the dead runner was in. */
  rerunInterrupted: boolean;
  /** plan: run the section's read-only preview blocks and show what they print. */
  preview: boolean;
  /** resume: roll back instead of going on. */
  rollback: boolean;
  /** run/resume: how long to wait for another run of the same section and target. */
  lockWaitMs: number;
  /** run: steps to fail on purpose before they run (a rollback drill). */
  failBefore: string[];
  /** run, plan: the user's server is disposable, so fixtures run there. */
  disposable: boolean;
  /** run, plan: only the blocks carrying one of these tags (Runme's `--tag`). */
  tag: string[];
  /** verify-guide: how many sections run at once. */
  jobs: number;
  /** doctor: remove what is safe to remove. */
  fix: boolean;
  /** run, resume, rollback: where alerts go (else $EXEC_DOC_WEBHOOK_URL). */
  webhook?: string;
  /** run: `shared` carries exported variables from block to block (Runme's session); default: the document's. */
  session?: 'shared' | 'isolated';
  /** The access policy (default: /etc/exec-doc/policy.yaml, $EXEC_DOC_POLICY, the nearest exec-doc.policy.yaml). */
  policy?: string;
  /** A signed identity token (default: $EXEC_DOC_IDENTITY_TOKEN); else the OS user. */
  identityToken?: string;
  /** Files holding approvals for `confirm` steps on protected targets. */
  approval: string[];
  /** `name=file`: secret parameters read from files only their owner can read. */
  secretFile: string[];
  /** approve, token, audit sign: the private key to sign with; audit verify: the public key. */
  key?: string;
  /** approve: the approver's name (the policy trusts their key under it). */
  as?: string;
  /** approve: only this identity may use the approval. */
  for?: string;
  /** approve, token: how long it stays valid. */
  ttlMs?: number;
  /** approve, token: where to write it; keygen: the folder for the keys. */
  out?: string;
  /** approve: the database host the change goes to (default: from the section's connection variable). */
  targetHost?: string;
  /** audit: the log (default: the policy's audit.file, else <state-dir>/audit/audit.jsonl). */
  auditFile?: string;
  /** audit show: filters. */
  section?: string;
  identity?: string;
  action?: string;
  since?: string;
  until?: string;
}

export type ParsedCli =
  | { kind: 'command'; command: CommandName; args: string[]; options: CliOptions }
  | { kind: 'output'; text: string; exitCode: number };

interface OptionSpec {
  name: string;
  short?: string;
  value?: string;
  multiple?: boolean;
  description: string;
  commands: CommandName[] | 'all';
}

const OPTIONS: OptionSpec[] = [
  {
    name: 'docs',
    value: '<dir>',
    description: 'folder holding the guide; sections are <doc-id>/<slug> below it (default: docs)',
    commands: 'all',
  },
  {
    name: 'state-dir',
    value: '<dir>',
    description: 'where runs/ and results/ are kept (default: $EXEC_DOC_STATE_DIR or .exec-doc)',
    commands: 'all',
  },
  { name: 'no-color', description: 'plain text without colours (also when NO_COLOR is set)', commands: 'all' },
  {
    name: 'json',
    description: 'machine-readable output: NDJSON events for run/resume/check, JSON for list/plan/validate',
    commands: 'all',
  },
  {
    name: 'set',
    value: '<name=value>',
    multiple: true,
    description: 'set a section parameter (repeatable); for secrets prefer EXEC_DOC_PARAM_<name> or --secret-file',
    commands: ['plan', 'run', 'resume', 'rollback', 'check', 'approve'],
  },
  {
    name: 'preview',
    description: 'also run the read-only kind=preview blocks and show what the procedure would change',
    commands: ['plan'],
  },
  {
    name: 'yes',
    short: 'y',
    description: 'confirm every step marked `confirm` without asking',
    commands: ['run', 'resume'],
  },
  {
    name: 'keep-db',
    description: 'keep the embedded PostgreSQL (and its data directory) after the run, for inspection',
    commands: ['run', 'resume', 'rollback', 'check'],
  },
  {
    name: 'config',
    value: '<file>',
    description: 'the checks configuration (default: the nearest exec-doc.checks.yaml, else built-in defaults)',
    commands: ['check'],
  },
  {
    name: 'format',
    value: '<table|json|prometheus>',
    description: 'how to print the results (default: table)',
    commands: ['check'],
  },
  {
    name: 'prometheus-file',
    value: '<file>',
    description:
      "where to write every phase's last results in Prometheus text format (default: the config's prometheus.file, else <state-dir>/checks/last.prom)",
    commands: ['check'],
  },
  {
    name: 'only',
    value: '<check>',
    multiple: true,
    description: 'run only this check of the phase (repeatable)',
    commands: ['check'],
  },
  { name: 'strict', description: 'a warning fails too (exit 1)', commands: ['check'] },
  {
    name: 'phase',
    value: '<pre|post|rollback>',
    description: "check <section>: which of the section's check blocks to run (default: pre)",
    commands: ['check'],
  },
  {
    name: 'lock-wait',
    value: '<duration>',
    description:
      'wait this long (e.g. 30s, 5m) for another run of the same section and target to finish, instead of refusing at once (exit 75)',
    commands: ['run', 'resume', 'rollback'],
  },
  {
    name: 'fail-before',
    value: '<step>',
    multiple: true,
    description:
      'rehearse a failure: fail this step on purpose before it runs, so the rollback of the steps before it runs and is verified (repeatable; also $EXEC_DOC_FAIL_BEFORE=a,b)',
    commands: ['run'],
  },
  {
    name: 'disposable',
    description:
      "the server in DATABASE_URL is a scratch copy: run the section's fixtures there (sample schema and data), as on the embedded default; without it, fixtures are skipped on a real server and rehearsal-only sections are refused",
    commands: ['plan', 'run'],
  },
  {
    name: 'tag',
    value: '<name>',
    multiple: true,
    description:
      "run only the blocks carrying this tag (Runme's `tag`/`category`; repeatable, any one matches): within the section named, or across the whole document for `<file>` alone",
    commands: ['plan', 'run'],
  },
  {
    name: 'session',
    value: '<shared|isolated>',
    description:
      'shared: variables a shell block exports reach the blocks after it, as in Runme (the default for documents saved by Runme, or with `exec-doc: {session: shared}`); isolated: every block starts from the same environment (the default)',
    commands: ['run'],
  },
  {
    name: 'jobs',
    value: '<n>',
    description: 'verify-guide: how many sections run at once (default 2; each has its own state, ports and server)',
    commands: ['verify-guide'],
  },
  {
    name: 'fix',
    description: 'doctor: remove what is safe to remove (stale locks, the data of embedded servers nobody can resume)',
    commands: ['doctor'],
  },
  {
    name: 'rerun-interrupted',
    description: 'resume: run again the step that was running when the runner died (it may have done part of its work)',
    commands: ['resume'],
  },
  {
    name: 'rollback',
    description:
      'resume: roll back instead of going on: the interrupted step first, then the completed steps in reverse',
    commands: ['resume'],
  },
  {
    name: 'webhook',
    value: '<url>',
    description:
      'when the run fails, is rolled back or leaves a rollback incomplete, POST a JSON notice here (default: $EXEC_DOC_WEBHOOK_URL); a webhook that is down never changes the exit code',
    commands: ['run', 'resume', 'rollback'],
  },
  {
    name: 'report',
    value: 'junit <file>',
    description: 'also write a report: `--report junit <file>`',
    commands: ['run', 'resume', 'rollback'],
  },
  {
    name: 'policy',
    value: '<file>',
    description:
      'the access policy (default: $EXEC_DOC_POLICY, else the nearest exec-doc.policy.yaml; /etc/exec-doc/policy.yaml, when present, always applies)',
    commands: ['plan', 'run', 'resume', 'rollback', 'approve', 'audit', 'token'],
  },
  {
    name: 'identity-token',
    value: '<file>',
    description:
      'act as the identity a signed token proves (default: $EXEC_DOC_IDENTITY_TOKEN, else the OS user); see `exec-doc token`',
    commands: ['plan', 'run', 'resume', 'rollback'],
  },
  {
    name: 'approval',
    value: '<file>',
    multiple: true,
    description:
      'an approval from another identity for `confirm` steps on a protected target (repeatable); see `exec-doc approve`',
    commands: ['run', 'resume'],
  },
  {
    name: 'secret-file',
    value: '<name=file>',
    multiple: true,
    description: 'read secret parameter <name> from a file only you can read (mode 0600), instead of the environment',
    commands: ['run', 'resume', 'rollback'],
  },
  {
    name: 'key',
    value: '<file>',
    description:
      'approve, token, audit sign: your Ed25519 private key; audit verify: the public key of the checkpoints',
    commands: ['approve', 'token', 'audit'],
  },
  {
    name: 'as',
    value: '<name>',
    description: 'approve: your name, under which the policy trusts your key',
    commands: ['approve'],
  },
  {
    name: 'for',
    value: '<name>',
    description: 'approve: only this identity may use the approval',
    commands: ['approve'],
  },
  {
    name: 'ttl',
    value: '<duration>',
    description:
      "approve, token: how long it stays valid (default 1h; approvals at most the policy's approvals.maxTtl, tokens 24h)",
    commands: ['approve', 'token'],
  },
  {
    name: 'out',
    value: '<path>',
    description:
      'approve, token: the file to write (default: standard output); keygen: the folder for <name>.key and <name>.pub; verify-guide: the folder of the published records (default: verification)',
    commands: ['approve', 'token', 'keygen', 'verify-guide'],
  },
  {
    name: 'target-host',
    value: '<host>',
    description:
      "approve: the database host the change will run against (default: the host of the section's $DATABASE_URL; none: this machine)",
    commands: ['approve'],
  },
  {
    name: 'audit-file',
    value: '<file>',
    description: "the audit log (default: the policy's audit.file, else <state-dir>/audit/audit.jsonl)",
    commands: ['audit'],
  },
  {
    name: 'section',
    value: '<glob>',
    description: 'audit show: only entries of matching sections',
    commands: ['audit'],
  },
  { name: 'identity', value: '<name>', description: 'audit show: only entries of this identity', commands: ['audit'] },
  {
    name: 'action',
    value: '<action>',
    description: 'audit show: only run, resume, step, rollback, approve, refuse or sign',
    commands: ['audit'],
  },
  {
    name: 'since',
    value: '<time>',
    description: 'audit show: entries at or after this ISO-8601 time (or a duration ago: 2h)',
    commands: ['audit'],
  },
  {
    name: 'until',
    value: '<time>',
    description: 'audit show: entries at or before this ISO-8601 time',
    commands: ['audit'],
  },
  { name: 'help', short: 'h', description: 'show this help', commands: 'all' },
];

interface CommandSpec {
  name: CommandName;
  /** Positional arguments: `<x>` required, `[x...]` optional list. */
  args: string;
  summary: string;
  help: string;
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'list',
    args: '[file]',
    summary: 'list the executable sections of the guide, or the sections and blocks of one document',
    help: 'Lists every section that holds executable blocks, with its steps, checks, rollbacks and requirements. Given a markdown file (a Runme README, a runbook outside the guide), lists its sections and each block with its language, tags and first line: the names `exec-doc run <file>#<name>` takes.',
  },
  {
    name: 'plan',
    args: '<section>',
    summary: 'show what a section would do; executes nothing',
    help: "Shows the order of execution, each step's rollback partner, the checks that verify a rollback, the requirements and the parameters. Executes nothing.",
  },
  {
    name: 'run',
    args: '<section>',
    summary: 'run a section: plan, execute, verify, roll back on failure (the default command)',
    help: 'Checks requirements (nothing runs if one is missing), runs the steps in order, each timed and verified; on failure (or Ctrl-C) runs the rollbacks of the completed steps in reverse order and then the checks that verify it.',
  },
  {
    name: 'resume',
    args: '<run-id>',
    summary: 'continue a run whose runner was killed, without redoing completed steps',
    help: 'Continues an unfinished run from its state directory: completed steps are not run again; a rollback in progress is finished. Secret parameters must be given again.',
  },
  {
    name: 'validate',
    args: '[files...]',
    summary: 'check annotations and runbooks in the documents',
    help: "Reports every problem in the documents' annotations as file:line:column. Exits 64 when there is an error.",
  },
  {
    name: 'check',
    args: '<phase|section>',
    summary: 'run the validation checks of a phase (pre-upgrade, post-upgrade, post-rollback) or of a section',
    help: 'A phase runs the checks exec-doc.checks.yaml assigns to it, concurrently and each under its own timeout, against DATABASE_URL (or PG*) or an embedded PostgreSQL started for the purpose. Each check reports pass, warn, fail or error (it could not answer), the measured value, the threshold and its duration. A section runs its check blocks of --phase. The last results are also written in Prometheus text format. Exit: 0 nothing failed (warnings allowed unless --strict), 1 a check failed, 3 a check could not answer, 64 bad configuration, 130 interrupted (Ctrl-C).',
  },
  {
    name: 'approve',
    args: '<section>',
    summary: 'sign an approval for another identity to run the confirm steps of a section on a protected target',
    help: "Signs, with your key, an approval bound to the section's content hash, the parameter values (--set), the target and an expiry. The policy must trust your key under --as and let you approve the section. The approval is used once, by someone else: the two-person rule. Exit 77 when the policy does not let you approve.",
  },
  {
    name: 'audit',
    args: '<verify|show|sign>',
    summary: 'verify, show or sign the tamper-evident audit trail',
    help: 'verify: checks every entry of the hash-chained log, its head and (with --key <public key>) its signed checkpoints; names the first changed, deleted, inserted, reordered or truncated entry. Exit 0 intact, 1 tampered. show: the entries, filtered by --section, --identity, --action, --since, --until (--json: one JSON object per line). sign: appends a checkpoint of the log as it is now, signed with --key <private key>.',
  },
  {
    name: 'keygen',
    args: '<name>',
    summary: 'make an Ed25519 key pair for signing identity tokens, approvals or audit checkpoints',
    help: 'Writes <name>.key (private, mode 0600) and <name>.pub into --out (default: the current folder); never overwrites. Give the .pub file to the policy (identities.<name>.publicKey); keep the .key file.',
  },
  {
    name: 'token',
    args: '<name>',
    summary: 'issue a signed identity token, for CI and agents (the OS user is the identity otherwise)',
    help: 'Signs a short-lived statement that the holder is <name>, with the private key the policy trusts for <name>. Pass it to run/plan/resume with --identity-token <file> or $EXEC_DOC_IDENTITY_TOKEN. Tokens live at most 24h (default 1h).',
  },
  {
    name: 'rollback',
    args: '<run-id>',
    summary: "undo a run that succeeded: its steps' rollbacks in reverse, then the checks that prove it",
    help: "Undoes a finished run that succeeded: the rollbacks of its completed steps in reverse order, then the checks that verify the rollback (the pre checks and the rollback-phase ones), then the setup's rollbacks and the teardown. The run is continued under its own id, so its events and record show the rollback. The section must be as it was when the run succeeded; secret parameters must be given again. A run on the embedded PostgreSQL can be rolled back only if it was run with --keep-db. A run whose rollback did not finish (exit 2) is tried again from what was left, once the cause is fixed. Exit 0 when everything was undone and verified (1 for a run that had failed), 2 when not.",
  },
  {
    name: 'doctor',
    args: '',
    summary:
      'find what is wrong here (unfinished runs, leftover processes and servers, stale locks, documents, requirements) and say how to fix it',
    help: 'Looks at unfinished runs and damaged run journals, processes a killed runner left behind, stale locks, embedded PostgreSQL servers left running or kept, errors in the guide, the checks configuration and access policy, and what the guide needs from this machine. Each finding says why it matters and the command that fixes it. Changes nothing unless --fix is given: then stale locks and the data of servers nobody can resume are removed. Exit 1 when there is a problem, 0 otherwise (warnings included).',
  },
  {
    name: 'mcp',
    args: '',
    summary: 'serve the guide to AI agents over the Model Context Protocol (stdio)',
    help: "Speaks MCP on standard input and output, for an agent's client to start: tools to list and search the procedures, read a section with its metadata, plan, run (with the same access control, confirmations and approvals as the command line; a step marked confirm needs yes=true), resume, run a validation phase and read a run's result; every guide page and the runbook index as resources. Logs go to standard error.",
  },
  {
    name: 'verify-guide',
    args: '[sections...]',
    summary: "run every procedure of the guide (or those named) and publish each one's result record for the site",
    help: "Runs each section as `exec-doc run` does (with --yes), each in a state folder of its own, --jobs at a time, and writes its result record to --out (default: verification/<doc-id>/<slug>.json), with the commit it was verified at. Commit that folder: the site shows each procedure's last verification from it, and the test suite fails for a procedure whose content changed since (its record is stale). A section that cannot run on this machine (a missing requirement) gets a record saying so. The records hold no secret and no output of a passed step.",
  },
  {
    name: 'check-docs',
    args: '',
    summary: 'check the whole guide: AI-discovery comments, links, anchors, headings, TL;DR, annotations',
    help: 'Everything the site build checks, as file:line:column messages (npm run check:docs). Exits 64 when there is an error.',
  },
];

const SECTIONS_HELP = `
Sections:
  <doc-id>/<heading-slug>     a section of a document under --docs (e.g. quick-start/demo-migration)
  <heading-slug>              the same, when the slug is unique in the guide
  <file.md|mdx>#<slug>        a section of any markdown file on disk
`;

const RUN_EXIT_CODES = `
Exit codes:
  0   success
  1   a step failed and the rollback completed
  2   a step failed and the rollback failed or was incomplete
  3   a requirement is missing (nothing ran)
  64  usage or document error (nothing ran)
  70  internal error (a bug in exec-doc)
  75  the section is being run against the same target by another run (nothing ran)
  77  refused: the access policy, a missing or invalid approval, an untrusted identity token,
      or an audit trail that was tampered with (nothing ran)
`;

/** The sections an address names, and the exit codes of run (the program's help and run-like commands). */
export const EXIT_CODES_HELP = `${SECTIONS_HELP}${RUN_EXIT_CODES}`;

/** Commands whose exit codes are their own, not a run's. */
const OWN_EXIT_CODES: Partial<Record<CommandName, string>> = {
  check: `
Exit codes:
  0   nothing failed (warnings allowed unless --strict)
  1   a check failed (or, with --strict, warned)
  3   a check could not answer, or a requirement of the section is missing
  64  usage or configuration error (nothing ran)
  130 interrupted (Ctrl-C)
`,
  audit: `
Exit codes:
  0   verify: every entry intact; show, sign: done
  1   verify: an entry was changed, deleted, inserted, reordered or cut off (the first is named)
  64  usage error
  77  sign: the log is not intact, so it is not signed
`,
  approve: `
Exit codes:
  0   the approval was written
  64  usage or document error, or a parameter is not right
  77  the policy does not trust your key under --as, or does not let you approve this section
`,
  keygen: `
Exit codes:
  0   the key pair was written
  64  usage error, or a key of that name exists
`,
  token: `
Exit codes:
  0   the token was written
  64  usage error, or the private key cannot be read (it must be yours alone: 0600)
`,
  list: `
Exit codes:
  0   listed
  64  usage error, or the docs folder is missing
`,
  validate: `
Exit codes:
  0   no error (warnings allowed)
  64  an error in a document
`,
  'verify-guide': `
Exit codes:
  0   every section ended as expected: succeeded, could not run here (a missing requirement),
      or, for a section whose slug ends in -failing, failed and rolled back
  1   a section ended otherwise (its record is written all the same)
  64  usage error: an unknown section, a bad --jobs
  130 stopped (Ctrl-C, SIGTERM): the runs under way were stopped and rolled back
`,
  'check-docs': `
Exit codes:
  0   no error (warnings allowed)
  64  an error in the guide
`,
};

const optionsOf = (command: CommandName): OptionSpec[] =>
  OPTIONS.filter((o) => o.commands === 'all' || o.commands.includes(command));
const flag = (o: OptionSpec): string => `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.value ? ` ${o.value}` : ''}`;

function columns(rows: Array<[string, string]>): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}

export function programHelp(): string {
  return [
    'Usage: exec-doc [command] [options]',
    '',
    "Runs the procedures of an executable guide: each section's annotated code blocks are steps, checks and rollbacks.",
    '',
    'Commands:',
    columns([
      ...COMMANDS.map((c): [string, string] => [`${c.name}${c.args ? ` ${c.args}` : ''}`, c.summary]),
      ['<section>', 'same as run <section>'],
    ]),
    '',
    'Run `exec-doc <command> --help` for its options.',
    EXIT_CODES_HELP,
  ].join('\n');
}

export function commandHelp(name: CommandName): string {
  const spec = COMMANDS.find((c) => c.name === name)!;
  return [
    `Usage: exec-doc ${name}${spec.args ? ` ${spec.args}` : ''} [options]`,
    '',
    spec.help,
    '',
    'Options:',
    columns(optionsOf(name).map((o) => [flag(o), o.description])),
    ...(['plan', 'run', 'check', 'approve'].includes(name) ? [SECTIONS_HELP] : []),
    OWN_EXIT_CODES[name] ?? RUN_EXIT_CODES,
  ].join('\n');
}

function defaults(env: NodeJS.ProcessEnv): CliOptions {
  return {
    docs: 'docs',
    stateDir: env.EXEC_DOC_STATE_DIR ?? '.exec-doc',
    approval: [],
    secretFile: [],
    failBefore: [],
    disposable: false,
    tag: [],
    fix: false,
    color: !env.NO_COLOR,
    json: false,
    set: [],
    yes: false,
    keepDb: false,
    format: 'table',
    only: [],
    strict: false,
    phase: 'pre',
    rerunInterrupted: false,
    preview: false,
    rollback: false,
    lockWaitMs: 0,
    jobs: 2,
  };
}

const usage = (message: string, command?: CommandName): ParsedCli => ({
  kind: 'output',
  text: `exec-doc: ${message}\nSee \`exec-doc ${command ? `${command} ` : ''}--help\`.\n`,
  exitCode: 64,
});

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = {}): ParsedCli {
  if (argv.length === 0) return { kind: 'output', text: programHelp(), exitCode: 64 };
  const first = argv[0]!;
  if (first === '--help' || first === '-h' || first === 'help') {
    const topic = COMMANDS.find((c) => c.name === argv[1]);
    return { kind: 'output', text: topic ? commandHelp(topic.name) : programHelp(), exitCode: 0 };
  }
  const spec = COMMANDS.find((c) => c.name === first) ?? COMMANDS.find((c) => c.name === 'run')!;
  const rest = spec.name === first ? argv.slice(1) : argv;

  // `--report junit <file>` takes two values; parseArgs takes one, so join them first.
  const joined: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (
      rest[i] === '--report' &&
      rest[i + 1] !== undefined &&
      !rest[i + 1]!.includes('=') &&
      rest[i + 2] !== undefined &&
      !rest[i + 2]!.startsWith('-')
    ) {
      joined.push(`--report=${rest[i + 1]}=${rest[i + 2]}`);
      i += 2;
    } else joined.push(rest[i]!);
  }

  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const o of optionsOf(spec.name))
    config[o.name] = {
      type: o.value ? 'string' : 'boolean',
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: joined, options: config, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) return usage(`unknown option '${unknown[1]}' for ${spec.name}`, spec.name);
    return usage(message.split('\n')[0]!.replace(/\.$/, ''), spec.name);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { kind: 'output', text: commandHelp(spec.name), exitCode: 0 };

  const positionals = parsed.positionals;
  const required = /^<([^>]+)>$/.exec(spec.args);
  if (required && positionals.length === 0) return usage(`missing required argument '${required[1]}'`, spec.name);
  const maxArgs = spec.args === '' ? 0 : spec.args.includes('...') ? Infinity : 1;
  if (positionals.length > maxArgs)
    return usage(`unexpected argument '${positionals[maxArgs]}' for ${spec.name}`, spec.name);

  const options = defaults(env);
  if (typeof values.docs === 'string') options.docs = values.docs;
  if (typeof values['state-dir'] === 'string') options.stateDir = values['state-dir'];
  if (values['no-color'] === true) options.color = false;
  options.json = values.json === true;
  options.set = (values.set as string[] | undefined) ?? [];
  options.yes = values.yes === true;
  options.keepDb = values['keep-db'] === true;
  options.disposable = values.disposable === true;
  if (typeof values.config === 'string') options.config = values.config;
  if (typeof values['prometheus-file'] === 'string') options.prometheusFile = values['prometheus-file'];
  options.only = (values.only as string[] | undefined) ?? [];
  options.strict = values.strict === true;
  options.rerunInterrupted = values['rerun-interrupted'] === true;
  options.preview = values.preview === true;
  options.rollback = values.rollback === true;
  if (typeof values['lock-wait'] === 'string') {
    const ms = parseDurationMs(values['lock-wait']);
    if (ms === undefined)
      return usage(`--lock-wait takes a duration such as 30s or 5m, not '${values['lock-wait']}'`, spec.name);
    options.lockWaitMs = ms;
  }
  for (const [flag, key] of [
    ['policy', 'policy'],
    ['identity-token', 'identityToken'],
    ['key', 'key'],
    ['as', 'as'],
    ['for', 'for'],
    ['out', 'out'],
    ['target-host', 'targetHost'],
    ['audit-file', 'auditFile'],
    ['section', 'section'],
    ['identity', 'identity'],
    ['action', 'action'],
    ['since', 'since'],
    ['until', 'until'],
  ] as const)
    if (typeof values[flag] === 'string') options[key] = values[flag];
  options.approval = (values.approval as string[] | undefined) ?? [];
  options.secretFile = (values['secret-file'] as string[] | undefined) ?? [];
  options.failBefore = (values['fail-before'] as string[] | undefined) ?? [];
  options.tag = ((values.tag as string[] | undefined) ?? [])
    .flatMap((t) => t.split(','))
    .map((t) => t.trim())
    .filter(Boolean);
  if (typeof values.webhook === 'string') options.webhook = values.webhook;
  options.fix = values.fix === true;
  if (typeof values.jobs === 'string') {
    const jobs = Number(values.jobs);
    if (!/^[0-9]+$/.test(values.jobs) || jobs < 1 || jobs > 32)
      return usage(`--jobs takes a whole number from 1 to 32, not '${values.jobs}'`, spec.name);
    options.jobs = jobs;
  }
  if (typeof values.session === 'string') {
    if (values.session !== 'shared' && values.session !== 'isolated')
      return usage(`--session takes shared or isolated, not '${values.session}'`, spec.name);
    options.session = values.session;
  }
  if (typeof values.ttl === 'string') {
    const ms = parseDurationMs(values.ttl);
    if (ms === undefined || ms <= 0)
      return usage(`--ttl takes a duration such as 30m or 2h, not '${values.ttl}'`, spec.name);
    options.ttlMs = ms;
  }
  if (spec.name === 'audit' && !['verify', 'show', 'sign'].includes(positionals[0]!))
    return usage(`audit takes verify, show or sign, not '${positionals[0]}'`, spec.name);
  if (options.rerunInterrupted && options.rollback)
    return usage('--rerun-interrupted and --rollback ask for opposite things; give one', spec.name);
  if (typeof values.format === 'string') {
    if (!['table', 'json', 'prometheus'].includes(values.format))
      return usage(`--format takes table, json or prometheus, not '${values.format}'`, spec.name);
    options.format = values.format as CliOptions['format'];
  }
  if (typeof values.phase === 'string') {
    if (!['pre', 'post', 'rollback'].includes(values.phase))
      return usage(`--phase takes pre, post or rollback, not '${values.phase}'`, spec.name);
    options.phase = values.phase as CliOptions['phase'];
  }
  if (typeof values.report === 'string') {
    const eq = values.report.indexOf('=');
    const format = eq < 0 ? values.report : values.report.slice(0, eq);
    const file = eq < 0 ? '' : values.report.slice(eq + 1);
    if (format !== 'junit' || !file)
      return usage(
        '--report takes a format and a file, e.g. `--report junit results.xml` (only junit is supported)',
        spec.name,
      );
    options.report = { format: 'junit', file };
  }
  return { kind: 'command', command: spec.name, args: positionals, options };
}
