import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imapConnectorSchema, imapSecrets, managesieveTls, resolveAccounts, type ImapConnectorConfig } from '../../../connectors/imap/config.js';
import { loadConfig } from '../../../src/config/load.js';
import { createSieveStream, scanRedirects, scriptObjects } from '../../../connectors/imap/sieve-stream.js';
import { fixedClock } from '../../../src/clock.js';
import { createEnricher } from '../../../src/enrich/index.js';
import type { VigieEvent } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import type { Connector, StateStream } from '../../../src/pipeline/connector.js';
import { createProcessor } from '../../../src/pipeline/process.js';
import { Runner, type StreamSettings } from '../../../src/pipeline/runner.js';
import { Store } from '../../../src/store/store.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { tmpDir } from '../../helpers/tmp.js';
import { flaggingEngine } from '../../helpers/test-engine.js';

let dovecot: DovecotServer;
beforeAll(async () => {
  dovecot = await startDovecot({ users: ['alice', 'bob', 'carol', 'dave'] });
});
afterAll(() => dovecot?.dispose());

const settings: StreamSettings = { backfillMs: 0, overlapMs: 0, learnFromBackfill: false };
const signal = new AbortController().signal;

/** Runner + store + a recording engine: what a scheduled poll of the stream does. */
function pipeline(stream: StateStream) {
  const clock = fixedClock('2026-11-27T10:00:00Z');
  const store = Store.open({ path: ':memory:', clock });
  const engine = flaggingEngine();
  const events: VigieEvent[] = [];
  const evaluate = engine.evaluate.bind(engine);
  engine.evaluate = (e, ctx) => {
    events.push(e);
    return evaluate(e, ctx);
  };
  const processor = createProcessor({ store, engine, enrich: createEnricher({ domains: ['party.example'] }), routes: [], receivers: [], clock, log: silentLogger, seenTtlMs: 86_400_000 });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  const connector: Connector = { name: 'dovecot', type: 'imap', streams: [stream] };
  return {
    clock,
    events,
    /** One run; returns the events it produced. */
    async run() {
      const before = events.length;
      const report = await runner.runStream(connector, stream, settings, signal);
      return { report, events: events.slice(before) };
    },
  };
}

function masterStream(users: string[], extra: Record<string, unknown> = {}) {
  const cfg = imapConnectorSchema.parse({
    host: dovecot.host,
    accounts: users,
    master_user: { user: dovecot.master.user, password_file: dovecot.master.passwordFile },
    domain: 'party.example',
    ...extra,
  });
  return createSieveStream({ connectorName: 'dovecot', accounts: resolveAccounts(cfg, '/'), host: dovecot.host, port: dovecot.sievePort, tls: false });
}

