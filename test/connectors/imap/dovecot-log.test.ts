import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDovecotLogReader,
  createDovecotLogStream,
  dovecotLogFormat,
  parseDovecotLine,
  type DovecotLogRecord,
  type DovecotLogStreamOptions,
} from '../../../connectors/imap/dovecot-log.js';
import { fixedClock } from '../../../src/clock.js';
import type { VigieEvent } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import type { StreamContext } from '../../../src/pipeline/connector.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { tmpDir } from '../../helpers/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/dovecot');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter(Boolean);

function replay(lines: string[], opts: { now?: string; domain?: string; excludeIps?: string[]; timeZone?: string } = {}): VigieEvent[] {
  const reader = createDovecotLogReader({
    source: 'dovecot',
    clock: fixedClock(opts.now ?? '2026-11-28T00:00:00Z'),
    timeZone: opts.timeZone ?? 'UTC',
    ...(opts.domain && { domain: opts.domain }),
    ...(opts.excludeIps && { excludeIps: opts.excludeIps }),
  });
  return [...lines.flatMap((l) => reader.line(l)), ...reader.flush()];
}

/** The facts of an event a test cares about, without the raw line. */
const brief = (e: VigieEvent) => ({ id: e.id, kind: e.kind, time: e.time, account: e.account, ip: e.ip, outcome: e.outcome, details: e.details });

