import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

/**
 * Kills `vigie once` with SIGKILL at each crash point (before the commit, after the commit but
 * before delivery, after a delivery but before it is marked) and restarts it. Oracle: every
 * expected alert reached the webhook at least once, every copy has the same id and body, and no
 * event was skipped.
 */
const ACCOUNTS = 120;
const dir = tmpDir('vigie-crash-');
let hook: WebhookServer;

function writeSetup(): string {
  const events = [];
  for (let i = 0; i < ACCOUNTS; i++) {
    const serial = String(i).padStart(4, '0');
    events.push({
      id: `microsoft-365:audit:${serial}`,
      kind: 'mailbox_rule',
      time: new Date(Date.UTC(2026, 10, 20, 9, 0, i)).toISOString(),
      provider: 'microsoft-365',
      source: 'hq',
      account: `user${serial}@party.example`,
      details: { change: 'created', mechanism: 'exchange_inbox_rule', rule_id: `r${serial}`, name: `rule ${serial}`, forward_to: [`drop${serial}@attacker.example`] },
    });
  }
  fs.writeFileSync(path.join(dir, 'events.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const config = `
organisation: { name: Crash test, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - name: hq
    type: file
    paths: [./events.jsonl]
    page_size: 10
receivers:
  - name: hook
    type: webhook
    url: ${hook.url}
    secret: whsec_${Buffer.from('crash-test-secret').toString('base64')}
delivery: { initial_backoff: 1s, max_backoff: 2s, group_wait: 0s }
`;
  const file = path.join(dir, 'vigie.yml');
  fs.writeFileSync(file, config);
  return file;
}

beforeAll(async () => {
  hook = await startWebhookServer();
});
afterAll(async () => {
  await hook.close();
});

describe('crash safety of `vigie once`', () => {
  it('delivers every alert at least once, with stable ids, across SIGKILLs at every crash point', async () => {
    const config = writeSetup();
    const kills: Array<[string, string]> = [
      ['after_detect_before_commit', '3'], // pages 1–2 committed, page 3 lost with the process
      ['after_commit_before_send', '2'], // pages 3–4 committed, nothing delivered yet
      ['after_detect_before_commit', '1'], // page 5 lost again
      ['after_send_before_mark', '7'], // everything committed; the 7th delivery is sent but not marked
      ['after_send_before_mark', '1'], // and once more on the very first send
    ];
    for (const [point, hit] of kills) {
      const r = await runCli(['once', '-c', config], { env: { VIGIE_FAILPOINT: point, VIGIE_FAILPOINT_HIT: hit } });
      expect(r.signal, `${point} #${hit} should have killed the process; stderr: ${r.stderr}`).toBe('SIGKILL');
    }
    const final = await runCli(['once', '-c', config]);
    expect(final.code, final.stderr).toBe(0);

    // Every account's forwarding alert arrived; copies of one alert are identical.
    const byId = new Map<string, string[]>();
    for (const req of hook.requests) {
      const body = JSON.parse(req.body) as { alerts: Alert[] };
      expect(body.alerts).toHaveLength(1);
      const alert = body.alerts[0]!;
      expect(req.headers['webhook-id']).toBe(alert.id);
      const copies = byId.get(alert.id) ?? [];
      copies.push(JSON.stringify(alert));
      byId.set(alert.id, copies);
    }
    const accounts = new Set([...byId.values()].map((c) => (JSON.parse(c[0]!) as Alert).account));
    expect(accounts.size).toBe(ACCOUNTS);
    expect(byId.size).toBe(ACCOUNTS);
    for (const copies of byId.values()) expect(new Set(copies).size).toBe(1);
    const duplicates = hook.requests.length - byId.size;
    expect(duplicates).toBeGreaterThan(0); // the after_send_before_mark kills must have caused some

    // No event skipped, nothing left pending, and the database is sound.
    const db = new Database(path.join(dir, 'vigie.db'), { readonly: true });
    expect(db.pragma('quick_check', { simple: true })).toBe('ok');
    expect((db.prepare(`SELECT count(*) AS n FROM seen WHERE id LIKE 'microsoft-365:audit:%'`).get() as { n: number }).n).toBe(ACCOUNTS);
    expect((db.prepare(`SELECT count(*) AS n FROM outbox WHERE status != 'delivered'`).get() as { n: number }).n).toBe(0);
    db.close();

    // A restart with nothing new sends nothing new.
    const before = hook.requests.length;
    expect((await runCli(['once', '-c', config])).code).toBe(0);
    expect(hook.requests.length).toBe(before);
  }, 180_000);
});
