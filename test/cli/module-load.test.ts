// Which of the engine's modules a warm command loads (issue 15): a deterministic guard instead of
// a timed test. A new eager import into the path of a shell-only `run` or of `list` changes these
// lists and fails here; load it where it is needed (`await import(...)`), or, when it belongs on
// the path, add it to the list in the same change and say why in its message.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers.js';

const REGISTER = path.join(ROOT, 'test', 'fixtures', 'module-load', 'register.mjs');

/** The dist/src modules (relative) one warm command loads, sorted. */
function loaded(args: string[]): string[] {
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', REGISTER, path.join(ROOT, 'bin', 'exec-doc.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
  // Once to warm the caches (the document cache, the build check), then measured.
  run({});
  const log = path.join(tempDir('exec-doc-modules-'), 'loaded.txt');
  writeFileSync(log, '');
  const r = run({ EXEC_DOC_MODULE_LOG: log });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.includes('/dist/src/'))
    .map((url) => url.slice(url.indexOf('/dist/src/') + '/dist/src/'.length))
    .sort();
}

// A shell-only section: no SQL, no checks block, no hosts, no policy.
const SHELL_RUN = [
  'annotations/duration.js',
  'annotations/fields.js',
  'annotations/parse-meta.js',
  'checks/block.js',
  'checks/config.js',
  'checks/library/backup.js',
  'checks/library/compatibility.js',
  'checks/library/config-schema.js',
  'checks/library/container.js',
  'checks/library/host.js',
  'checks/library/http.js',
  'checks/library/kubernetes.js',
  'checks/library/ledger.js',
  'checks/library/packages.js',
  'checks/library/pep440.js',
  'checks/library/postgres.js',
  'checks/library/python.js',
  'checks/library/security.js',
  'checks/library/snapshot.js',
  'checks/registry.js',
  'checks/support.js',
  'checks/types.js',
  'cli/access.js',
  'cli/main.js',
  'cli/parse.js',
  'cli/plan-access.js',
  'cli/preflight.js',
  'cli/signals.js',
  'documents/address.js',
  'documents/corpus.js',
  'documents/discover.js',
  'documents/load.js',
  'documents/select.js',
  'documents/summary.js',
  'errors/exec-doc-error.js',
  'events/emitter.js',
  'extract/extract.js',
  'extract/meta-location.js',
  'extract/settings.js',
  'extract/validate.js',
  'languages/commands.js',
  'markdown/html-comments.js',
  'model/diagnostic.js',
  'model/doc-id.js',
  'model/hash.js',
  'model/param-value.js',
  'model/run-id.js',
  'model/table-name.js',
  'model/types.js',
  'placeholders/index.js',
  'placeholders/languages.js',
  'placeholders/lex-js.js',
  'placeholders/lex-python.js',
  'placeholders/lex-shell.js',
  'placeholders/lex-sql.js',
  'placeholders/recorder.js',
  'placeholders/render.js',
  'plan/plan.js',
  'plan/rehearsal.js',
  'process/kill-tree.js',
  'process/launcher.js',
  'process/process.js',
  'report/format.js',
  'report/summary.js',
  'report/terminal.js',
  'results/record.js',
  'runner/execute-step.js',
  'runner/handoff.js',
  'runner/metrics.js',
  'runner/params.js',
  'runner/prompt-env.js',
  'runner/reasons.js',
  'runner/requirements.js',
  'runner/resources.js',
  'runner/run.js',
  'runner/section-lock.js',
  'runner/state.js',
  'runner/verify.js',
  'secrets/masker.js',
  'security/access.js',
  'security/approvals.js',
  'security/audit.js',
  'security/files.js',
  'security/identity.js',
  'security/policy.js',
  'security/secret-sources.js',
  'security/signing.js',
  'targets/url.js',
  'util/coded-error.js',
  'util/edit-distance.js',
  'util/fs.js',
  'util/json-error-offset.js',
  'util/lock-file.js',
  'util/owned-temp.js',
  'util/process-identity.js',
  'util/project-root.js',
  'util/read-json.js',
  'util/run-file.js',
  'util/text-position.js',
  'util/thin.js',
  'util/walk-files.js',
  'util/which.js',
  'util/yaml-position.js',
];

// The guide's index: read from the document cache and planned, without the checks library (the
// extractor records which checks blocks read the database) or a schema or YAML parser.
const WARM_LIST = [
  'annotations/duration.js',
  'checks/types.js',
  'cli/main.js',
  'cli/parse.js',
  'cli/preflight.js',
  'cli/signals.js',
  'documents/corpus.js',
  'documents/discover.js',
  'documents/summary.js',
  'errors/exec-doc-error.js',
  'languages/commands.js',
  'model/diagnostic.js',
  'plan/plan.js',
  'util/coded-error.js',
  'util/fs.js',
  'util/project-root.js',
  'util/walk-files.js',
  'util/which.js',
];

describe('modules a warm command loads', () => {
  it('a shell-only run loads nothing of db/, hosts/, site/, agents/ or theme/', () => {
    const dir = tempDir('exec-doc-modules-run-');
    const doc = path.join(dir, 'doc.md');
    writeFileSync(doc, '# T\n\n## S\n\n```bash {id=a rollback=none}\necho hi\n```\n');
    const modules = loaded(['run', doc, '--state-dir', path.join(dir, 'state')]);
    expect(modules).toEqual(SHELL_RUN);
    expect(modules.filter((m) => /^(db|hosts|site|agents|theme)\//.test(m))).toEqual([]);
  }, 60_000);

  it('list loads no runner, extractor, checks library or database module', () => {
    const modules = loaded(['list', '--docs', path.join(ROOT, 'docs')]);
    expect(modules).toEqual(WARM_LIST);
    // checks/types.js holds only the names of the validation phases.
    expect(modules.filter((m) => /^(runner|extract|db|hosts)\/|^checks\/(?!types\.js$)/.test(m))).toEqual([]);
  }, 60_000);
});