describe('Dovecot log lines (fixtures of real lines)', () => {
  it('reads the 2.3 log_path format: logins, failures with their reason, and skips the monitor’s master-user session', () => {
    const events = replay(fixture('log-path-2.3.log'), { domain: 'party.example' });
    expect(events.map(brief)).toEqual([
      {
        id: 'imap:dovecot-log:3hDr2UVhQLd/AAAB:login',
        kind: 'signin',
        time: '2026-11-27T18:01:36.000Z',
        account: 'alice@party.example',
        ip: '127.0.0.1',
        outcome: 'success',
        details: { client: 'imap', legacy_auth: false, interactive: false, user_agent: '', method: 'PLAIN', service: 'imap', session: '3hDr2UVhQLd/AAAB' },
      },
      {
        id: 'imap:dovecot-log:mcuH20Vhlt9/AAAB:auth-failed',
        kind: 'signin',
        time: '2026-11-27T18:02:06.000Z',
        account: 'alice@party.example',
        ip: '127.0.0.1',
        outcome: 'failure',
        details: {
          client: 'imap',
          legacy_auth: false,
          interactive: false,
          user_agent: '',
          method: 'PLAIN',
          service: 'imap',
          failure_reason: 'password_mismatch',
          attempts: 1,
          session: 'mcuH20Vhlt9/AAAB',
        },
      },
      expect.objectContaining({ id: 'imap:dovecot-log:GEFgnkVh4ul/AAAB:auth-failed', account: 'mallory@party.example', details: expect.objectContaining({ failure_reason: 'unknown_user' }) }),
      expect.objectContaining({ id: 'imap:dovecot-log:owro20Vh0Ld/AAAB:login', account: 'bob@party.example', details: expect.objectContaining({ client: 'other', service: 'managesieve' }) }),
    ]);
    expect(events.every((e) => e.provider === 'imap' && e.source === 'dovecot')).toBe(true);
  });

  it('a captured harness log: failures, a download, and nothing from the monitor’s master-user session', () => {
    const events = replay(fixture('captured-2.3.19.log'), { domain: 'party.example' });
    expect(events.map((e) => [e.id, e.outcome, e.account, e.ip, e.details.failure_reason ?? e.details.bytes])).toEqual([
      ['imap:dovecot-log:XyNo20Zh+41/AAAE:auth-failed', 'failure', 'alice@party.example', '127.0.0.4', 'password_mismatch'],
      ['imap:dovecot-log:gfJv20ZhLbJ/AAAE:auth-failed', 'failure', 'mallory@party.example', '127.0.0.4', 'unknown_user'],
      ['imap:dovecot-log:d+O020ZhJ4F/AAAF:login', 'success', 'alice@party.example', '127.0.0.5', undefined],
      ['imap:dovecot-log:d+O020ZhJ4F/AAAF:logout', undefined, 'alice@party.example', '127.0.0.5', 72],
    ]);
  });

  it('the master password tried from outside allow_nets is a failed sign-in of the master user', () => {
    const events = replay(fixture('captured-allow-nets.log'), { domain: 'party.example' });
    expect(events.map((e) => [e.id, e.outcome, e.account, e.ip, e.details.client, e.details.failure_reason])).toEqual([
      ['imap:dovecot-log:z5yu5UZhWal/AAAJ:auth-failed', 'failure', 'monitor@party.example', '127.0.0.9', 'other', 'ip_not_allowed'],
    ]);
  });

  it('reads syslog lines: a download joined to its login by session, failures, and POP3 retr counters', () => {
    const events = replay(fixture('syslog.log'));
    expect(events.map((e) => [e.kind, e.outcome ?? '', e.account, e.ip, e.details.failure_reason ?? e.details.items ?? ''])).toEqual([
      ['signin', 'success', 'ops@example.com', '203.0.113.77', ''],
      ['signin', 'failure', 'ops@example.com', '203.0.113.80', 'password_mismatch'],
      ['signin', 'failure', 'nosuch@example.com', '203.0.113.80', 'unknown_user'],
      ['data_export', '', 'ops@example.com', '203.0.113.77', 4180],
      ['signin', 'success', 'ops@example.com', '198.51.100.9', ''],
      ['data_export', '', 'ops@example.com', '198.51.100.9', 5],
    ]);
    expect(brief(events[3]!)).toEqual({
      id: 'imap:dovecot-log:Qw3xZ5oWZtHAcQBN:logout',
      kind: 'data_export',
      time: '2026-03-05T08:52:37.000Z',
      account: 'ops@example.com',
      ip: '203.0.113.77',
      outcome: undefined,
      details: {
        method: 'mailbox_download',
        phase: 'completed',
        items: 4180,
        bytes: 57_911_044,
        client: 'imap',
        session: 'Qw3xZ5oWZtHAcQBN',
        started: '2026-03-05T08:44:10.000Z',
        duration_s: 507,
        login_seen: true,
      },
    });
    expect(events[1]!.details.attempts).toBe(3);
    expect(events[5]!.details).toMatchObject({ client: 'pop', items: 5, bytes: 12_345 });
  });

  it('reads ISO timestamps with and without an offset, and IPv6 addresses', () => {
    const events = replay(fixture('iso.log'));
    expect(events.map((e) => [e.kind, e.time, e.ip])).toEqual([
      ['signin', '2026-03-05T07:44:10.123Z', '2001:db8::77'],
      ['data_export', '2026-03-05T08:52:37.000Z', '2001:db8::77'],
    ]);
  });

  it('infers the year as the latest one that is not in the future, and honours the time zone', () => {
    const at = (line: string, now: string, timeZone = 'UTC') => parseDovecotLine(line, { now: Date.parse(now), timeZone })?.time;
    const login = 'imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, session=<s1>';
    expect(at(`Dec 31 23:59:59 ${login}`, '2027-01-02T00:00:00Z')).toBe('2026-12-31T23:59:59.000Z');
    expect(at(`Jan 01 00:00:10 ${login}`, '2027-01-02T00:00:00Z')).toBe('2027-01-01T00:00:10.000Z');
    expect(at(`Nov 27 18:01:35 ${login}`, '2026-11-27T18:01:35Z')).toBe('2026-11-27T18:01:35.000Z');
    expect(at(`Dec  3 10:00:00 ${login}`, '2026-11-27T18:01:35Z')).toBe('2025-12-03T10:00:00.000Z');
    expect(at(`Feb 29 12:00:00 ${login}`, '2027-03-01T00:00:00Z')).toBe('2024-02-29T12:00:00.000Z');
    expect(at(`Nov 27 18:01:35 ${login}`, '2026-11-28T00:00:00Z', 'Europe/Paris')).toBe('2026-11-27T17:01:35.000Z');
    expect(at(`Jul 27 18:01:35 ${login}`, '2026-11-28T00:00:00Z', 'Europe/Paris')).toBe('2026-07-27T16:01:35.000Z');
    expect(at(`2026-07-27 18:01:35 ${login}`, '2026-11-28T00:00:00Z', 'America/New_York')).toBe('2026-07-27T22:01:35.000Z');
  });

  it('reports a 2 GB download with exact numbers', () => {
    const events = replay(
      [
        'Nov 20 02:00:00 imap-login: Info: Login: user=<alice>, method=PLAIN, rip=198.51.100.23, lip=192.0.2.25, mpid=4242, TLS, session=<BigDownloadAAAAB>',
        'Nov 20 03:30:00 imap(alice)<4242><BigDownloadAAAAB>: Info: Disconnected: Logged out in=52811 out=2150000000 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=48213 body_bytes=2147483648',
      ],
      { domain: 'party.example' },
    );
    expect(events[1]).toMatchObject({
      id: 'imap:dovecot-log:BigDownloadAAAAB:logout',
      kind: 'data_export',
      account: 'alice@party.example',
      ip: '198.51.100.23',
      details: { method: 'mailbox_download', items: 48_213, bytes: 2_147_483_648, client: 'imap', duration_s: 5400 },
    });
  });

  it('leaves out sessions from exclude_ips (ranges too), and downloads of no bodies', () => {
    const lines = [
      'Nov 20 02:00:00 imap-login: Info: Login: user=<alice>, method=PLAIN, rip=10.1.2.3, lip=10.0.0.1, mpid=1, TLS, session=<FromMonitorAAAAA>',
      'Nov 20 02:00:01 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=10.1.2.3, lip=10.0.0.1, TLS, session=<FromMonitorBBBBB>',
      'Nov 20 02:00:09 imap(alice)<1><FromMonitorAAAAA>: Info: Disconnected: Logged out in=1 out=2 deleted=0 expunged=0 trashed=0 hdr_count=9 hdr_bytes=900 body_count=5 body_bytes=500',
      'Nov 20 02:00:10 imap-login: Info: Login: user=<alice>, method=PLAIN, rip=192.0.2.7, lip=10.0.0.1, mpid=2, TLS, session=<OtherClientAAAAA>',
      'Nov 20 02:00:19 imap(alice)<2><OtherClientAAAAA>: Info: Disconnected: Logged out in=1 out=2 deleted=0 expunged=0 trashed=0 hdr_count=9 hdr_bytes=900 body_count=0 body_bytes=0',
    ];
    expect(replay(lines, { excludeIps: ['10.0.0.0/8'] }).map((e) => e.id)).toEqual(['imap:dovecot-log:OtherClientAAAAA:login']);
    expect(replay(lines).map((e) => e.id)).toEqual([
      'imap:dovecot-log:FromMonitorAAAAA:login',
      'imap:dovecot-log:FromMonitorBBBBB:auth-failed',
      'imap:dovecot-log:FromMonitorAAAAA:logout',
      'imap:dovecot-log:OtherClientAAAAA:login',
    ]);
  });

  it('a user name sent by an attacker cannot forge the address or session of a failed login', () => {
    const line =
      'Nov 20 02:00:01 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<x>, method=PLAIN, rip=10.0.0.9, lip=1.1.1.1, session=<forged>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.25, TLS, session=<RealSessionAAAAA>';
    expect(parseDovecotLine(line, { now: Date.parse('2026-11-28T00:00:00Z'), timeZone: 'UTC' })).toEqual({
      kind: 'login-failed',
      time: '2026-11-20T02:00:01.000Z',
      service: 'imap',
      reason: 'auth_failed',
      attempts: 1,
      user: 'x>, method=PLAIN, rip=10.0.0.9, lip=1.1.1.1, session=<forged',
      method: 'PLAIN',
      rip: '203.0.113.5',
      session: 'RealSessionAAAAA',
    });
  });

  it('never keeps a password that auth_verbose_passwords wrote into a line', () => {
    const events = replay([
      'Nov 20 02:00:00 auth: Info: passwd-file(alice,192.0.2.7,<PwLeakSessionAAA>): Password mismatch (given password: hunter2)',
      'Nov 20 02:00:02 imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=192.0.2.7, lip=10.0.0.1, TLS, session=<PwLeakSessionAAA>',
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]!.details.failure_reason).toBe('password_mismatch');
    expect(JSON.stringify(events)).not.toContain('hunter2');
  });

  it('is detected by the replay format on its first lines, and not on other text', () => {
    for (const name of ['log-path-2.3.log', 'captured-2.3.19.log', 'captured-allow-nets.log', 'syslog.log', 'iso.log']) expect(dovecotLogFormat.detect(fixture(name).slice(0, 3))).toBe(true);
    expect(dovecotLogFormat.detect(['{"id":"x","kind":"signin"}', 'hello world'])).toBe(false);
    expect(dovecotLogFormat.detect(['Mar  5 09:11:00 mx1 postfix/smtpd[9]: connect from unknown[198.51.100.9]'])).toBe(false);
    const reader = dovecotLogFormat.reader('replayed');
    expect(reader.line(fixture('syslog.log')[0]!)[0]).toMatchObject({ source: 'replayed', kind: 'signin' });
  });

  it('never throws, on arbitrary text or on mutations of real lines', () => {
    const real = [...fixture('log-path-2.3.log'), ...fixture('captured-2.3.19.log'), ...fixture('syslog.log'), ...fixture('iso.log')];
    const mutated = fc
      .tuple(fc.constantFrom(...real), fc.nat(), fc.nat(), fc.string({ maxLength: 40 }))
      .map(([line, a, b, insert]) => {
        const i = a % (line.length + 1);
        return line.slice(0, i) + insert + line.slice(Math.min(line.length, i + (b % 20)));
      });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 300 }), mutated), { maxLength: 20 }), (lines) => {
        const reader = createDovecotLogReader({ source: 's', domain: 'party.example', excludeIps: ['10.0.0.0/8'] });
        for (const l of lines) for (const e of reader.line(l)) expect(typeof e.id).toBe('string');
        reader.flush();
      }),
      { numRuns: 2000 },
    );
    expect(parseDovecotLine('x'.repeat(100_000), { now: Date.now() })).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

