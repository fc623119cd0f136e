import { afterEach, describe, expect, it, vi } from 'vitest';
import { alertId, type Alert } from '../../src/alerts/alert.js';
import { DELIVERY_FAILING_RULE, createDeliveryWorker, type DeliveryOptions } from '../../src/alerts/delivery.js';
import { fixedClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import { createConsoleReceiver } from '../../src/receivers/console.js';
import type { Receiver } from '../../src/receivers/receiver.js';
import { createWebhookReceiver } from '../../src/receivers/webhook.js';
import { Store } from '../../src/store/store.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';
import { HOSTILE, makeAlert } from './make-alert.js';

const T0 = '2025-03-01T12:00:00.000Z';
const HOUR = 3_600_000;

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Harness {
  clock: ReturnType<typeof fixedClock>;
  store: Store;
  server: WebhookServer;
  screen: string[];
  logs: Array<Record<string, unknown>>;
  worker: ReturnType<typeof createDeliveryWorker>;
  queue(alert: Alert, receivers?: string[]): void;
  outbox(): Array<{ seq: number; alert_id: string; receiver: string; status: string; attempts: number; next_attempt_at: number; last_error: string | null }>;
}

async function harness(over: Partial<DeliveryOptions> & { extra?: Record<string, Receiver> } = {}): Promise<Harness> {
  const clock = fixedClock(T0);
  const store = Store.open({ path: ':memory:', clock });
  const server = await startWebhookServer();
  cleanup.push(() => store.close(), () => server.close());
  const screen: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) } });
  const receivers = new Map<string, Receiver>([
    ['soc', createWebhookReceiver({ name: 'soc', url: server.url, secret: 'whsec_c2VjcmV0', timeoutMs: 5000, clock })],
    ['screen', createConsoleReceiver({ name: 'screen', write: (t) => screen.push(t) })],
    ...Object.entries(over.extra ?? {}),
  ]);
  const worker = createDeliveryWorker({
    store,
    receivers,
    clock,
    log,
    retryBudgetMs: 72 * HOUR,
    initialBackoffMs: 10_000,
    maxBackoffMs: HOUR,
    random: () => 0.5,
    ...over,
  });
  return {
    clock,
    store,
    server,
    screen,
    logs,
    worker,
    queue(alert, to = ['soc']) {
      store.transaction(() => {
        store.upsertAlert(alert);
        for (const r of to) store.enqueue(alert.id, r);
      });
    },
    outbox: () => store.db.prepare('SELECT seq, alert_id, receiver, status, attempts, next_attempt_at, last_error FROM outbox ORDER BY seq').all() as ReturnType<Harness['outbox']>,
  };
}

const ok = (s: WebhookServer) => s.requests.filter((r) => r.answered !== 'hang' && r.answered < 300);

