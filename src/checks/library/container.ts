// The running container runs the image it should: its image's id, digest or repo digest
// equals the expected one (the release a procedure deployed, not a stale or retagged image).
import * as z from 'zod';
import { commandExists } from '../../util/which.js';
import { CheckCannotRun, type CheckDefinition } from '../types.js';
import { runProgram } from '../support.js';

const hex = (v: string) =>
  v
    .replace(/^.*@/, '')
    .replace(/^sha256:/, '')
    .toLowerCase();

export const containerImage: CheckDefinition<{
  engine?: 'podman' | 'docker' | undefined;
  container?: string | undefined;
  expectImage?: string | undefined;
}> = {
  type: 'container.image',
  title: 'Container runs the expected image',
  description:
    'Inspects `container` with podman or docker: it must be running, and its image id, digest or a repo digest must equal `expectImage` (sha256:… or at least 12 hex digits).',
  settings: z.strictObject({
    engine: z.enum(['podman', 'docker']).optional(),
    container: z.string().min(1).optional(),
    expectImage: z
      .string()
      .regex(
        /^(?:[^@\s]+@)?(?:sha256:)?[0-9a-fA-F]{12,64}$/,
        'an image digest: sha256:<64 hex>, or an image id of at least 12 hex digits',
      )
      .optional(),
  }),
  usesPostgres: false,
  async run(context, s) {
    const threshold = s.expectImage
      ? `running, image ${s.expectImage.length > 26 ? `${s.expectImage.slice(0, 26)}…` : s.expectImage}`
      : 'running, expected image';
    if (!s.container || !s.expectImage)
      return {
        status: 'warn',
        value: 'not configured',
        threshold,
        detail:
          'no container and expected image configured, so nothing was checked: set container.image.container and .expectImage in exec-doc.checks.yaml',
      };
    const engine = s.engine ?? (commandExists('podman', context.env) ? 'podman' : 'docker');
    const inspect = await runProgram(context, engine, ['container', 'inspect', s.container]);
    if (inspect.exitCode !== 0) {
      if (/no such (container|object)|no container with name/i.test(inspect.stderr))
        return {
          status: 'fail',
          value: 'no such container',
          threshold,
          detail: `${engine} has no container \`${s.container}\`; start it from the expected image`,
        };
      throw new CheckCannotRun(
        `\`${engine} container inspect\` failed (exit ${inspect.exitCode}): ${inspect.stderr.trim().split('\n')[0] ?? ''}`,
      );
    }
    let info: {
      State?: { Running?: boolean; Status?: string };
      Image?: string;
      ImageName?: string;
      Config?: { Image?: string };
    };
    try {
      info = (JSON.parse(inspect.stdout) as (typeof info)[])[0] ?? {};
    } catch {
      throw new CheckCannotRun(`\`${engine} container inspect\` printed something that is not JSON`);
    }
    const imageName = info.ImageName ?? info.Config?.Image ?? '?';
    const imageId = hex(info.Image ?? '');
    const image = await runProgram(context, engine, ['image', 'inspect', info.Image ?? '']);
    const digests = new Set([imageId]);
    if (image.exitCode === 0) {
      try {
        const meta =
          (JSON.parse(image.stdout) as Array<{ Id?: string; Digest?: string; RepoDigests?: string[] }>)[0] ?? {};
        for (const d of [meta.Id, meta.Digest, ...(meta.RepoDigests ?? [])]) if (d) digests.add(hex(d));
      } catch {
        // The container's image id alone is compared.
      }
    }
    const value = `${imageName} ${imageId.slice(0, 12)}${info.State?.Running ? '' : ` (${info.State?.Status ?? 'not running'})`}`;
    const want = hex(s.expectImage);
    const matches = [...digests].some((d) => d === want || (want.length < 64 && d.startsWith(want)));
    if (!info.State?.Running)
      return {
        status: 'fail',
        value,
        metric: 0,
        unit: 'match',
        threshold,
        detail: `container ${s.container} is ${info.State?.Status ?? 'not running'}; start it`,
      };
    if (!matches)
      return {
        status: 'fail',
        value,
        metric: 0,
        unit: 'match',
        threshold,
        detail: `container ${s.container} runs ${imageName} (${[...digests].map((d) => d.slice(0, 12)).join(', ')}), expected ${s.expectImage}; redeploy the expected image or roll back`,
      };
    return {
      status: 'pass',
      value,
      metric: 1,
      unit: 'match',
      threshold,
      detail: `container ${s.container} runs the expected image`,
    };
  },
};
