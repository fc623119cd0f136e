import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFileConnector } from '../../connectors/file/index.js';
import { parseDovecotLine, dovecotLogFormat } from '../../connectors/imap/dovecot-log.js';
import { parseSieve } from '../../connectors/imap/sieve-parser.js';
import { formatRegistry, readConfig } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createEnricher } from '../../src/enrich/index.js';
import { silentLogger } from '../../src/log.js';
import { createProcessor } from '../../src/pipeline/process.js';
import { Runner } from '../../src/pipeline/runner.js';
import { Store } from '../../src/store/store.js';
import { HOSTILE_CORPUS } from '../fixtures/hostile.js';
import { flaggingEngine } from '../helpers/test-engine.js';
import { tmpDir } from '../helpers/tmp.js';

/**
 * Hostile input where data enters (issue 11 §3): every record format, the Dovecot log reader and
 * the Sieve parser take the §3 corpus and fast-check values and either return events or throw an
 * Error (which the runner logs and skips); the file connector run goes on past malformed records;
 * the config loader survives prototype-pollution keys, a 2 MiB file and 10,000-deep nesting.
 */
const hostile = fc.constantFrom(...Object.values(HOSTILE_CORPUS));
const text = fc.oneof(hostile, fc.string({ unit: 'binary' }), fc.string());
/** Keys the providers' records use, so that values reach the normalizers' field handling. */
const KEYS = [
  'Id', 'id', 'Operation', 'RecordType', 'CreationTime', 'UserId', 'ClientIP', 'Workload', 'Parameters', 'Name', 'Value', 'ResultStatus',
  'userPrincipalName', 'createdDateTime', 'ipAddress', 'status', 'location', 'appDisplayName', 'kind', 'actor', 'email', 'events', 'type',
  'name', 'parameters', 'ipAddress', 'time', 'uniqueQualifier', 'applicationName', 'account', 'provider', 'details', 'source', 'outcome',
  '__proto__', 'constructor', 'prototype',
];
const leaf = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(1e309, -0, '9999-12-31T23:59:59Z', '1601-01-01T00:00:00Z', '2024-02-30T23:59:60'));
const record = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('object')),
  object: fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string()), tie('value'), { maxKeys: 8 }),
})).object;

function returnsOrThrowsError(fn: () => unknown): void {
  try {
    const out = fn();
    expect(Array.isArray(out)).toBe(true);
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
  }
}

const tally = { records: 0, lines: 0, sieve: 0 };

