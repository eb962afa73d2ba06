// The Python environment check on a real venv with wheels built here (PyPI is unreachable):
// a consistent environment, a broken requirement, a drifted lock, and malformed lock files.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { parseLockFile, LockFileError } from '../../src/checks/library/python.js';
import { runCheck } from './helpers.js';

// A wheel is a zip of the package and its dist-info; Python's zipfile writes it.
const MAKE_WHEEL = `
import sys, zipfile, hashlib, base64
out, name, version, *requires = sys.argv[1:]
dist = f"{name.replace('-', '_')}-{version}.dist-info"
files = {
  f"{name.replace('-', '_')}/__init__.py": f"__version__ = '{version}'\\n",
  f"{dist}/METADATA": "Metadata-Version: 2.1\\nName: " + name + "\\nVersion: " + version + "\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires),
  f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
with zipfile.ZipFile(f"{out}/{name.replace('-', '_')}-{version}-py3-none-any.whl", "w") as z:
  for path, text in files.items():
    data = text.encode()
    z.writestr(path, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
  record.append(f"{dist}/RECORD,,")
  z.writestr(f"{dist}/RECORD", "\\n".join(record) + "\\n")
`;

let venv: string;
let wheels: string;
const python = () => path.join(venv, 'bin', 'python');
const pip = (...args: string[]) => execa(python(), ['-m', 'pip', '--disable-pip-version-check', ...args]);

beforeAll(async () => {
  const dir = tempDir('exec-doc-venv-');
  wheels = path.join(dir, 'wheels');
  venv = path.join(dir, 'venv');
  await execa('mkdir', ['-p', wheels]);
  await execa('python3', ['-c', MAKE_WHEEL, wheels, 'demo-dep', '1.0.0']);
  await execa('python3', ['-c', MAKE_WHEEL, wheels, 'demo-lib', '1.0.0', 'demo-dep>=1.0']);
  await execa('python3', ['-c', MAKE_WHEEL, wheels, 'demo-lib', '2.0.0', 'demo-dep>=1.0']);
  await execa('python3', ['-m', 'venv', venv]);
  await pip('install', '--no-index', '--find-links', wheels, 'demo-lib==1.0.0');
}, 120_000);

describe('python.environment', () => {
  it('passes on a consistent venv that matches its lock', async () => {
    const lock = path.join(tempDir(), 'requirements.lock');
    writeFileSync(lock, '# pip freeze\ndemo-dep==1.0.0\nDemo_Lib==1.0.0  # the app\n');
    const r = await runCheck('python.environment', { python: python(), lockFile: lock });
    expect(r.status).toBe('pass');
    expect(r.value).toMatch(/^\d+ packages, 0 broken, 0 differ from the lock$/);
  });

  it('fails on a broken requirement (pip check) and on an installed set that differs from the lock', async () => {
    const lock = path.join(tempDir(), 'requirements.lock');
    writeFileSync(lock, 'demo-dep==1.0.0\ndemo-lib==1.0.0\n');
    await pip('install', '--no-index', '--find-links', wheels, 'demo-lib==2.0.0');
    await pip('uninstall', '-y', 'demo-dep');
    try {
      const r = await runCheck('python.environment', { python: python(), lockFile: lock });
      expect(r.status).toBe('fail');
      expect(r.detail).toContain('demo-lib 2.0.0 requires demo-dep, which is not installed.');
      expect(r.detail).toContain('demo-dep is pinned (line 1) but not installed');
      expect(r.detail).toContain('demo-lib 2.0.0 is installed, the lock pins 1.0.0 (line 2)');
      expect(r.metric).toBe(3);
    } finally {
      await pip('install', '--no-index', '--find-links', wheels, 'demo-lib==1.0.0', 'demo-dep==1.0.0');
    }
    const extra = path.join(tempDir(), 'requirements.lock');
    writeFileSync(extra, 'demo-lib==1.0.0\n');
    const r = await runCheck('python.environment', { python: python(), lockFile: extra });
    expect(r.detail).toContain('demo-dep 1.0.0 is installed but not in the lock');
    expect((await runCheck('python.environment', { python: python(), lockFile: extra, allowExtra: true })).status).toBe(
      'pass',
    );
  });

  it('reports error with the position for a malformed lock, and error for a missing interpreter', async () => {
    const lock = path.join(tempDir(), 'requirements.lock');
    writeFileSync(lock, 'demo-dep==1.0.0\n  demo-lib>=1.0\n');
    const r = await runCheck('python.environment', { python: python(), lockFile: lock });
    expect(r.status).toBe('error');
    expect(r.detail).toBe(
      `${lock}:2:11: Unexpected \`>=1.0\` after \`demo-lib\`, expected \`==<version>\`: a lock file pins exact versions; regenerate it with \`pip freeze > requirements.lock\``,
    );
    const missing = await runCheck('python.environment', { python: '/nonexistent/venv/bin/python' });
    expect(missing.status).toBe('error');
    expect(missing.detail).toContain('is not installed (not found on PATH)');
  });
});

describe('parseLockFile', () => {
  it('reads pip freeze, pip-compile (hashes, markers, extras) and direct references', () => {
    const text = [
      '# comment',
      '--index-url https://example/simple',
      'Flask[async]==3.0.0 ; python_version >= "3.8" \\',
      '    --hash=sha256:abc',
      'my_pkg @ file:///src/pkg',
      'x.y-z===1.0+local',
      '',
    ].join('\n');
    expect(parseLockFile('r.txt', text)).toEqual([
      { name: 'flask', version: '3.0.0', line: 3 },
      { name: 'my-pkg', version: null, line: 5 },
      { name: 'x-y-z', version: '1.0+local', line: 6 },
    ]);
  });

  it('names line and column of what is not a pin', () => {
    const error = (text: string) => {
      try {
        parseLockFile('r.txt', text);
      } catch (e) {
        expect(e).toBeInstanceOf(LockFileError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(error('a==1\n==2\n')).toBe(
      'r.txt:2:1: Unexpected `=`, expected a package name (a lock line is name==version, as pip freeze writes it)',
    );
    expect(error('a==\n')).toBe(
      'r.txt:1:4: Unexpected end of line after `==`, expected an exact version (e.g. a==1.2.3)',
    );
    expect(error('a==1.*\n')).toBe(
      'r.txt:1:4: Unexpected wildcard `1.*` after `==`, expected an exact version (e.g. a==1.2.3)',
    );
    expect(error('a==1\nA==2\n')).toBe(
      'r.txt:2:1: Unexpected second pin of `A` (first at line 1), expected each package once',
    );
    expect(error('requests\n')).toMatch(/^r\.txt:1:9: Unexpected end of line after `requests`, expected `==<version>`/);
  });
});