describe('sieve stream against Dovecot', () => {
  it('reports the active script’s rules, then updates and removals, through the runner', async () => {
    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'fwd'], 'redirect "someone@outside.example";\n');
    await dovecot.doveadm(['sieve', 'put', '-u', 'bob', 'inactive'], 'redirect "nobody@outside.example";\n');
    const p = pipeline(masterStream(['alice', 'bob']));

    const first = await p.run();
    expect(first.report).toMatchObject({ pages: 2, records: 1, events: 1 });
    expect(first.events).toEqual([
      {
        id: expect.stringMatching(/^imap:sieve:alice@party\.example:fwd:1:[0-9a-f]+:present$/),
        kind: 'mailbox_rule',
        time: '2026-11-27T10:00:00.000Z',
        provider: 'imap',
        source: 'dovecot',
        account: 'alice@party.example',
        details: {
          change: 'present',
          mechanism: 'sieve',
          rule_id: 'fwd:1',
          name: 'fwd',
          enabled: true,
          redirect_to: ['someone@outside.example'],
          forward_to: [],
          keep_copy: false,
          delete: false,
          mark_as_read: false,
          stop_processing: false,
          vacation: false,
          reject: false,
          actions: ['redirect'],
          conditions: { summary: 'always', tests: [] },
          external_targets: ['someone@outside.example'],
        },
      },
    ]);

    // Unchanged: nothing. A comment alone changes nothing either.
    p.clock.advance(300_000);
    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'fwd'], '# tidy\nredirect "someone@outside.example";\n');
    expect((await p.run()).events).toEqual([]);

    p.clock.advance(300_000);
    await dovecot.doveadm(
      ['sieve', 'put', '-u', 'alice', '-a', 'fwd'],
      'require ["copy", "imap4flags"];\nif header :contains "subject" "password" { redirect :copy "someone@outside.example"; addflag "\\\\Seen"; }\n',
    );
    const updated = (await p.run()).events;
    expect(updated).toHaveLength(1);
    expect(updated[0]!.details).toMatchObject({
      change: 'updated',
      rule_id: 'fwd:1',
      keep_copy: true,
      mark_as_read: true,
      actions: ['redirect', 'addflag'],
      conditions: { summary: 'header :contains "subject" "password"' },
    });

    // Deactivated: the rule no longer runs.
    p.clock.advance(300_000);
    await dovecot.doveadm(['sieve', 'deactivate', '-u', 'alice']);
    const removed = (await p.run()).events;
    expect(removed.map((e) => [e.account, e.details.change, e.details.rule_id, e.time])).toEqual([['alice@party.example', 'removed', 'fwd:1', '2026-11-27T10:15:00.000Z']]);
  });

  it('follows includes into inactive personal scripts', async () => {
    await dovecot.doveadm(['sieve', 'put', '-u', 'carol', 'helper'], 'discard;\nredirect "hidden@outside.example";\n');
    await dovecot.doveadm(['sieve', 'put', '-u', 'carol', '-a', 'main'], 'require "include";\nif header :is "x-a" "1" { include :personal "helper"; }\nkeep;\n');
    const p = pipeline(masterStream(['carol']));
    const { events } = await p.run();
    expect(events.map((e) => [e.details.rule_id, e.details.name, e.details.included_from, e.details.redirect_to, (e.details.conditions as { summary: string }).summary])).toEqual([
      ['main:1', 'main', undefined, [], 'always'],
      ['helper:1', 'helper', 'main', ['hidden@outside.example'], 'header :is "x-a" "1"'],
    ]);
    expect(events[1]!.details).toMatchObject({ delete: true, keep_copy: false });
  });

  it('keeps a script it cannot parse visible as one object', async () => {
    // doveadm refuses scripts that do not compile, so write the files as a server-side edit would.
    const home = path.join(dovecot.dir, 'mail', 'dave');
    fs.mkdirSync(path.join(home, 'sieve'), { recursive: true });
    fs.writeFileSync(path.join(home, 'sieve', 'odd.sieve'), 'redirect "x@outside.example" ;;\n');
    fs.symlinkSync('sieve/odd.sieve', path.join(home, '.dovecot.sieve'));
    execFileSync('chown', ['-R', '5000:5000', home]);
    const { events } = await pipeline(masterStream(['dave'])).run();
    expect(events.map((e) => e.details)).toEqual([
      expect.objectContaining({ rule_id: 'odd:parse-error', parse_error: 'line 1: unexpected ";"', redirect_to: ['x@outside.example'], change: 'present' }),
    ]);
  });

  it('reads every account it can, keeps the others as they were, and fails the run as unauthorized', async () => {
    await dovecot.doveadm(['sieve', 'activate', '-u', 'alice', 'fwd']);
    const cfg = imapConnectorSchema.parse({
      host: dovecot.host,
      accounts: [
        { user: 'alice', password: 'alice-pw' },
        { user: 'bob', password: 'wrong-pw' },
      ],
      domain: 'party.example',
    });
    const stream = createSieveStream({
      connectorName: 'dovecot',
      accounts: resolveAccounts(cfg, '/'),
      host: dovecot.host,
      port: dovecot.sievePort,
      tls: false,
      // Dovecot's auth penalty would slow later logins from 127.0.0.1 after the wrong password.
      localAddress: '127.0.0.3',
    });
    const p = pipeline(stream);
    const err = await p.run().then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    expect(err?.code).toBe('SOURCE_UNAUTHORIZED');
    expect(err?.message).toMatch(/^Sieve scripts of 1 of 2 accounts could not be read: bob@party\.example: ManageSieve .* as bob: AUTHENTICATE PLAIN refused/);
    expect(err?.message).not.toContain('wrong-pw');
    expect(p.events.filter((e) => e.kind === 'mailbox_rule').map((e) => [e.account, e.details.rule_id])).toEqual([['alice@party.example', 'fwd:1']]);
    const monitor = p.events.filter((e) => e.kind === 'monitor');
    expect(monitor).toHaveLength(1);
    expect(monitor[0]!.details).toMatchObject({ type: 'source_failing', stream: 'sieve', connector_type: 'imap' });
  });
});