const NOW = '2026-11-28T00:00:00Z';

function ctx(over: Partial<StreamContext> = {}): StreamContext {
  return { clock: fixedClock(NOW), log: silentLogger, signal: new AbortController().signal, backfillMs: 365 * 86_400_000, overlapMs: 0, ...over };
}

/** One run of the stream as the runner does it: every page, normalized; returns the events and the last cursor. */
async function run(opts: DovecotLogStreamOptions, cursor: unknown, c = ctx()): Promise<{ events: VigieEvent[]; cursor: unknown; pages: number }> {
  const stream = createDovecotLogStream(opts);
  const events: VigieEvent[] = [];
  let last = cursor;
  let pages = 0;
  for await (const page of stream.pull(cursor, c)) {
    pages++;
    for (const r of page.records as DovecotLogRecord[]) events.push(...stream.normalize(r));
    // What the store does with a cursor.
    last = JSON.parse(JSON.stringify(page.cursor));
  }
  return { events, cursor: last, pages };
}

const login = (n: number, ip = '192.0.2.10') =>
  `Nov 20 02:00:${String(n).padStart(2, '0')} imap-login: Info: Login: user=<u${n}>, method=PLAIN, rip=${ip}, lip=10.0.0.1, mpid=${n}, TLS, session=<Sess${String(n).padStart(12, '0')}>\n`;
