import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertId, type Alert } from '../../src/alerts/alert.js';
import { DELIVERY_FAILING_RULE, createDeliveryWorker, type DeliveryOptions } from '../../src/alerts/delivery.js';
import { fixedClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import type { Receiver } from '../../src/receivers/receiver.js';
import { createSlackReceiver } from '../../src/receivers/slack.js';
import { createWebhookReceiver } from '../../src/receivers/webhook.js';
import { Store } from '../../src/store/store.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';
import { makeAlert } from './make-alert.js';

const T0 = '2025-03-01T12:00:00.000Z';
const HOUR = 3_600_000;
const SECRET = 'whsec_' + Buffer.from('a-test-key-of-twenty-four-bytes!').toString('base64');

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Standard Webhooks verification from the spec, independent of src/. */
function verified(headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const expected = createHmac('sha256', key).update(`${String(headers['webhook-id'])}.${String(headers['webhook-timestamp'])}.${body}`).digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .some((p) => {
      const [v, sig] = p.split(',');
      const got = Buffer.from(sig ?? '', 'base64');
      return v === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
    });
}

async function harness(over: Partial<DeliveryOptions> & { format?: 'vigie' | 'alertmanager' } = {}) {
  const clock = fixedClock(T0);
  const store = Store.open({ path: ':memory:', clock });
  const hook = await startWebhookServer();
  const chat = await startWebhookServer();
  cleanup.push(() => store.close(), () => hook.close(), () => chat.close());
  const receivers = new Map<string, Receiver>([
    ['soc', createWebhookReceiver({ name: 'soc', url: hook.url, secret: SECRET, timeoutMs: 5000, clock, format: over.format ?? 'vigie' })],
    ['chat', createSlackReceiver({ name: 'chat', url: chat.url, timeoutMs: 5000, clock })],
  ]);
  const worker = createDeliveryWorker({
    store,
    receivers,
    clock,
    log: silentLogger,
    retryBudgetMs: 72 * HOUR,
    initialBackoffMs: 10_000,
    maxBackoffMs: HOUR,
    random: () => 0.5,
    groupWaitMs: 30_000,
    ...over,
  });
  const queue = (alert: Alert, to: string[] = ['soc']) =>
    store.transaction(() => {
      if (store.upsertAlert(alert)) for (const r of to) store.enqueue(alert.id, r);
    });
  return { clock, store, hook, chat, worker, queue };
}

const ids = (s: WebhookServer, i: number) => (JSON.parse(s.requests[i]!.body) as { alerts: Alert[] }).alerts.map((a) => a.id);
const alertN = (n: number, over: Partial<Alert> = {}) => makeAlert({ id: `a${String(n).padStart(3, '0')}`.padEnd(32, '0'), ...over });

describe('grouping (group_wait)', () => {
  it('alerts for one receiver within group_wait go out as one signed message when the window closes', async () => {
    const h = await harness();
    h.queue(alertN(1));
    h.clock.advance(10_000);
    h.queue(alertN(2));
    h.clock.advance(15_000);
    h.queue(alertN(3));
    expect(await h.worker.deliverDue()).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(h.hook.requests).toHaveLength(0);
    h.clock.advance(5_000); // 30 s after the first
    expect(await h.worker.deliverDue()).toEqual({ delivered: 3, retried: 0, dead: 0 });
    expect(h.hook.requests).toHaveLength(1);
    expect(ids(h.hook, 0)).toEqual([alertN(1).id, alertN(2).id, alertN(3).id]);
    const req = h.hook.requests[0]!;
    expect(req.headers['webhook-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(req.headers['webhook-id']).not.toBe(alertN(1).id);
    expect(verified(req.headers, req.body)).toBe(true);
  });

  it('an alert after the window starts a new group', async () => {
    const h = await harness();
    h.queue(alertN(1));
    h.clock.advance(31_000);
    h.queue(alertN(2));
    await h.worker.deliverDue();
    expect(h.hook.requests).toHaveLength(1);
    expect(ids(h.hook, 0)).toEqual([alertN(1).id]);
    // A single alert keeps its own id as the webhook-id.
    expect(h.hook.requests[0]!.headers['webhook-id']).toBe(alertN(1).id);
    h.clock.advance(30_000);
    await h.worker.deliverDue();
    expect(ids(h.hook, 1)).toEqual([alertN(2).id]);
  });

  it('flush sends what is queued without waiting (vigie once)', async () => {
    const h = await harness();
    h.queue(alertN(1), ['soc', 'chat']);
    h.queue(alertN(2), ['soc', 'chat']);
    expect(await h.worker.deliverDue(undefined, { flush: true })).toEqual({ delivered: 4, retried: 0, dead: 0 });
    expect(h.hook.requests).toHaveLength(1);
    expect(h.chat.requests).toHaveLength(1);
    expect(JSON.parse(h.chat.requests[0]!.body).blocks[0].text.text).toBe('Vigie: 2 alerts · HIGH');
  });

  it('a retried group keeps its members and its webhook-id; alerts queued meanwhile wait their turn', async () => {
    const h = await harness();
    h.hook.script({ status: 503 }, { status: 503 });
    h.queue(alertN(1));
    h.queue(alertN(2));
    h.clock.advance(30_000);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 0, retried: 2, dead: 0 });
    h.queue(alertN(3)); // arrives while the group is failing
    for (let i = 0; i < 100 && h.store.outboxCounts().pending > 0; i++) {
      h.clock.advance(5_000);
      await h.worker.deliverDue();
    }
    expect(h.hook.requests.map((r) => r.answered)).toEqual([503, 503, 200, 200]);
    const keys = h.hook.requests.map((r) => r.headers['webhook-id']);
    expect(new Set(keys.slice(0, 3)).size).toBe(1);
    expect(new Set(h.hook.requests.slice(0, 3).map((r) => r.body)).size).toBe(1);
    expect(ids(h.hook, 2)).toEqual([alertN(1).id, alertN(2).id]);
    expect(ids(h.hook, 3)).toEqual([alertN(3).id]);
  });

  it('a receiver down for 6 hours of fake time then back: every alert once, in order, same ids', async () => {
    const h = await harness({ maxBackoffMs: 30 * 60_000 });
    h.hook.setDefault({ status: 503 });
    const queued: string[] = [];
    const end = h.clock.now() + 6 * HOUR;
    let n = 0;
    while (h.clock.now() < end) {
      // Bursts of two alerts 10 s apart, every 20 minutes.
      if (h.clock.now() % (20 * 60_000) === 0) {
        for (const k of [0, 1]) {
          const a = alertN(n++);
          queued.push(a.id);
          h.queue(a);
          if (k === 0) h.clock.advance(10_000);
        }
      }
      await h.worker.deliverDue();
      h.clock.advance(50_000);
    }
    const failedKeys = new Map<string, string>();
    for (const r of h.hook.requests) failedKeys.set(String(r.headers['webhook-id']), r.body);
    expect(h.store.outboxCounts()).toMatchObject({ pending: queued.length, dead: 0 });

    h.hook.setDefault({ status: 200 });
    for (let i = 0; i < 200 && h.store.outboxCounts().pending > 0; i++) {
      await h.worker.deliverDue();
      h.clock.advance(60_000);
    }
    expect(h.store.outboxCounts()).toEqual({ pending: 0, delivered: queued.length, dead: 0 });
    const ok = h.hook.requests.filter((r) => r.answered === 200);
    const delivered = ok.flatMap((r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts.map((a) => a.id));
    expect(delivered).toEqual(queued);
    // Pairs went together, and a group tried before the outage ended kept its id and body.
    expect(ok.every((r) => (JSON.parse(r.body) as { alerts: Alert[] }).alerts.length === 2)).toBe(true);
    for (const r of ok) {
      const before = failedKeys.get(String(r.headers['webhook-id']));
      if (before !== undefined) expect(r.body).toBe(before);
      expect(verified(r.headers, r.body)).toBe(true);
    }
  });

  it.each([410, 401])('HTTP %i → the group goes to the dead letters and a monitor alert goes to the other receiver', async (status) => {
    const h = await harness();
    h.hook.setDefault({ status });
    h.queue(alertN(1));
    h.queue(alertN(2));
    h.clock.advance(30_000);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 0, retried: 0, dead: 2 });
    // The monitor alert waits for its own group window on the other receiver.
    h.clock.advance(30_000);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 1, retried: 0, dead: 0 });
    const metaId = alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-01');
    expect(h.store.getAlert(metaId)!.count).toBe(2);
    const slack = JSON.parse(h.chat.requests[0]!.body) as { blocks: Array<{ text?: { text: string } }> };
    expect(slack.blocks[0]!.text!.text).toBe('HIGH · Alerts cannot be delivered to receiver soc');
    expect(JSON.stringify(slack)).toContain(`HTTP ${status}`);
  });

  it('an alert already delivered is not sent again while the engine keeps its id (dedupe); the count shown is the latest', async () => {
    const h = await harness();
    const a = alertN(1, { count: 1 });
    h.queue(a, ['soc']);
    await h.worker.deliverDue(undefined, { flush: true });
    // The incident keeps firing: the engine upserts the same id with a higher count.
    h.queue({ ...a, count: 7, last_time: '2025-03-01T11:00:00.000Z' }, ['soc']);
    h.clock.advance(HOUR);
    expect(await h.worker.deliverDue(undefined, { flush: true })).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(h.hook.requests).toHaveLength(1);
    expect(h.store.getAlert(a.id)!.count).toBe(7);
  });

  it('the count rendered is the stored alert at send time', async () => {
    const h = await harness();
    const a = alertN(1, { count: 1 });
    h.queue(a, ['chat']);
    h.store.upsertAlert({ ...a, count: 5 });
    h.clock.advance(30_000);
    await h.worker.deliverDue();
    expect(h.chat.requests[0]!.body).toContain('still firing: 5 events so far');
  });

  it('format: alertmanager posts a version 4 payload with the same signed headers', async () => {
    const h = await harness({ format: 'alertmanager' });
    h.queue(alertN(1));
    h.queue(alertN(2, { account: 'bob@party.example' }));
    await h.worker.deliverDue(undefined, { flush: true });
    const req = h.hook.requests[0]!;
    expect(verified(req.headers, req.body)).toBe(true);
    const body = JSON.parse(req.body) as Record<string, any>;
    expect(body).toMatchObject({
      version: '4',
      groupKey: req.headers['webhook-id'],
      status: 'firing',
      receiver: 'soc',
      truncatedAlerts: 0,
      commonLabels: { alertname: 'login.impossible-travel', severity: 'high', category: 'unusual_login', provider: 'microsoft-365' },
    });
    expect(body.commonLabels.account).toBeUndefined();
    expect(body.alerts).toHaveLength(2);
    expect(body.alerts[0]).toMatchObject({
      status: 'firing',
      labels: { alertname: 'login.impossible-travel', account: 'alice@party.example' },
      annotations: { title: 'Sign-in from two countries too far apart' },
      startsAt: '2025-03-01T10:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: alertN(1).id,
    });
  });

  it('the daemon loop respects group_wait: nothing goes out until the window closes', async () => {
    const h = await harness();
    h.queue(alertN(1));
    const ac = new AbortController();
    const running = h.worker.run(ac.signal);
    h.queue(alertN(2));
    h.worker.poke();
    await new Promise((r) => setImmediate(r));
    expect(h.hook.requests).toHaveLength(0);
    h.clock.advance(30_000);
    h.worker.poke();
    await vi.waitFor(() => expect(h.hook.requests).toHaveLength(1), { timeout: 2000 });
    ac.abort();
    await running;
    expect(ids(h.hook, 0)).toEqual([alertN(1).id, alertN(2).id]);
  });

  it('monitor alerts speak the configured language', async () => {
    const h = await harness({ locale: 'fr' });
    h.hook.setDefault({ status: 410 });
    h.queue(alertN(1));
    await h.worker.deliverDue(undefined, { flush: true });
    const meta = h.store.getAlert(alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-01'))!;
    expect(meta.title).toBe('Les alertes ne peuvent pas être remises au destinataire soc');
    expect(meta.remediation[1]).toContain('vigie test-alert --receiver soc');
  });
});