describe('scriptObjects (pure)', () => {
  it('turns a script the parser refuses into one visible object with the redirects a scan finds', () => {
    const objects = scriptObjects('dovecot', 'alice@party.example', [{ name: 'odd', source: 'redirect "a@x.example";\nredirect :copy "b\\"q@x.example" @;\n', conditions: [] }], '2026-11-27T10:00:00.000Z');
    expect(objects).toHaveLength(1);
    expect(objects[0]!.key).toBe('odd:parse-error');
    expect(objects[0]!.event.details).toMatchObject({
      mechanism: 'sieve',
      rule_id: 'odd:parse-error',
      name: 'odd',
      parse_error: 'line 2: unexpected character "@"',
      redirect_to: ['a@x.example', 'b"q@x.example'],
      script_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('the scan is bounded on hostile input', () => {
    expect(scanRedirects(`redirect ${'"x", '.repeat(100_000)}`)).toHaveLength(1);
    expect(scanRedirects(Array.from({ length: 200 }, (_, i) => `redirect "a${i}@x";`).join('\n'))).toHaveLength(50);
  });
});

describe('imap connector config', () => {
  const strict = imapConnectorSchema.strict();
  const problems = (input: unknown) => {
    const r = strict.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('applies the defaults', () => {
    expect(strict.parse({ host: 'mail.party.example', accounts: [{ user: 'alice', password: 'x' }] })).toEqual({
      host: 'mail.party.example',
      port: 993,
      tls: true,
      accounts: [{ user: 'alice', password: 'x' }],
      exclude_ips: [],
    });
    const full = strict.parse({
      host: 'h',
      tls: 'starttls',
      port: 143,
      accounts: ['alice'],
      master_user: { user: 'monitor', password_file: 'm.txt' },
      managesieve: {},
      dovecot_log: { path: '/var/log/dovecot.log', timezone: 'Europe/Paris' },
      domain: 'Party.Example',
      exclude_ips: ['192.0.2.10', '10.0.0.0/8'],
      timeouts: { connect: '10s', command: '1m' },
    });
    expect(full).toMatchObject({ master_user: { separator: '*' }, managesieve: { port: 4190 }, domain: 'party.example', timeouts: { connect: 10_000, command: 60_000 } });
    expect(managesieveTls(full)).toBe('starttls');
    expect(managesieveTls(strict.parse({ host: 'h', tls: false, accounts: [{ user: 'a', password: 'b' }], managesieve: {} }))).toBe(false);
  });

  it('rejects the wrong account / master_user combinations and bad values, each with its path', () => {
    expect(problems({ host: 'h', accounts: ['alice'] })).toEqual(['accounts: bare user names need "master_user"; otherwise give each account { user, password_file }']);
    expect(problems({ host: 'h', accounts: [{ user: 'a', password: 'p' }], master_user: { user: 'm', password_file: 'f' } })).toEqual([
      'accounts: with "master_user", accounts are a list of user names (no passwords)',
    ]);
    expect(problems({ host: 'h', accounts: ['a'], master_user: { user: 'm' } })).toEqual(['master_user: give the master password once: "master_user.password_file", or "password" / "password_file"']);
    expect(problems({ host: 'h', accounts: [{ user: 'a', password: 'p', password_file: 'f' }] })).toEqual(['accounts.0: give exactly one of "password" or "password_file"']);
    expect(problems({ host: 'h', accounts: [{ user: 'a', password: 'p' }], password: 'x' })).toEqual(['password: "password" is the master user\'s password and needs "master_user"']);
    expect(problems({ host: 'h', accounts: [{ user: 'a', password: 'p' }], exclude_ips: ['nope'], dovecot_log: { path: 'x', timezone: 'Mars/Base' } })).toEqual([
      'dovecot_log.timezone: must be an IANA time zone such as Europe/Paris or UTC',
      'exclude_ips.0: must be an IP address or a CIDR range',
    ]);
  });

  it('resolves accounts: own password files relative to the config folder, or master logins', () => {
    const dir = tmpDir('vigie-imap-config-');
    fs.writeFileSync(path.join(dir, 'alice.pw'), 'alice-secret\n');
    fs.writeFileSync(path.join(dir, 'master.pw'), 'master-secret\n');
    const own = strict.parse({ host: 'h', domain: 'party.example', accounts: [{ user: 'Alice', password_file: 'alice.pw' }, { user: 'bob@other.example', password: 'b' }] });
    expect(resolveAccounts(own, dir)).toEqual([
      { address: 'alice@party.example', loginUser: 'Alice', password: 'alice-secret' },
      { address: 'bob@other.example', loginUser: 'bob@other.example', password: 'b' },
    ]);
    const master = strict.parse({ host: 'h', domain: 'party.example', accounts: ['alice'], master_user: { user: 'monitor', password_file: 'master.pw', separator: '%' } });
    expect(resolveAccounts(master, dir)).toEqual([{ address: 'alice@party.example', loginUser: 'alice%monitor', password: 'master-secret' }]);
    const viaLoader = strict.parse({ host: 'h', accounts: ['alice'], master_user: { user: 'monitor' }, password: 'from-password_file' });
    expect(resolveAccounts(viaLoader, dir)[0]!.password).toBe('from-password_file');
    const missing = strict.parse({ host: 'h', accounts: [{ user: 'a', password_file: 'nope.pw' }] });
    expect(() => resolveAccounts(missing, dir)).toThrow(/Cannot read the account a password file .*nope\.pw \(ENOENT\)/);
  });

  it('goes through the config loader: top-level password_file is the master password, and never shows in problems', () => {
    const dir = tmpDir('vigie-imap-loader-');
    fs.writeFileSync(path.join(dir, 'master.pw'), 'Master-Secret-1\n');
    const file = path.join(dir, 'vigie.yml');
    const types = { connectorTypes: { imap: { schema: imapConnectorSchema, secrets: imapSecrets } }, receiverTypes: {} };
    fs.writeFileSync(
      file,
      ['organisation: { name: Party }', 'connectors:', '  - name: dovecot', '    type: imap', '    host: mail.party.example', '    accounts: [alice, bob]', '    master_user: { user: monitor }', '    password_file: master.pw', ''].join('\n'),
    );
    const cfg = loadConfig(file, types).connectors[0] as unknown as ImapConnectorConfig & { name: string };
    expect(resolveAccounts(cfg, dir).map((a) => [a.loginUser, a.password])).toEqual([
      ['alice*monitor', 'Master-Secret-1'],
      ['bob*monitor', 'Master-Secret-1'],
    ]);
    fs.writeFileSync(file, ['organisation: { name: Party }', 'connectors:', '  - name: dovecot', '    type: imap', '    host: mail.party.example', '    accounts: [alice]', '    password_file: master.pw', '    tls: maybe', ''].join('\n'));
    let message = '';
    try {
      loadConfig(file, types);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/vigie\.yml:\d+:\d+: connectors\[0\]\.accounts: bare user names need "master_user"/);
    expect(message).toMatch(/connectors\[0\]\.tls: must be true, false or "starttls"/);
    expect(message).not.toContain('Master-Secret-1');
  });
});
