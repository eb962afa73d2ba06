// The command line as data: commands and options in one table that also produces --help.
// parseCli() runs nothing; it returns what to do, or a usage error.
import { Command, CommanderError, Option } from 'commander';

export type CommandName = 'list' | 'plan' | 'run' | 'resume' | 'validate';

export interface CliOptions {
  docs: string;
  stateDir: string;
  color: boolean;
  json: boolean;
  set: string[];
  yes: boolean;
  keepDb: boolean;
  report?: { format: 'junit'; file: string };
}

export type ParsedCli =
  | { kind: 'command'; command: CommandName; args: string[]; options: CliOptions }
  | { kind: 'output'; text: string; exitCode: number };

interface OptionSpec {
  flags: string;
  description: string;
  commands: CommandName[] | 'all';
  default?: unknown;
}

const OPTIONS: OptionSpec[] = [
  { flags: '--docs <dir>', description: 'folder holding the guide (documents addressed as <doc-id>/<slug>)', commands: 'all', default: 'docs' },
  { flags: '--state-dir <dir>', description: 'where runs/ and results/ are kept (default: $EXEC_DOC_STATE_DIR or .exec-doc)', commands: 'all' },
  { flags: '--no-color', description: 'plain text without colours (also when NO_COLOR is set)', commands: 'all' },
  { flags: '--json', description: 'machine-readable output: NDJSON events for run/resume, JSON for list/plan/validate', commands: 'all' },
  { flags: '--set <name=value>', description: 'set a section parameter (repeatable); for secrets prefer EXEC_DOC_PARAM_<name>', commands: ['plan', 'run', 'resume'] },
  { flags: '-y, --yes', description: 'confirm every step marked `confirm` without asking', commands: ['run', 'resume'] },
  { flags: '--keep-db', description: 'keep the embedded PostgreSQL (and its data directory) after the run, for inspection', commands: ['run', 'resume'] },
  { flags: '--report <format-and-file...>', description: 'also write a report: `--report junit <file>`', commands: ['run', 'resume'] },
];

const COMMANDS: Array<{ name: CommandName; args: string; summary: string; help: string; isDefault?: boolean }> = [
  { name: 'list', args: '', summary: 'list the executable sections of the guide', help: 'Lists every section that holds executable blocks, with its steps, checks, rollbacks and requirements.' },
  { name: 'plan', args: '<section>', summary: 'show what a section would do; executes nothing', help: 'Shows the order of execution, each step\'s rollback partner, the checks that verify a rollback, the requirements and the parameters. Executes nothing.' },
  { name: 'run', args: '<section>', summary: 'run a section: plan, execute, verify, roll back on failure (the default command)', help: 'Checks requirements (nothing runs if one is missing), runs the steps in order, each timed and verified; on failure (or Ctrl-C) runs the rollbacks of the completed steps in reverse order and then the checks that verify it.', isDefault: true },
  { name: 'resume', args: '<run-id>', summary: 'continue a run whose runner was killed, without redoing completed steps', help: 'Continues an unfinished run from its state directory: completed steps are not run again; a rollback in progress is finished. Secret parameters must be given again.' },
  { name: 'validate', args: '[files...]', summary: 'check annotations and runbooks in the documents', help: 'Reports every problem in the documents\' annotations as file:line:column. Exits 64 when there is an error.' },
];

export const EXIT_CODES_HELP = `
Sections:
  <doc-id>/<heading-slug>     a section of a document under --docs (e.g. getting-started/demo-migration)
  <heading-slug>              the same, when the slug is unique in the guide
  <file.md|mdx>#<slug>        a section of any markdown file on disk

Exit codes:
  0   success
  1   a step failed and the rollback completed
  2   a step failed and the rollback failed or was incomplete
  3   a requirement is missing (nothing ran)
  64  usage or document error (nothing ran)
  70  internal error (a bug in exec-doc)
`;

function defaults(env: NodeJS.ProcessEnv): CliOptions {
  return { docs: 'docs', stateDir: env.EXEC_DOC_STATE_DIR ?? '.exec-doc', color: !env.NO_COLOR, json: false, set: [], yes: false, keepDb: false };
}

export function buildProgram(onCommand: (name: CommandName, args: string[], raw: Record<string, unknown>) => void): Command {
  const program = new Command('exec-doc')
    .description('Runs the procedures of an executable guide: each section\'s annotated code blocks are steps, checks and rollbacks.')
    .addHelpText('after', EXIT_CODES_HELP)
    .showSuggestionAfterError(true)
    .helpCommand(true);
  for (const spec of COMMANDS) {
    const command = program.command(`${spec.name}${spec.args ? ` ${spec.args}` : ''}`, { isDefault: spec.isDefault ?? false }).summary(spec.summary).description(spec.help).addHelpText('after', EXIT_CODES_HELP);
    for (const option of OPTIONS.filter((o) => o.commands === 'all' || o.commands.includes(spec.name))) {
      const o = new Option(option.flags, option.description);
      if (option.flags.startsWith('--set')) o.argParser((value: string, previous: string[] = []) => [...previous, value]);
      if (option.default !== undefined) o.default(option.default);
      command.addOption(o);
    }
    command.action((...received: unknown[]) => {
      const cmd = received[received.length - 1] as Command;
      const positional = received.slice(0, -2).flatMap((v) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]));
      onCommand(spec.name, positional, cmd.opts());
    });
  }
  return program;
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = {}): ParsedCli {
  let parsed: ParsedCli | undefined;
  let output = '';
  const program = buildProgram((name, args, raw) => {
    const options = defaults(env);
    if (typeof raw.docs === 'string') options.docs = raw.docs;
    if (typeof raw.stateDir === 'string') options.stateDir = raw.stateDir;
    if (raw.color === false) options.color = false;
    options.json = raw.json === true;
    options.set = (raw.set as string[] | undefined) ?? [];
    options.yes = raw.yes === true;
    options.keepDb = raw.keepDb === true;
    if (raw.report !== undefined) {
      const spec = raw.report as string[];
      const [format, file] = spec.length === 1 && spec[0]!.includes('=') ? spec[0]!.split('=', 2) : spec;
      if (spec.length > 2 || format !== 'junit' || !file) {
        parsed = { kind: 'output', text: `exec-doc: --report takes a format and a file, e.g. \`--report junit results.xml\` (only junit is supported); put it after the section\n`, exitCode: 64 };
        return;
      }
      options.report = { format: 'junit', file };
    }
    parsed = { kind: 'command', command: name, args, options };
  });
  program.exitOverride();
  for (const command of [program, ...program.commands]) {
    command.exitOverride();
    command.configureOutput({ writeOut: (s) => (output += s), writeErr: (s) => (output += s) });
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      const ok = error.code === 'commander.helpDisplayed' || error.code === 'commander.help' || error.code === 'commander.version';
      return { kind: 'output', text: output, exitCode: ok ? 0 : 64 };
    }
    throw error;
  }
  if (!parsed) return { kind: 'output', text: output || program.helpInformation(), exitCode: argv.length === 0 ? 64 : 0 };
  return parsed;
}