describe('hostile input through every parser', () => {
  const formats = formatRegistry();

  it.each(formats.records.map((f) => [f.name, f] as const))('record format %s: events or an Error, never anything else', (_name, format) => {
    fc.assert(
      fc.property(record, (r) => {
        tally.records++;
        // detect() must never throw; normalize() may only throw an Error.
        format.detect(r);
        returnsOrThrowsError(() => format.normalize(r, 'fuzz'));
        for (const v of Object.values(HOSTILE_CORPUS).slice(0, 6)) returnsOrThrowsError(() => format.normalize({ ...r, Id: v, id: v, Operation: v }, 'fuzz'));
      }),
      { numRuns: 300 },
    );
  });

  it('the Dovecot log reader and line parser never throw and never hang', () => {
    const prefix = fc.constantFrom('', 'Nov 27 10:00:00 imap-login: Info: Login: user=<', 'Nov 27 10:00:00 imap(alice)<1><abc>: Info: ', '2026-11-27 10:00:00 auth: Info: passwd-file(');
    fc.assert(
      fc.property(fc.array(fc.tuple(prefix, text), { maxLength: 20 }), (lines) => {
        const reader = dovecotLogFormat.reader('fuzz');
        const started = Date.now();
        for (const [p, t] of lines) {
          tally.lines++;
          expect(Array.isArray(reader.line(p + t))).toBe(true);
          parseDovecotLine(p + t, { year: 2026 } as never);
        }
        expect(Array.isArray(reader.flush())).toBe(true);
        expect(Date.now() - started).toBeLessThan(1000);
      }),
      { numRuns: 400 },
    );
  });

  it('the Sieve parser never throws and never hangs', () => {
    const token = fc.constantFrom('require', '["copy"]', ';', 'if', 'header', ':contains', '"subject"', '{', '}', 'redirect', ':copy', 'text:\n', '\n.\n', '"', '\\', '#', '/*', '*/', 'elsif', 'else', 'anyof(', ')', ',', 'not', 'fileinto', 'vacation', '[', ']');
    const script = fc.oneof(text, fc.array(fc.oneof(token, hostile), { maxLength: 60 }).map((t) => t.join(' ')));
    fc.assert(
      fc.property(script, (s) => {
        tally.sieve++;
        const started = Date.now();
        const r = parseSieve(s);
        expect(r).toBeTypeOf('object');
        expect(Date.now() - started).toBeLessThan(1000);
      }),
      { numRuns: 1000 },
    );
    // Depth and size bombs end in a parse error, not a stack overflow.
    for (const bomb of ['if anyof('.repeat(100_000), '{'.repeat(100_000), `redirect "${'a'.repeat(2_000_000)}";`]) {
      const started = Date.now();
      expect(() => parseSieve(bomb)).not.toThrow();
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('a file of hostile records is read to the end: bad ones skipped, good ones processed', async () => {
    const dir = tmpDir('vigie-hostile-file-');
    const good = Array.from({ length: 5 }, (_, i) => ({
      id: `x:y:${i}`, kind: 'signin', time: '2026-11-20T09:00:00Z', provider: 'microsoft-365', source: 'f', account: 'a@party.example', outcome: 'success', details: { alert: true },
    }));
    const bad = fc.sample(record, { numRuns: 200, seed: 42 });
    const lines = [
      ...bad.map((b) => JSON.stringify(b)),
      '{"truncated": ',
      '<html><body>Sign in</body></html>',
      ...Object.values(HOSTILE_CORPUS).map((v) => JSON.stringify({ ...good[0], id: `x:y:h${v.length}`, account: v, details: { name: v } })),
      ...good.map((g) => JSON.stringify(g)),
      '['.repeat(100_000),
    ];
    fs.writeFileSync(path.join(dir, 'in.jsonl'), lines.join('\n') + '\n');
    const clock = fixedClock('2026-11-27T10:00:00Z');
    const store = Store.open({ path: ':memory:', clock });
    const engine = flaggingEngine();
    const processor = createProcessor({ store, engine, enrich: createEnricher({ domains: ['party.example'] }), routes: [], receivers: [], clock, log: silentLogger, seenTtlMs: 86_400_000 });
    const runner = new Runner({ store, processor, clock, log: silentLogger });
    const connector = createFileConnector({ name: 'f', paths: ['in.jsonl'], page_size: 50 }, { baseDir: dir, formats });
    const report = await runner.runStream(connector, connector.streams[0]!, { backfillMs: 0, overlapMs: 0, learnFromBackfill: false }, new AbortController().signal);
    expect(report.skipped).toBeGreaterThan(0);
    for (const g of good) expect(engine.seen).toContain(g.id);
    store.close();
  });

  it('config loading survives prototype-pollution keys, a 2 MiB file and 10,000-deep nesting', () => {
    const dir = tmpDir('vigie-hostile-config-');
    const write = (name: string, body: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, body);
      return f;
    };
    const base = 'organisation: { name: X, domains: [party.example] }\nconnectors: []\nreceivers: [{ name: c, type: console }]\n';
    for (const body of [
      `${base}__proto__: { polluted: yes }\n`,
      `${base}constructor: { prototype: { polluted: yes } }\n`,
      `organisation: { name: X, domains: [party.example], __proto__: { polluted: yes } }\nconnectors: []\nreceivers: [{ name: c, type: console, __proto__: { polluted: yes } }]\n`,
      `organisation: { name: X, domains: [party.example] }\nconnectors: []\nreceivers: [{ name: c, type: console }]\nroutes: [{ match: { __proto__: { polluted: yes } }, receivers: [c] }]\n`,
    ]) {
      try {
        readConfig(write('proto.yml', body));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
      }
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    }
    const big = write('big.yml', `${base}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    expect(() => readConfig(big)).toThrow(ConfigError);
    for (const deep of [`${base}rules: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, `${base}rules: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}\n`, `${base}x:\n${Array.from({ length: 2000 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')} 1\n`]) {
      const started = Date.now();
      try {
        readConfig(write('deep.yml', deep));
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
      }
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it('reports what it tried', () => {
    console.log(`[reliability] hostile input: ${tally.records} generated records through ${formats.records.length} record formats (each also with 6 corpus strings), ${tally.lines} Dovecot log lines, ${tally.sieve} Sieve scripts`);
  });
});
