// One shape for the errors a user can act on: every error class carries a code, keeps its cause,
// and one table gives its exit code (an error without a code is a bug: exit 70).
import { describe, expect, it } from 'vitest';
import { CodedError, EXIT, EXIT_BY_CODE, ExecDocError } from '../../src/errors/exec-doc-error.js';
import { JsonFileError } from '../../src/util/read-json.js';
import { LockFileError } from '../../src/checks/library/python.js';
import { CheckCannotRun } from '../../src/checks/types.js';
import { LockTimeoutError } from '../../src/db/lock.js';
import { MigrationFilesError } from '../../src/db/migration-files.js';
import { BackupError } from '../../src/db/backup.js';
import { SnapshotFileError } from '../../src/db/snapshot.js';
import { DbError } from '../../src/db/migrate.js';
import { BackfillError } from '../../src/db/backfill.js';

describe('coded errors', () => {
  const cause = new Error('underneath');
  const cases: Array<[CodedError, number]> = [
    [new ExecDocError('E_PARAM', 'bad value', { cause, details: ['fix it'] }), EXIT.usage],
    [new ExecDocError('E_SECTION_LOCKED', 'busy'), EXIT.locked],
    [new ExecDocError('E_TARGET', 'no server'), EXIT.requirementMissing],
    [new JsonFileError('f.json', 1, 2, 'truncated', 'truncated'), EXIT.usage],
    [new LockFileError('req.lock', 3, 1, 'bad line'), EXIT.usage],
    [new CheckCannotRun('no psql', { cause }), EXIT.requirementMissing],
    [new LockTimeoutError(2000, []), EXIT.rolledBack],
    [new MigrationFilesError(['x: bad name']), EXIT.usage],
    [new BackupError('no room', ['free space']), EXIT.rolledBack],
    [new SnapshotFileError('s.json', 1, 1, 'not a snapshot'), EXIT.usage],
    [new DbError('E_DRIFT', 'edited', ['restore it'], { cause }), EXIT.rolledBack],
    [new DbError('E_REFUSED', 'out of order'), EXIT.rolledBack],
    [new BackfillError('not a table'), EXIT.rolledBack],
  ];

  it.each(cases)('%s', (error, exit) => {
    expect(error).toBeInstanceOf(CodedError);
    expect(error.code).toMatch(/^E_[A-Z_]+$/);
    expect(error.exitCode).toBe(exit);
    expect(error.name).toBe(error.constructor.name);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('keeps the cause and the details', () => {
    expect(cases[0]![0].cause).toBe(cause);
    expect(cases[0]![0].details).toEqual(['fix it']);
    expect(cases[10]![0].details).toEqual(['restore it']);
  });

  it('has an exit code for every code, and only documented ones', () => {
    expect(new Set(Object.values(EXIT_BY_CODE))).toEqual(
      new Set([EXIT.rolledBack, EXIT.requirementMissing, EXIT.usage, EXIT.locked, EXIT.denied]),
    );
  });
});
