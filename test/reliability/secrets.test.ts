import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { ConfigError } from '../../src/errors.js';
import { createMetrics } from '../../src/metrics.js';
import { Store } from '../../src/store/store.js';
import { startFakeMicrosoft365, type FakeMicrosoft365 } from '../fakes/microsoft-365/server.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { refusedUrl, startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

/**
 * P15/P24: known secret values go through representative scenarios — a `vigie once` child at
 * debug level against the Microsoft 365 fake (client secret from a file, tokens revoked between
 * runs, a 401 and an HTML login page injected), a signed webhook, a webhook whose URL carries a
 * token and whose error answer echoes it, a Slack URL answered 403 with the URL echoed, and an IMAP
 * master password against a refused port — and every log line, alert, stored error and metrics
 * text is scanned for them: zero hits.
 */
const dir = tmpDir('vigie-secrets-');
const WEBHOOK_SECRET = `whsec_${Buffer.from('secret-scan-webhook-key-0123456789').toString('base64')}`;
const URL_TOKEN = 'urltoken-7hQ2mZ9vK4pL1xW8';
const SLACK_PATH = '/services/T0SECRET/B0SECRET/slackpath-Zp3Rt6Yu9Io2';
const IMAP_PASSWORD = 'imap-master-pw-Gh5Jk8Lm1Nb4';
let fake: FakeMicrosoft365;
let hook: WebhookServer;
let leaky: WebhookServer;
let slack: WebhookServer;
let config: string;

