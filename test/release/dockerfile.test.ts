import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PACKAGE_ROOT } from '../../src/paths.js';

const read = (f: string) => fs.readFileSync(path.join(PACKAGE_ROOT, f), 'utf8');
const dockerfile = read('Dockerfile');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('Dockerfile', () => {
  it('passes dockerfilelint', () => {
    const bin = path.join(PACKAGE_ROOT, 'node_modules', '.bin', 'dockerfilelint');
    expect(() => execFileSync(bin, [path.join(PACKAGE_ROOT, 'Dockerfile')], { stdio: 'pipe' })).not.toThrow();
  });

  it('is multi-stage: the build stage runs scripts/build-release.sh (what CI proves), the runtime is node:22-bookworm-slim', () => {
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms).toEqual(['FROM node:22-bookworm-slim AS build', 'FROM node:22-bookworm-slim']);
    expect(instructions).toContain('RUN bash scripts/build-release.sh /src /app');
    expect(instructions.find((l) => l.includes('apt-get install'))).toMatch(/python3 make g\+\+/);
    expect(instructions).toContain('COPY --from=build /app /app');
  });

  it('runs as a non-root user, with state in /data, the health check on /readyz, and the documented entry point', () => {
    const runtime = instructions.slice(instructions.lastIndexOf('FROM node:22-bookworm-slim'));
    expect(runtime.find((l) => l.startsWith('USER '))).toBe('USER vigie:vigie');
    expect(runtime).toContain('VOLUME ["/data"]');
    expect(runtime.find((l) => l.startsWith('HEALTHCHECK'))).toMatch(/CMD \["node", "\/app\/scripts\/healthcheck\.mjs"\]$/);
    expect(runtime).toContain('ENTRYPOINT ["vigie"]');
    expect(runtime).toContain('CMD ["run", "-c", "/config/vigie.yml"]');
    expect(read('scripts/healthcheck.mjs')).toContain('/readyz');
  });

  it('the build script copies what `vigie demo` needs with no config (rules, config/demo, dist, bin)', () => {
    const script = read('scripts/build-release.sh');
    expect(script).toMatch(/cp -a package\.json package-lock\.json node_modules dist bin rules "\$out\/"/);
    expect(script).toContain('config/demo');
    expect(script).toMatch(/npm ci/);
    expect(script).toMatch(/npm prune --omit=dev/);
    expect(script.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n')).not.toMatch(/--ignore-scripts/);
  });
});

describe('compose.yaml', () => {
  it('runs read-only with /data and /config:ro, and passes secrets as files', () => {
    const compose = parse(read('compose.yaml')) as { services: { vigie: Record<string, unknown> }; secrets: Record<string, { file: string }> };
    const v = compose.services.vigie;
    expect(v.read_only).toBe(true);
    expect(v.tmpfs).toEqual(['/tmp']);
    expect(v.volumes).toEqual(expect.arrayContaining(['vigie-data:/data', './config:/config:ro']));
    expect(Object.values(compose.secrets).every((s) => typeof s.file === 'string')).toBe(true);
    expect(v.environment).toBeUndefined();
  });
});
