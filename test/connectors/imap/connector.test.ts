import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImapConnector, imapConnectorSchema, imapFormats } from '../../../connectors/imap/index.js';
import { silentLogger } from '../../../src/log.js';
import type { LogStream } from '../../../src/pipeline/connector.js';
import { Runner } from '../../../src/pipeline/runner.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { appendMany, DOMAINS, mail, pipeline, settings, userClient, wallClock } from './mailbox-fixtures.js';

let dovecot: DovecotServer;

beforeAll(async () => {
  dovecot = await startDovecot();
});

afterAll(async () => {
  await dovecot?.stop();
});

function build(extra: Record<string, unknown>) {
  const cfg = imapConnectorSchema.parse({ host: dovecot.host, port: dovecot.imapPort, tls: false, domain: 'party.example', ...extra });
  return createImapConnector({ ...cfg, name: 'nord' }, { baseDir: dovecot.dir, domains: DOMAINS, clock: wallClock });
}

describe('createImapConnector', () => {
  it('has the mailbox stream, plus the Sieve and Dovecot log streams when they are configured', () => {
    const plain = build({ accounts: [{ user: 'alice', password: 'alice-pw' }] });
    expect(plain).toMatchObject({ name: 'nord', type: 'imap' });
    expect(plain.streams.map((s) => `${s.kind}:${s.name}`)).toEqual(['log:mailbox']);

    const full = build({
      accounts: [{ user: 'alice', password: 'alice-pw' }],
      managesieve: { port: dovecot.sievePort, tls: false },
      dovecot_log: { path: 'dovecot.log' },
    });
    expect(full.streams.map((s) => `${s.kind}:${s.name}`)).toEqual(['log:mailbox', 'state:sieve', 'log:dovecot-log']);
  });

  it('scans every account through the master user, with addresses from the configured domain', async () => {
    for (const user of ['alice', 'bob']) {
      const c = await userClient(dovecot, user);
      await c.mailboxCreate('Sent');
      await c.logout();
    }
    const connector = build({
      accounts: ['alice', 'bob'],
      master_user: { user: dovecot.master.user, password_file: dovecot.master.passwordFile },
      managesieve: { port: dovecot.sievePort, tls: false },
      dovecot_log: { path: dovecot.logPath },
    });
    const mailbox = connector.streams[0] as LogStream;
    const p = pipeline(mailbox);
    await p.run();
    expect(p.takeEvents()).toEqual([]);

    const c = await userClient(dovecot, 'bob');
    await appendMany(c, 'Sent', [mail({ from: 'bob@party.example', to: ['leak@evil.example'], headers: { 'User-Agent': 'K-9 Mail' } })], ['\\Seen']);
    await c.logout();
    await p.run();
    expect(p.takeEvents()).toEqual([
      expect.objectContaining({
        source: 'nord',
        account: 'bob@party.example',
        details: expect.objectContaining({ action: 'sent', external_recipients: ['leak@evil.example'], client: 'K-9 Mail' }),
      }),
    ]);

    // The other streams run too, on the same config (their own behaviour is tested with them).
    const runner = new Runner({ store: p.store, processor: { process: () => ({ received: 0, fresh: 0, duplicates: 0, alerts: [], newAlertIds: [] }) }, clock: wallClock, log: silentLogger });
    for (const s of connector.streams.slice(1)) await expect(runner.runStream(connector, s, settings, new AbortController().signal)).resolves.toMatchObject({ stream: s.name });
  });

  it('names the account and says the login was refused when a password is wrong', async () => {
    const connector = build({ accounts: [{ user: 'carol', password: 'not-her-password' }] });
    const p = pipeline(connector.streams[0] as LogStream);
    const run = p.run();
    await expect(run).rejects.toMatchObject({ code: 'SOURCE_UNAUTHORIZED' });
    await expect(run).rejects.toThrow(/refused the login for carol@party\.example/);
    await expect(run).rejects.not.toThrow(/not-her-password/);
  });

  it('exports the Dovecot log format for replay', () => {
    const lines = fs.readFileSync(dovecot.logPath, 'utf8').split('\n').filter(Boolean).slice(0, 20);
    expect(imapFormats.texts?.map((f) => f.name)).toEqual(['dovecot-log']);
    expect(imapFormats.texts?.[0]?.detect(lines)).toBe(true);
  });
});
