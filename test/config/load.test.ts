import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultConfig, loadConfig, parseConfig, type LoadOptions } from '../../src/config/load.js';
import { ConfigError, type Problem } from '../../src/errors.js';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'config');
const FILE = '/etc/vigie/vigie.yml';

function options(extra: Partial<LoadOptions> = {}): LoadOptions {
  return {
    env: {},
    connectorTypes: {
      file: {
        schema: z.object({
          paths: z.array(z.string()).min(1),
          format: z.enum(['auto', 'events', 'jsonl', 'json']).optional(),
        }),
      },
      imap: {
        schema: z.object({ host: z.string(), port: z.number().int().default(993), password: z.string() }),
        secrets: ['password'],
      },
    },
    receiverTypes: {
      webhook: { schema: z.object({ url: z.url(), secret: z.string().optional() }), secrets: ['secret'] },
      console: { schema: z.object({}) },
    },
    ...extra,
  };
}

function problems(fn: () => unknown): Problem[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const yaml = (lines: string[]) => lines.join('\n') + '\n';

describe('loadConfig', () => {
  it('reports an unknown key, a wrong type and a missing secret file together, each at its line', () => {
    const file = path.join(FIXTURES, 'three-mistakes.yml');
    const found = problems(() => loadConfig(file, options()));
    expect(found).toHaveLength(3);
    expect(found[0]).toMatchObject({ file, line: 8, column: 5, path: 'connectors[0].colour', message: 'unknown key "colour"' });
    expect(found[1]).toMatchObject({ file, line: 13, column: 14, path: 'receivers[0].timeout' });
    expect(found[1]!.message).toMatch(/duration/);
    expect(found[2]).toMatchObject({ file, line: 14, path: 'receivers[0].secret_file' });
    expect(found[2]!.message).toContain(path.join(FIXTURES, 'no-such-secret'));
    expect(found[2]!.message).toContain('ENOENT');
  });

  it('reads a secret from <key>_file relative to the config file, trailing newline trimmed', () => {
    const file = path.join(FIXTURES, 'secret-file.yml');
    const config = loadConfig(file, options());
    expect(config.file).toBe(file);
    expect(config.baseDir).toBe(FIXTURES);
    expect(config.receivers[0]).toEqual({
      name: 'hook',
      type: 'webhook',
      timeout: 10_000,
      url: 'http://127.0.0.1:8080/hook',
      secret: 's3cr3t-from-file',
    });
    expect(config.receivers[0]).not.toHaveProperty('secret_file');
  });

  it('turns an unreadable config file into a ConfigError', () => {
    const found = problems(() => loadConfig(path.join(FIXTURES, 'absent.yml'), options()));
    expect(found).toEqual([{ file: path.join(FIXTURES, 'absent.yml'), message: expect.stringContaining('ENOENT') }]);
  });
});

describe('parseConfig', () => {
  it('fills in every default', () => {
    const config = parseConfig(yaml(['organisation:', '  name: Party']), FILE, options());
    expect(config).toEqual({
      file: FILE,
      baseDir: '/etc/vigie',
      organisation: { name: 'Party', domains: [], locale: 'en', sensitive_mailboxes: [] },
      state: { path: path.join(process.cwd(), 'data', 'vigie.db'), seen_ttl: 30 * 86_400_000, history_days: 90 },
      connectors: [],
      rules: { overlays: [] },
      receivers: [],
      routes: [],
      identity: { match: 'exact', people: [] },
      trusted_networks: [],
      enrichment: { geoip: true, asn: true },
      delivery: { retry_budget: 72 * 3_600_000, initial_backoff: 10_000, max_backoff: 3_600_000, group_wait: 30_000 },
      server: { listen: '127.0.0.1:9464', stale_after_intervals: 3, max_outbox_age: 3_600_000 },
    });
  });

  it('fills in connector and receiver defaults and converts durations', () => {
    const config = parseConfig(
      yaml([
        'organisation: { name: Party, domains: [Party.EXAMPLE], sensitive_mailboxes: [Leader@Party.example] }',
        'connectors:',
        '  - { name: demo, type: file, paths: [a.jsonl], overlap: 30m }',
        'receivers:',
        '  - { name: out, type: console, timeout: 1.5s }',
      ]),
      FILE,
      options(),
    );
    expect(config.organisation.domains).toEqual(['party.example']);
    expect(config.organisation.sensitive_mailboxes).toEqual(['leader@party.example']);
    expect(config.connectors).toEqual([
      { name: 'demo', type: 'file', enabled: true, schedule: '*/5 * * * *', backfill: 7 * 86_400_000, overlap: 1_800_000, paths: ['a.jsonl'] },
    ]);
    expect(config.receivers).toEqual([{ name: 'out', type: 'console', timeout: 1500 }]);
  });

  it('resolves state.path, rules.overlays and rules.dir against the config folder', () => {
    const config = parseConfig(
      yaml([
        'organisation: { name: Party }',
        'state: { path: ./db/vigie.db }',
        'rules: { overlays: [rules.local.yml, /abs/other.yml], dir: ../rules }',
      ]),
      FILE,
      options(),
    );
    expect(config.state.path).toBe('/etc/vigie/db/vigie.db');
    expect(config.rules).toEqual({ overlays: ['/etc/vigie/rules.local.yml', '/abs/other.yml'], dir: '/etc/rules' });
    const memory = parseConfig(yaml(['organisation: { name: Party }', 'state: { path: ":memory:" }']), FILE, options());
    expect(memory.state.path).toBe(':memory:');
  });

  it('normalises route matches to lists and checks their values', () => {
    const config = parseConfig(
      yaml([
        'organisation: { name: Party }',
        'receivers: [{ name: a, type: console }]',
        'routes:',
        '  - match: { severity: high, category: [forwarding, delegation], rule: "login.*" }',
        '    receivers: a',
      ]),
      FILE,
      options(),
    );
    expect(config.routes).toEqual([
      { match: { severity: ['high'], category: ['forwarding', 'delegation'], rule: ['login.*'] }, receivers: ['a'], continue: false },
    ]);
    const found = problems(() =>
      parseConfig(
        yaml(['organisation: { name: Party }', 'receivers: [{ name: a, type: console }]', 'routes:', '  - match: { min_severity: severe }', '    receivers: [a]']),
        FILE,
        options(),
      ),
    );
    expect(found).toMatchObject([{ line: 4, path: 'routes[0].match.min_severity' }]);
  });

  describe('environment interpolation', () => {
    it('expands ${VAR}, ${VAR:-default} and $${', () => {
      const config = parseConfig(
        yaml([
          'organisation:',
          '  name: "${PARTY} ($${literal})"',
          '  locale: ${LOCALE:-fr}',
          'state:',
          '  history_days: ${DAYS}',
          'receivers:',
          '  - name: hook',
          '    type: webhook',
          '    url: ${HOOK_URL:-http://127.0.0.1/hook}',
          '    secret: "${HOOK_SECRET}"',
        ]),
        FILE,
        options({ env: { PARTY: 'Parti', DAYS: '30', HOOK_SECRET: '12345' } }),
      );
      expect(config.organisation.name).toBe('Parti (${literal})');
      expect(config.organisation.locale).toBe('fr');
      expect(config.state.history_days).toBe(30);
      expect(config.receivers[0]).toMatchObject({ url: 'http://127.0.0.1/hook', secret: '12345' });
    });

    it('reports an unset variable at its line, without validation noise on the same value', () => {
      const found = problems(() =>
        parseConfig(
          yaml([
            'organisation: { name: Party }',
            'receivers:',
            '  - name: hook',
            '    type: webhook',
            '    url: ${HOOK_URL}',
            '    timeout: "${BAD NAME}"',
          ]),
          FILE,
          options(),
        ),
      );
      expect(found).toMatchObject([
        { line: 5, column: 10, message: expect.stringContaining('HOOK_URL is not set') },
        { line: 6, message: expect.stringContaining('is not a variable reference') },
      ]);
    });

    it('does not interpolate keys or comments', () => {
      const found = problems(() =>
        parseConfig(yaml(['organisation: { name: Party }  # ${NOT_SET}', '${KEY}: 1']), FILE, options()),
      );
      expect(found).toMatchObject([{ line: 2, message: 'unknown key "${KEY}"' }]);
    });
  });

  describe('secrets', () => {
    const files: Record<string, string> = { '/etc/vigie/secrets/imap': 'hunter2-long\r\n' };
    const readFile = (p: string) => {
      const content = files[p];
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      return content;
    };
    const imap = (...keys: string[]) =>
      yaml(['organisation: { name: Party }', 'connectors:', '  - name: mail', '    type: imap', '    host: imap.party.example', ...keys.map((k) => `    ${k}`)]);

    it('reads <key>_file, fills <key> and drops <key>_file', () => {
      const config = parseConfig(imap('password_file: secrets/imap'), FILE, options({ readFile }));
      expect(config.connectors[0]).toMatchObject({ password: 'hunter2-long', port: 993 });
      expect(config.connectors[0]).not.toHaveProperty('password_file');
    });

    it('refuses <key> and <key>_file together', () => {
      const found = problems(() => parseConfig(imap('password: inline-secret', 'password_file: secrets/imap'), FILE, options({ readFile })));
      expect(found).toMatchObject([{ line: 7, column: 5, path: 'connectors[0].password_file', message: 'give either "password" or "password_file", not both' }]);
    });

    it('says which secret is missing, mentioning the _file form', () => {
      const found = problems(() => parseConfig(imap(), FILE, options({ readFile })));
      expect(found).toMatchObject([{ line: 3, path: 'connectors[0].password', message: 'missing required key "password" (or "password_file")' }]);
    });

    it('never puts a secret value in a problem message', () => {
      const leaky = options({ readFile });
      leaky.connectorTypes.imap = {
        schema: z.object({ host: z.string(), password: z.string().refine((v) => v.length > 20, { error: (iss) => `${String(iss.input)} is too short` }) }),
        secrets: ['password'],
      };
      const found = problems(() => parseConfig(imap('password_file: secrets/imap'), FILE, leaky));
      expect(found).toMatchObject([{ line: 6, path: 'connectors[0].password', message: '[redacted] is too short' }]);
    });

    it('refuses a _file key for a key that is not a secret', () => {
      const found = problems(() => parseConfig(imap('password: x', 'host_file: secrets/imap'), FILE, options({ readFile })));
      expect(found).toMatchObject([{ line: 7, message: 'unknown key "host_file"' }]);
    });
  });

  it('reports duplicate names at the second one', () => {
    const found = problems(() =>
      parseConfig(
        yaml(['organisation: { name: Party }', 'receivers:', '  - name: out', '    type: console', '  - name: out', '    type: console']),
        FILE,
        options(),
      ),
    );
    expect(found).toEqual([
      { file: FILE, line: 5, column: 11, path: 'receivers[1].name', message: 'duplicate receiver name "out" (first declared at line 3)' },
    ]);
  });

  it('reports a route naming an undeclared receiver at the bad name', () => {
    const found = problems(() =>
      parseConfig(
        yaml(['organisation: { name: Party }', 'receivers: [{ name: out, type: console }]', 'routes:', '  - receivers:', '      - out', '      - pager']),
        FILE,
        options(),
      ),
    );
    expect(found).toEqual([
      { file: FILE, line: 6, column: 9, path: 'routes[0].receivers[1]', message: 'unknown receiver "pager" (receivers: out)' },
    ]);
  });

  it('reports an unknown type with the known ones, and still checks the other entries', () => {
    const found = problems(() =>
      parseConfig(
        yaml([
          'organisation: { name: Party }',
          'connectors:',
          '  - name: m365',
          '    type: microsoft-365',
          '    schedule: every minute',
          '  - name: demo',
          '    type: file',
        ]),
        FILE,
        options(),
      ),
    );
    expect(found).toMatchObject([
      { line: 4, path: 'connectors[0].type', message: 'unknown connector type "microsoft-365" (known: file, imap)' },
      { line: 5, path: 'connectors[0].schedule', message: expect.stringContaining('not a cron expression') },
      { line: 6, path: 'connectors[1].paths', message: 'missing required key "paths"' },
    ]);
  });

  it('points a missing key at its parent object', () => {
    const found = problems(() => parseConfig(yaml(['server:', '  listen: 0.0.0.0:9464', 'organisation:', '  locale: fr']), FILE, options()));
    expect(found).toEqual([{ file: FILE, line: 3, column: 1, path: 'organisation.name', message: 'missing required key "name"' }]);
  });

  it('checks durations, cron schedules, names and listen addresses', () => {
    const found = problems(() =>
      parseConfig(
        yaml([
          'organisation: { name: Party }',
          'connectors:',
          '  - name: "bad name"',
          '    type: file',
          '    paths: [a]',
          '    backfill: 7 days',
          '    schedule: "61 * * * *"',
          'delivery: { initial_backoff: 2h, max_backoff: 1h }',
          'server: { listen: "localhost" }',
        ]),
        FILE,
        options(),
      ),
    );
    expect(found.map((p) => [p.line, p.path])).toEqual([
      [3, 'connectors[0].name'],
      [6, 'connectors[0].backfill'],
      [7, 'connectors[0].schedule'],
      [8, 'delivery.initial_backoff'],
      [9, 'server.listen'],
    ]);
    expect(found[1]!.message).toBe('"7 days" is not a duration (write e.g. 90s, 30m, 24h, 7d)');
  });

  describe('YAML itself', () => {
    it('reports a syntax error with its line', () => {
      const found = problems(() => parseConfig(yaml(['organisation:', '  name: Party', 'connectors: [', 'receivers: []']), FILE, options()));
      expect(found.length).toBeGreaterThan(0);
      expect(found[0]).toMatchObject({ file: FILE, line: expect.any(Number) });
      expect(found.every((p) => p.line !== undefined && p.line >= 3)).toBe(true);
    });

    it('reports a duplicate key and still checks the rest', () => {
      const found = problems(() =>
        parseConfig(yaml(['organisation: { name: Party }', 'server: { listen: "127.0.0.1:1" }', 'server: { listen: "127.0.0.1:2" }', 'colour: blue']), FILE, options()),
      );
      expect(found).toMatchObject([
        { line: 3, column: 1, message: expect.stringMatching(/unique/) },
        { line: 4, path: 'colour', message: 'unknown key "colour"' },
      ]);
    });

    it('refuses prototype-polluting keys', () => {
      const found = problems(() => parseConfig(yaml(['organisation: { name: Party, __proto__: { x: 1 } }', 'constructor: 1']), FILE, options()));
      expect(found).toMatchObject([
        { line: 1, column: 30, message: 'the key "__proto__" is not allowed' },
        { line: 2, column: 1, message: 'the key "constructor" is not allowed' },
      ]);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
    });

    it('refuses an alias bomb', () => {
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 1; i < 9; i++) {
        const prev = String.fromCharCode(96 + i);
        const name = String.fromCharCode(97 + i);
        bomb.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
      }
      const found = problems(() => parseConfig(yaml(bomb), FILE, options()));
      expect(found).toHaveLength(1);
      expect(found[0]!.message).toMatch(/alias/i);
    });

    it('accepts anchors and merge keys within reason', () => {
      const config = parseConfig(
        yaml([
          'organisation: { name: Party }',
          'connectors:',
          '  - &base { name: one, type: file, paths: [a], schedule: "0 * * * *" }',
          '  - <<: *base',
          '    name: two',
        ]),
        FILE,
        options(),
      );
      expect(config.connectors.map((c) => [c.name, c.schedule])).toEqual([
        ['one', '0 * * * *'],
        ['two', '0 * * * *'],
      ]);
    });

    it('refuses a file over 1 MiB', () => {
      const found = problems(() => parseConfig(`# ${'x'.repeat(1024 * 1024)}\n`, FILE, options()));
      expect(found).toEqual([{ file: FILE, message: 'the configuration file is larger than 1 MiB' }]);
    });

    it('refuses a document that is not a mapping', () => {
      const found = problems(() => parseConfig('- a\n- b\n', FILE, options()));
      expect(found).toMatchObject([{ line: 1, message: expect.stringContaining('must be a mapping') }]);
    });
  });

  it('treats an empty section as its default', () => {
    const config = parseConfig(yaml(['organisation: { name: Party }', 'connectors:', 'routes:']), FILE, options());
    expect(config.connectors).toEqual([]);
    expect(config.routes).toEqual([]);
  });
});

describe('defaultConfig', () => {
  it('prints everything on a console receiver and keeps no state', () => {
    const config = defaultConfig();
    expect(config.file).toBeUndefined();
    expect(config.baseDir).toBe(process.cwd());
    expect(config.connectors).toEqual([]);
    expect(config.receivers).toEqual([{ name: 'console', type: 'console', timeout: 10_000 }]);
    expect(config.routes).toEqual([{ receivers: ['console'], continue: false }]);
    expect(config.state.path).toBe(':memory:');
    expect(defaultConfig({ routes: [] }).routes).toEqual([]);
  });
});