beforeAll(async () => {
  [fake, hook, leaky, slack] = await Promise.all([
    startFakeMicrosoft365({ now: () => Date.now(), knobs: { licence: 'premium', throttleRate: 0.05, tokenLifetimeSec: 120 } }),
    startWebhookServer(),
    startWebhookServer({ default: { status: 500, body: `invalid token ${URL_TOKEN} for this endpoint` } }),
    startWebhookServer({ path: SLACK_PATH, default: { status: 403, body: `no such hook ${SLACK_PATH}` } }),
  ]);
  fs.writeFileSync(path.join(dir, 'ca.pem'), fake.ca);
  fs.writeFileSync(path.join(dir, 'm365-secret'), `${fake.clientSecret}\n`, { mode: 0o600 });
  const imapPort = new URL(await refusedUrl()).port;
  config = path.join(dir, 'vigie.yml');
  fs.writeFileSync(
    config,
    `organisation: { name: Secrets, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - name: hq-m365
    type: microsoft-365
    tenant_id: ${fake.tenantId}
    client_id: ${fake.clientId}
    client_secret_file: ./m365-secret
    base_urls: { login: "${fake.loginUrl}", graph: "${fake.graphUrl}", manage: "${fake.manageUrl}" }
  - name: branch
    type: imap
    host: 127.0.0.1
    port: ${imapPort}
    tls: false
    master_user: { user: monitor }
    password: ${IMAP_PASSWORD}
    accounts: [alice]
receivers:
  - { name: hook, type: webhook, url: "${hook.url}", secret: "${WEBHOOK_SECRET}" }
  - { name: leaky, type: webhook, url: "${leaky.url}?token=${URL_TOKEN}" }
  - { name: chat, type: slack, url: "${slack.url}" }
delivery: { initial_backoff: 1s, max_backoff: 1s, group_wait: 0s }
`,
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await Promise.all([fake?.close(), hook?.close(), leaky?.close(), slack?.close()]);
});

function scan(haystack: string, secrets: string[]): string[] {
  return secrets.filter((s) => haystack.includes(s));
}

describe('secrets never leave', () => {
  it('no secret value in any log line, alert, stored error or metric', async () => {
    const env = { NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'), VIGIE_LOG_LEVEL: 'debug' };
    fake.inject({ server: 'graph', path: /auditLogs\/signIns/, status: 401, body: { error: { code: 'InvalidAuthenticationToken' } } });
    fake.inject({ server: 'manage', path: /subscriptions\/content/, status: 200, headers: { 'content-type': 'text/html' }, body: '<html><form action="/login">Sign in</form></html>' });
    const first = await runCli(['once', '-c', config], { env, timeoutMs: 60_000 });
    fake.revokeTokens();
    const second = await runCli(['once', '-c', config], { env, timeoutMs: 60_000 });
    expect([first.code, second.code]).not.toContain(null);

    const secrets = [fake.clientSecret, ...fake.tokensIssued, WEBHOOK_SECRET, URL_TOKEN, SLACK_PATH, 'slackpath-Zp3Rt6Yu9Io2', IMAP_PASSWORD];
    expect(fake.tokensIssued.length).toBeGreaterThan(0);
    const logs = [first.stdout, first.stderr, second.stdout, second.stderr].join('\n');
    expect(logs.split('\n').filter((l) => l.startsWith('{')).length).toBeGreaterThan(20);
    const received = [...hook.requests, ...leaky.requests, ...slack.requests]
      .map((r) => r.body + JSON.stringify({ ...r.headers, 'webhook-signature': undefined }))
      .join('\n');
    const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
    const stored = [
      ...(db.prepare('SELECT body AS t FROM alerts').all() as Array<{ t: string }>),
      ...(db.prepare('SELECT coalesce(last_error, \'\') AS t FROM outbox').all() as Array<{ t: string }>),
      ...(db.prepare('SELECT coalesce(last_error, \'\') AS t FROM stream_status').all() as Array<{ t: string }>),
      ...(db.prepare('SELECT cursor AS t FROM cursors').all() as Array<{ t: string }>),
    ]
      .map((r) => r.t)
      .join('\n');
    db.close();
    const store = Store.open({ path: path.join(dir, 'vigie.db'), clock: fixedClock('2026-11-27T10:00:00Z') });
    const metrics = await createMetrics({ store, clock: fixedClock('2026-11-27T10:00:00Z'), defaultMetrics: false }).registry.metrics();
    store.close();
    // The scenarios did run: failures were logged and stored, alerts and errors exist.
    expect(stored).toMatch(/ECONNREFUSED|connect/i);
    expect(leaky.requests.length + slack.requests.length).toBeGreaterThan(0);

    const hits = { logs: scan(logs, secrets), received: scan(received, secrets), stored: scan(stored, secrets), metrics: scan(metrics, secrets) };
    expect(hits).toEqual({ logs: [], received: [], stored: [], metrics: [] });
    console.log(
      `[reliability] secrets: ${secrets.length} secret values, ${logs.split('\n').length} log lines, ${hook.requests.length + leaky.requests.length + slack.requests.length} receiver requests, ${stored.length} bytes of stored state, ${metrics.length} bytes of metrics scanned: 0 hits`,
    );
  }, 150_000);

  it('refuses a secret given inline and as a file, and warns on a world-readable secret file', () => {
    const secretFile = path.join(dir, 'loose-secret');
    fs.writeFileSync(secretFile, 'loose-secret-value\n');
    fs.chmodSync(secretFile, 0o644);
    const base = (extra: string) =>
      `organisation: { name: X, domains: [party.example] }\nconnectors: []\nreceivers:\n  - { name: hook, type: webhook, url: "http://127.0.0.1:9/h", ${extra} }\n`;
    const both = path.join(dir, 'both.yml');
    fs.writeFileSync(both, base(`secret: "whsec_${Buffer.from('a'.repeat(30)).toString('base64')}", secret_file: ./loose-secret`));
    expect(() => readConfig(both)).toThrow(ConfigError);
    try {
      readConfig(both);
    } catch (err) {
      expect(String((err as Error).message)).toContain('not both');
    }
    const loose = path.join(dir, 'loose.yml');
    fs.writeFileSync(loose, base('secret_file: ./loose-secret'));
    const cfg = readConfig(loose);
    expect(cfg.warnings?.join('\n')).toMatch(/loose-secret is readable by every user/);
    expect(cfg.warnings?.join('\n')).not.toContain('loose-secret-value');
    fs.chmodSync(secretFile, 0o600);
    expect(readConfig(loose).warnings).toBeUndefined();
  });
});