describe('delivery worker', () => {
  it('500 ×3 then 200: four attempts with the same webhook-id and body, one delivery, growing backoff', async () => {
    const h = await harness();
    h.server.script({ status: 500 }, { status: 500 }, { status: 500 });
    const alert = makeAlert();
    h.queue(alert);
    const start = h.clock.now();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const report = await h.worker.deliverDue();
      expect(report).toEqual(i < 3 ? { delivered: 0, retried: 1, dead: 0 } : { delivered: 1, retried: 0, dead: 0 });
      const next = h.store.nextDeliveryAt();
      if (next !== undefined) {
        waits.push(next - h.clock.now());
        h.clock.set(next);
      }
    }
    // Full jitter with random() = 0.5: half of 10 s, 20 s, 40 s.
    expect(waits).toEqual([5_000, 10_000, 20_000]);
    expect(h.clock.now() - start).toBe(35_000);
    expect(h.server.requests).toHaveLength(4);
    expect(new Set(h.server.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([alert.id]));
    expect(new Set(h.server.requests.map((r) => r.body)).size).toBe(1);
    expect(h.store.outboxCounts()).toEqual({ pending: 0, delivered: 1, dead: 0 });
    expect(h.outbox()[0]).toMatchObject({ status: 'delivered', attempts: 4 });
    const sends = h.logs.filter((l) => l.alert_id === alert.id && l.attempt !== undefined);
    expect(sends.map((l) => [l.attempt, l.result, l.level])).toEqual([
      [1, 'retryable', 'warn'],
      [2, 'retryable', 'warn'],
      [3, 'retryable', 'warn'],
      [4, 'ok', 'info'],
    ]);
    expect(sends.every((l) => l.receiver === 'soc' && /^[A-Z].*\.$/.test(String(l.msg)))).toBe(true);
  });

  it('429 with Retry-After: 7 → no attempt before 7 s of fake time', async () => {
    const h = await harness({ initialBackoffMs: 1000 });
    h.server.script({ status: 429, headers: { 'retry-after': '7' } });
    h.queue(makeAlert());
    await h.worker.deliverDue();
    expect(h.server.requests).toHaveLength(1);
    for (const step of [1000, 3000, 2999]) {
      h.clock.advance(step);
      expect(await h.worker.deliverDue()).toEqual({ delivered: 0, retried: 0, dead: 0 });
      expect(h.server.requests).toHaveLength(1);
    }
    h.clock.advance(1);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 1, retried: 0, dead: 0 });
    expect(h.server.requests).toHaveLength(2);
  });

  it('a larger backoff wins over a short Retry-After', async () => {
    const h = await harness({ initialBackoffMs: 60_000 });
    h.server.script({ status: 503, headers: { 'retry-after': '1' } });
    h.queue(makeAlert());
    await h.worker.deliverDue();
    expect(h.store.nextDeliveryAt()! - h.clock.now()).toBe(30_000);
  });

  it('permanent 401 → dead at once, and a meta-alert goes to the other receiver', async () => {
    const h = await harness();
    h.server.setDefault({ status: 401, body: 'invalid token' });
    const alert = makeAlert({ title: `Rule ${HOSTILE.forgedLog}`, summary: `Subject: ${HOSTILE.crlf}` });
    h.queue(alert);
    const report = await h.worker.deliverDue();
    expect(report).toEqual({ delivered: 1, retried: 0, dead: 1 });
    expect(h.server.requests).toHaveLength(1);

    const metaId = alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-01');
    expect(h.outbox()).toMatchObject([
      { alert_id: alert.id, receiver: 'soc', status: 'dead', attempts: 1, last_error: expect.stringContaining('HTTP 401') },
      { alert_id: metaId, receiver: 'screen', status: 'delivered' },
    ]);
    const meta = h.store.getAlert(metaId)!;
    expect(meta).toMatchObject({
      rule: 'monitor.delivery-failing',
      category: 'monitor',
      severity: 'high',
      provider: 'vigie',
      status: 'firing',
      title: 'Alerts cannot be delivered to receiver soc',
      count: 1,
    });
    expect(meta.summary).toContain(alert.id);
    expect(meta.summary).toContain('login.impossible-travel');
    expect(meta.explanation.join(' ')).toContain('HTTP 401');
    expect(meta.remediation.join(' ')).toContain('vigie test-alert --receiver soc');
    expect(h.screen.join('')).toContain('[HIGH] monitor.delivery-failing — Alerts cannot be delivered to receiver soc');

    const dead = h.logs.find((l) => l.level === 'error' && l.alert_id === alert.id)!;
    expect(dead).toMatchObject({ receiver: 'soc', reason: expect.stringContaining('HTTP 401') });
    // The log never carries the alert's attacker-controlled text.
    const logText = JSON.stringify(h.logs);
    expect(logText).not.toContain('all clear');
    expect(logText).not.toContain('attacker@evil');
  });

  it('raises one meta-alert per receiver per day, however many alerts die', async () => {
    const h = await harness();
    h.server.setDefault({ status: 404 });
    for (let i = 0; i < 3; i++) h.queue(makeAlert({ id: `a${i}`.padEnd(32, '0') }));
    expect(await h.worker.deliverDue()).toEqual({ delivered: 1, retried: 0, dead: 3 });
    const metaId = alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-01');
    expect(h.store.getAlert(metaId)!.count).toBe(3);
    expect(h.screen).toHaveLength(1);

    h.clock.advance(24 * HOUR);
    h.queue(makeAlert({ id: 'b'.repeat(32) }));
    expect(await h.worker.deliverDue()).toEqual({ delivered: 1, retried: 0, dead: 1 });
    expect(h.screen).toHaveLength(2);
    expect(h.store.getAlert(alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-02'))!.count).toBe(1);
  });

  it('retry budget exhausted → dead + meta-alert, and no attempt after the budget', async () => {
    const h = await harness({ retryBudgetMs: 2 * HOUR, maxBackoffMs: 20 * 60_000 });
    h.server.setDefault({ status: 503, body: 'maintenance' });
    const alert = makeAlert();
    h.queue(alert);
    const created = h.clock.now();
    let dead = 0;
    for (let i = 0; i < 100 && dead === 0; i++) {
      dead += (await h.worker.deliverDue()).dead;
      const next = h.store.nextDeliveryAt();
      if (next !== undefined && next > h.clock.now()) h.clock.set(next);
    }
    expect(dead).toBe(1);
    expect(h.clock.now() - created).toBeLessThanOrEqual(2 * HOUR);
    const row = h.outbox().find((r) => r.alert_id === alert.id)!;
    expect(row).toMatchObject({ status: 'dead', attempts: h.server.requests.length, last_error: expect.stringContaining('HTTP 503: maintenance') });
    // Waits of 5, 10, 20, 40, 80, 160, 320 s, then 600 s (half the 20 min cap) until the next one
    // would land after 2 h: attempts at 0 s … 635 s, 1235 s, … 6635 s.
    expect(h.server.requests.length).toBe(18);
    const meta = h.store.getAlert(alertId(DELIVERY_FAILING_RULE, 'soc', '2025-03-01'))!;
    expect(meta.explanation[0]).toContain('retry budget of 2 h');
    expect(h.screen.join('')).toContain('Alerts cannot be delivered to receiver soc');
  });

  it('a receiver down for 6 h then back: everything delivered once, in order, same ids, without hammering', async () => {
    const h = await harness({ maxBackoffMs: 30 * 60_000, random: mulberry32(7) });
    h.server.setDefault({ status: 503 });
    const ids: string[] = [];
    const end = h.clock.now() + 6 * HOUR;
    let n = 0;
    while (h.clock.now() < end) {
      if (n < 40 && h.clock.now() % (9 * 60_000) === 0) {
        const a = makeAlert({ id: `alert-${String(n++).padStart(3, '0')}`.padEnd(32, '-') });
        ids.push(a.id);
        h.queue(a);
      }
      await h.worker.deliverDue();
      h.clock.advance(60_000);
    }
    const during = h.server.requests.length;
    expect(ok(h.server)).toHaveLength(0);
    expect(h.store.outboxCounts()).toMatchObject({ pending: ids.length, dead: 0 });
    // One request per backoff step, not one per queued alert.
    expect(during).toBeLessThan(40);

    h.server.setDefault({ status: 200 });
    for (let i = 0; i < 120 && h.store.outboxCounts().pending > 0; i++) {
      await h.worker.deliverDue();
      h.clock.advance(60_000);
    }
    expect(h.store.outboxCounts()).toEqual({ pending: 0, delivered: ids.length, dead: 0 });
    const delivered = ok(h.server).map((r) => r.headers['webhook-id']);
    expect(delivered).toEqual(ids);
    for (const r of h.server.requests) expect(JSON.parse(r.body).alerts[0].id).toBe(r.headers['webhook-id']);
  });

  it('a receiver missing from the configuration is a permanent failure', async () => {
    const h = await harness();
    h.queue(makeAlert(), ['pager']);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 2, retried: 0, dead: 1 });
    expect(h.outbox()[0]).toMatchObject({ receiver: 'pager', status: 'dead', last_error: 'receiver pager is not in the configuration' });
    // The meta-alert went to both configured receivers.
    expect(h.outbox().slice(1).map((r) => r.receiver).sort()).toEqual(['screen', 'soc']);
  });

  it('a meta-alert that cannot be delivered raises no further meta-alert (no storm)', async () => {
    const h = await harness();
    const other = await startWebhookServer({ default: { status: 403 } });
    cleanup.push(() => other.close());
    h.server.setDefault({ status: 401 });
    const store = h.store;
    const worker = createDeliveryWorker({
      store,
      clock: h.clock,
      log: createLogger({ level: 'silent' }),
      receivers: new Map([
        ['a', createWebhookReceiver({ name: 'a', url: h.server.url, timeoutMs: 5000 })],
        ['b', createWebhookReceiver({ name: 'b', url: other.url, timeoutMs: 5000 })],
      ]),
      retryBudgetMs: HOUR,
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
    });
    h.queue(makeAlert(), ['a', 'b']);
    expect(await worker.deliverDue()).toEqual({ delivered: 0, retried: 0, dead: 4 });
    expect(await worker.deliverDue()).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(h.outbox().map((r) => [r.receiver, r.status])).toEqual([
      ['a', 'dead'],
      ['b', 'dead'],
      ['b', 'dead'],
      ['a', 'dead'],
    ]);
    const alerts = store.db.prepare('SELECT rule FROM alerts ORDER BY rule').all() as Array<{ rule: string }>;
    expect(alerts.map((a) => a.rule)).toEqual(['login.impossible-travel', 'monitor.delivery-failing', 'monitor.delivery-failing']);
  });

  it('a receiver that hangs past attemptTimeoutMs or throws is retried, not stuck', async () => {
    const hanging: Receiver = { name: 'hang', type: 'test', send: () => new Promise(() => {}) };
    const throwing: Receiver = {
      name: 'boom',
      type: 'test',
      send: () => {
        throw new Error('bug\nin receiver');
      },
    };
    const h = await harness({ attemptTimeoutMs: 50, extra: { hang: hanging, boom: throwing } });
    h.queue(makeAlert(), ['hang', 'boom']);
    expect(await h.worker.deliverDue()).toEqual({ delivered: 0, retried: 2, dead: 0 });
    expect(h.outbox().map((r) => r.last_error)).toEqual(['no result within 50 ms', 'the receiver failed unexpectedly: bug in receiver']);
  });

  it('an interrupted send (shutdown) leaves the row untouched for the next start', async () => {
    const h = await harness();
    h.server.setDefault({ status: 200, hang: true });
    h.queue(makeAlert());
    const before = h.outbox()[0];
    const ac = new AbortController();
    const pass = h.worker.deliverDue(ac.signal);
    await vi.waitFor(() => expect(h.server.requests).toHaveLength(1));
    ac.abort();
    expect(await pass).toEqual({ delivered: 0, retried: 0, dead: 0 });
    expect(h.outbox()[0]).toEqual(before);
  });

  it('run() delivers at start, sleeps, wakes on poke and stops on abort', async () => {
    const h = await harness();
    h.queue(makeAlert({ id: '1'.repeat(32) }));
    const ac = new AbortController();
    const running = h.worker.run(ac.signal);
    await vi.waitFor(() => expect(h.server.requests).toHaveLength(1));
    h.queue(makeAlert({ id: '2'.repeat(32) }));
    h.worker.poke();
    // Without the poke the loop would sleep for its 30 s idle poll.
    await vi.waitFor(() => expect(h.server.requests).toHaveLength(2), { timeout: 2000 });
    ac.abort();
    await running;
    expect(h.store.outboxCounts()).toEqual({ pending: 0, delivered: 2, dead: 0 });
  });

  it('concurrent deliverDue calls never send a row twice', async () => {
    const h = await harness();
    for (let i = 0; i < 5; i++) h.queue(makeAlert({ id: `c${i}`.padEnd(32, '0') }));
    const reports = await Promise.all([h.worker.deliverDue(), h.worker.deliverDue(), h.worker.deliverDue()]);
    expect(reports.reduce((s, r) => s + r.delivered, 0)).toBe(5);
    expect(h.server.requests).toHaveLength(5);
  });
});

/** Small seeded PRNG: jittered but reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