const logout = (n: number, bodies = 3) =>
  `Nov 20 03:00:${String(n).padStart(2, '0')} imap(u${n})<${n}><Sess${String(n).padStart(12, '0')}>: Info: Disconnected: Logged out in=1 out=2 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=${bodies} body_bytes=${bodies * 100}\n`;

describe('Dovecot log stream: a live file across runs', () => {
  const dir = tmpDir('vigie-dovecot-log-');
  let n = 0;
  const setup = () => {
    const file = path.join(dir, `case-${++n}`, 'dovecot.log');
    fs.mkdirSync(path.dirname(file));
    const opts: DovecotLogStreamOptions = { connectorName: 'dovecot', path: file, domain: 'party.example', excludeIps: [], clock: fixedClock(NOW), timeZone: 'UTC' };
    return { file, opts };
  };
  const ids = (events: VigieEvent[]) => events.map((e) => e.id.replace('imap:dovecot-log:', ''));

  it('reads appended lines once, and joins a logout to a login read in an earlier run', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, login(1) + logout(1) + login(2));
    const r1 = await run(opts, undefined);
    expect(ids(r1.events)).toEqual(['Sess000000000001:login', 'Sess000000000001:logout', 'Sess000000000002:login']);
    expect((await run(opts, r1.cursor)).events).toEqual([]);
    fs.appendFileSync(file, logout(2));
    const r2 = await run(opts, r1.cursor);
    expect(r2.events.map((e) => [e.id, e.ip, e.details.login_seen])).toEqual([['imap:dovecot-log:Sess000000000002:logout', '192.0.2.10', true]]);
  });

  it('does not consume a line still being written', async () => {
    const { file, opts } = setup();
    const line = login(1);
    fs.writeFileSync(file, line.slice(0, 40));
    const r1 = await run(opts, undefined);
    expect(r1.events).toEqual([]);
    fs.appendFileSync(file, line.slice(40));
    expect(ids((await run(opts, r1.cursor)).events)).toEqual(['Sess000000000001:login']);
  });

  it('rotation by rename: finishes <path>.1 (lines written to it after the rename included), then the new file; every line once', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, login(1) + logout(1) + login(2));
    const r1 = await run(opts, undefined);
    fs.appendFileSync(file, logout(2));
    fs.renameSync(file, `${file}.1`);
    // Dovecot keeps writing to the renamed file until `doveadm log reopen`.
    fs.appendFileSync(`${file}.1`, login(3));
    fs.writeFileSync(file, logout(3) + login(4));
    const r2 = await run(opts, r1.cursor);
    expect(ids(r2.events)).toEqual(['Sess000000000002:logout', 'Sess000000000003:login', 'Sess000000000003:logout', 'Sess000000000004:login']);
    expect(r2.events.find((e) => e.id.endsWith('3:logout'))!.ip).toBe('192.0.2.10');
    fs.appendFileSync(file, logout(4));
    const r3 = await run(opts, r2.cursor);
    expect(ids(r3.events)).toEqual(['Sess000000000004:logout']);
    const all = [...r1.events, ...r2.events, ...r3.events].map((e) => e.id);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(8);
  });

  it('stays on the rotated file while the new one is still empty', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, login(1));
    const r1 = await run(opts, undefined);
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, '');
    fs.appendFileSync(`${file}.1`, login(2) + login(3).slice(0, 30));
    const r2 = await run(opts, r1.cursor);
    expect(ids(r2.events)).toEqual(['Sess000000000002:login']);
    fs.appendFileSync(`${file}.1`, login(3).slice(30));
    fs.appendFileSync(file, login(4));
    const r3 = await run(opts, r2.cursor);
    expect(ids(r3.events)).toEqual(['Sess000000000003:login', 'Sess000000000004:login']);
  });

  it('copytruncate: the copy in <path>.1 is recognised by its first bytes', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, login(1));
    const r1 = await run(opts, undefined);
    fs.appendFileSync(file, login(2));
    fs.copyFileSync(file, `${file}.1`);
    fs.truncateSync(file, 0);
    fs.appendFileSync(file, login(3));
    const r2 = await run(opts, r1.cursor);
    expect(ids(r2.events)).toEqual(['Sess000000000002:login', 'Sess000000000003:login']);
  });

  it('a rotation it cannot follow is a data_gap monitor event, then the new file is read from its start', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, login(1));
    const r1 = await run(opts, undefined);
    fs.rmSync(file);
    fs.writeFileSync(file, login(2));
    const r2 = await run(opts, r1.cursor);
    expect(r2.events.map((e) => [e.kind, e.details.type ?? e.id])).toEqual([
      ['monitor', 'data_gap'],
      ['signin', 'imap:dovecot-log:Sess000000000002:login'],
    ]);
    expect(r2.events[0]).toMatchObject({ provider: 'vigie', account: '', details: { stream: 'dovecot-log' } });
    expect((await run(opts, r2.cursor)).events).toEqual([]);
  });

  it('a missing file fails the run with SOURCE_FAILED', async () => {
    const { opts } = setup();
    await expect(run(opts, undefined)).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('does not exist') });
  });

  it('a first run reports only its backfill window, but still joins older logins', async () => {
    const { file, opts } = setup();
    const old = login(1).replace('Nov 20', 'Oct 01');
    fs.writeFileSync(file, old + logout(1));
    const r = await run(opts, undefined, ctx({ backfillMs: 30 * 86_400_000 }));
    expect(r.events.map((e) => [e.id, e.ip])).toEqual([['imap:dovecot-log:Sess000000000001:logout', '192.0.2.10']]);
  });

  it('pages: each page carries a cursor that resumes exactly after it', async () => {
    const { file, opts } = setup();
    fs.writeFileSync(file, [1, 2, 3, 4, 5].map((i) => login(i)).join(''));
    const paged = { ...opts, pageSize: 2 };
    const stream = createDovecotLogStream(paged);
    const pages: Array<{ ids: string[]; cursor: unknown }> = [];
    for await (const p of stream.pull(undefined, ctx())) pages.push({ ids: p.records.flatMap((r) => stream.normalize(r)).map((e) => e.id), cursor: JSON.parse(JSON.stringify(p.cursor)) });
    expect(pages.map((p) => p.ids.length)).toEqual([2, 2, 1]);
    // A crash after the first page: the next run starts from its cursor.
    expect(ids((await run(paged, pages[0]!.cursor)).events)).toEqual(['Sess000000000003:login', 'Sess000000000004:login', 'Sess000000000005:login']);
  });

  it('keeps the session state in the cursor bounded', async () => {
    const { file, opts } = setup();
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) lines.push(login(i % 60).replace(/Sess0+\d+/, `S${String(i).padStart(15, '0')}`));
    fs.writeFileSync(file, lines.join(''));
    const r = await run({ ...opts, pageSize: 10_000 }, undefined);
    expect(r.events).toHaveLength(6000);
    const state = (r.cursor as { state: { sessions: unknown[] } }).state;
    expect(state.sessions).toHaveLength(5000);
    expect(JSON.stringify(r.cursor).length).toBeLessThan(1_000_000);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Dovecot log stream against a real Dovecot', () => {
  let dovecot: DovecotServer;
  beforeAll(async () => {
    dovecot = await startDovecot();
  });
  afterAll(() => dovecot?.dispose());

  it('a wrong password, a login with a download of bodies, and the monitor’s own session', async () => {
    for (let i = 1; i <= 3; i++) {
      await dovecot.doveadm(['save', '-u', 'alice'], `From: x@example.net\r\nTo: alice@party.example\r\nSubject: m${i}\r\n\r\n${'body line\r\n'.repeat(20 * i)}`);
    }
    // Failing logins come from their own loopback address: Dovecot's auth penalty would slow everything else.
    await imapSession(dovecot, '127.0.0.4', ['LOGIN alice wrong-pw']);
    await imapSession(dovecot, '127.0.0.5', ['LOGIN alice alice-pw', 'SELECT INBOX', 'FETCH 1:* BODY.PEEK[]']);
    await imapSession(dovecot, '127.0.0.1', [`LOGIN alice*${dovecot.master.user} ${dovecot.master.password}`, 'EXAMINE INBOX', 'FETCH 1:* BODY.PEEK[]']);
    // Dovecot's log process writes after the client has its answer.
    await waitFor(() => (fs.readFileSync(dovecot.logPath, 'utf8').match(/body_count=3 /g) ?? []).length === 2 && /auth failed/.test(fs.readFileSync(dovecot.logPath, 'utf8')));

    const { events } = await run({ connectorName: 'dovecot', path: dovecot.logPath, domain: 'party.example', excludeIps: [], clock: fixedClock(Date.now()) }, undefined, ctx({ clock: fixedClock(Date.now()) }));
    expect(events.map((e) => [e.kind, e.outcome, e.account, e.ip, e.details.failure_reason ?? e.details.items])).toEqual([
      ['signin', 'failure', 'alice@party.example', '127.0.0.4', 'password_mismatch'],
      ['signin', 'success', 'alice@party.example', '127.0.0.5', undefined],
      ['data_export', undefined, 'alice@party.example', '127.0.0.5', 3],
    ]);
    const exported = events[2]!;
    expect(exported.details.bytes).toBeGreaterThan(3 * 200);
    expect(exported.id).toBe(events[1]!.id.replace(/:login$/, ':logout'));
    expect(Math.abs(Date.parse(exported.time) - Date.now())).toBeLessThan(120_000);
  });
});

/** One raw IMAP session from a given source address: each command waits for its tagged answer, then LOGOUT. */
function imapSession(d: DovecotServer, localAddress: string, commands: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: d.host, port: d.imapPort, localAddress });
    const queue = [...commands, 'LOGOUT'];
    let buf = '';
    let tag = 0;
    const next = () => {
      const cmd = queue.shift();
      if (cmd !== undefined) sock.write(`t${++tag} ${cmd}\r\n`);
    };
    sock.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      if (tag === 0 && /^\* OK/m.test(buf)) return next();
      if (tag > 0 && new RegExp(`^t${tag} (OK|NO|BAD)`, 'm').test(buf)) next();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(buf));
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
