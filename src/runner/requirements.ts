// Requirements are checked before anything runs: every missing one is reported at once,
// each with what was found and how to provide it.
import os from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runFile } from '../util/run-file.js';
import type { PostgresTarget, Requirement } from '../model/types.js';
import { commandExists } from '../util/which.js';

export interface RequirementResult {
  requirement: Requirement;
  ok: boolean;
  detail: string;
}

async function probe(file: string, args: string[], timeoutMs = 10_000): Promise<{ ok: boolean; output: string }> {
  const r = await runFile(file, args, { timeoutMs });
  return { ok: r.code === 0, output: `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '' };
}

export async function checkRequirement(
  requirement: Requirement,
  context: { target: PostgresTarget; env: NodeJS.ProcessEnv },
): Promise<RequirementResult> {
  const done = (ok: boolean, detail: string): RequirementResult => ({ requirement, ok, detail });
  switch (requirement) {
    case 'postgres': {
      // pg and execa load only for sections that use PostgreSQL.
      const { checkPostgres } = await import('../targets/postgres.js');
      const r = await checkPostgres(context.target, context.env);
      return done(r.ok, r.detail);
    }
    case 'python': {
      if (!commandExists('python3', context.env))
        return done(false, 'python3 is not on PATH; install Python 3 (e.g. `apt-get install python3 python3-venv`)');
      const r = await probe('python3', ['--version']);
      return done(r.ok, r.ok ? r.output : `python3 --version failed: ${r.output}`);
    }
    case 'node':
      return done(true, `Node ${process.version}`);
    case 'root': {
      const uid = process.getuid?.();
      return done(uid === 0, uid === 0 ? 'running as root' : `running as uid ${uid}; run as root (e.g. with sudo)`);
    }
    case 'docker': {
      if (!commandExists('docker', context.env))
        return done(false, 'docker is not on PATH; install Docker, or use podman');
      const r = await probe('docker', ['info', '--format', '{{.ServerVersion}}']);
      return done(
        r.ok,
        r.ok
          ? `Docker engine ${r.output}`
          : `no Docker engine answers (\`docker info\`: ${r.output}); start dockerd, or use podman`,
      );
    }
    case 'podman': {
      if (!commandExists('podman', context.env))
        return done(false, 'podman is not on PATH; install it (e.g. `apt-get install podman runc`)');
      const r = await probe('podman', ['--version']);
      return done(r.ok, r.ok ? r.output : `podman --version failed: ${r.output}`);
    }
    case 'kubernetes': {
      const config = context.env.KUBECONFIG ?? path.join(os.homedir(), '.kube', 'config');
      if (!existsSync(config.split(':')[0] ?? config))
        return done(
          false,
          `no cluster configured (no ${config}); set KUBECONFIG to a reachable cluster — the step was not executed`,
        );
      if (!commandExists('kubectl', context.env)) return done(false, 'kubectl is not on PATH; install kubectl');
      const r = await probe('kubectl', ['cluster-info', '--request-timeout=5s']);
      return done(r.ok, r.ok ? r.output : `the cluster in ${config} does not answer: ${r.output}`);
    }
    default: {
      // `cmd:bash|sh`: any one of them (a language's interpreters, first found wins).
      const alternatives = requirement.slice('cmd:'.length).split('|');
      if (alternatives.length > 1) {
        const found = alternatives.find((p) => commandExists(p, context.env));
        return done(
          found !== undefined,
          found !== undefined
            ? `${found} is on PATH`
            : `none of ${alternatives.map((p) => `\`${p}\``).join(', ')} is on PATH; install one of them or add its folder to PATH`,
        );
      }
      const program = alternatives[0]!;
      const ok = commandExists(program, context.env);
      const where = program.includes('/') ? 'exists and is executable' : 'is on PATH';
      return done(
        ok,
        ok
          ? `${program} ${where}`
          : program.includes('/')
            ? `\`${program}\` does not exist or is not executable; install it`
            : `\`${program}\` is not on PATH; install it or add its folder to PATH`,
      );
    }
  }
}

/** Checks every requirement concurrently; results sorted by name. */
export async function checkRequirements(
  requirements: Requirement[],
  context: { target: PostgresTarget; env: NodeJS.ProcessEnv },
): Promise<RequirementResult[]> {
  const unique = [...new Set(requirements)].sort();
  return Promise.all(unique.map((r) => checkRequirement(r, context)));
}
