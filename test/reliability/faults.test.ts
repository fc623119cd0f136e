import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { loadEngine } from '../../src/engine/index.js';
import type { Engine } from '../../src/engine/types.js';
import { createEnricher } from '../../src/enrich/index.js';
import type { VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { createProcessor } from '../../src/pipeline/process.js';
import { Runner } from '../../src/pipeline/runner.js';
import { Store } from '../../src/store/store.js';
import { fakeCert } from '../fakes/microsoft-365/cert.js';
import { startFakeMicrosoft365, type Fault, type FaultKind, type FakeMicrosoft365 } from '../fakes/microsoft-365/server.js';
import { connectorFor, ROOT } from '../connectors/microsoft-365/setup.js';

/**
 * Fault injection (issue 11): every fault of the Microsoft 365 fake's switchboard, on the
 * Management Activity API (audit-exchange) and on Graph sign-ins, through the real runner,
 * processor and shipped rules, with an injected sleep and a fixed clock. The oracle, per fault:
 * the process stays up; a run either succeeds after retries or fails without moving the stream's
 * window; once the fault clears, the events seen equal a fault-free run's; no request (so no
 * token) reaches a foreign host; exactly one monitor event and one monitor.source-failing alert
 * per failure streak.
 */

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-11T21:00:00Z');
/** An attempt with no answer bytes for this long fails (the client's default is 60 s). */
const TIMEOUT_MS = 300;
type StreamName = 'audit-exchange' | 'signins';

/** A second local https host: a paging link pointing here must never be followed. */
let foreign: https.Server;
let foreignUrl = '';
let foreignConnections = 0;
let foreignRequests = 0;
beforeAll(async () => {
  const cert = fakeCert();
  foreign = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => {
    foreignRequests++;
    res.end('{}');
  });
  foreign.on('connection', () => foreignConnections++);
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
  foreignUrl = `https://127.0.0.1:${(foreign.address() as AddressInfo).port}/steal?token=please`;
});
afterAll(async () => {
  foreign.closeAllConnections();
  await new Promise<void>((r) => foreign.close(() => r()));
});

interface Outcome {
  ok: boolean;
  error?: string;
  /** The stream's window end in the stored cursor after the run (Graph `since`, Management `until`). */
  windowEnd: number | undefined;
}

/** Runs `plan` (one entry per run: the faults on during it, or null for none) and collects the oracle's inputs. */
async function scenario(streamName: StreamName, plan: Array<{ at: number; faults: Fault[] }>) {
  const clock = fixedClock(T0);
  const fake: FakeMicrosoft365 = await startFakeMicrosoft365({ now: () => clock.now(), knobs: { graphPageSize: 10, contentPageSize: 3, throttleRate: 0 } });
  const { connector, sleeps } = connectorFor(fake, clock, { streams: [streamName] }, silentLogger, TIMEOUT_MS);
  const store = Store.open({ path: ':memory:', clock });
  const rules = loadEngine({ rulesDir: path.join(ROOT, 'rules'), overlays: [], clock, log: silentLogger });
  const seen: VigieEvent[] = [];
  const engine: Engine = { rules: rules.rules, evaluate: (e, ctx) => (seen.push(e), rules.evaluate(e, ctx)) };
  const processor = createProcessor({ store, engine, enrich: createEnricher({ domains: ['party.example'] }), routes: [], receivers: [], clock, log: silentLogger, seenTtlMs: 30 * 86_400_000 });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  const stream = connector.streams.find((s) => s.name === streamName)!;
  const windowEnd = () => {
    const c = (store.getCursor(connector.name, streamName) as { c?: { since?: number; until?: number } } | undefined)?.c;
    return c?.since ?? c?.until;
  };
  const outcomes: Outcome[] = [];
  try {
    for (const step of plan) {
      clock.set(step.at);
      fake.faults.clear();
      for (const f of step.faults) fake.faults.set(f);
      try {
        await runner.runStream(connector, stream, { backfillMs: 7 * 86_400_000, overlapMs: 0, learnFromBackfill: true }, new AbortController().signal);
        outcomes.push({ ok: true, windowEnd: windowEnd() });
      } catch (err) {
        outcomes.push({ ok: false, error: (err as Error).message, windowEnd: windowEnd() });
      }
    }
  } finally {
    await connector.close?.();
    await fake.close();
  }
  const alerts = store.alertsAfter(0);
  store.close();
  const monitors = seen.filter((e) => e.kind === 'monitor');
  return {
    outcomes,
    sleeps,
    served: { ...fake.faults.served },
    ids: new Set(seen.filter((e) => e.kind !== 'monitor').map((e) => e.id)),
    monitors,
    failingAlerts: alerts.filter((a) => a.rule === 'monitor.source-failing'),
    otherAlerts: alerts.filter((a) => a.rule !== 'monitor.source-failing').map((a) => a.id).sort(),
    requests: fake.requests,
    tokensIssued: fake.tokensIssued,
  };
}

/** Where each stream's fault lands: the first request, or a later page in the middle of paging. */
const TARGET: Record<StreamName, { first: Partial<Fault>; midPaging: Partial<Fault> }> = {
  'audit-exchange': { first: { server: 'manage', path: /subscriptions\/content/ }, midPaging: { server: 'manage', path: /activity\/feed\/audit\//, after: 5 } },
  signins: { first: { server: 'graph', path: /signIns/ }, midPaging: { server: 'graph', path: /signIns/, after: 3 } },
};

/** Survived after retries, within one run. */
const RECOVER: Array<{ kind: FaultKind; times?: number; where: 'first' | 'midPaging'; waits: boolean }> = [
  { kind: '429', times: 4, where: 'first', waits: true },
  { kind: '429-no-retry-after', times: 4, where: 'midPaging', waits: true },
  { kind: '500', times: 2, where: 'midPaging', waits: true },
  { kind: '503', times: 3, where: 'first', waits: true },
  { kind: 'slow-body', times: 3, where: 'midPaging', waits: false },
  { kind: 'stall', times: 2, where: 'midPaging', waits: true },
  { kind: 'token-expired', times: 1, where: 'midPaging', waits: false },
];
/** The run fails (twice: one streak) and the next run after the fault clears completes. */
const FAIL: Array<{ kind: FaultKind; where: 'first' | 'midPaging'; times?: number }> = [
  { kind: '429', where: 'first' }, // a storm longer than the retries
  { kind: '500', where: 'midPaging' },
  { kind: 'truncated-json', where: 'midPaging', times: 1 },
  { kind: 'html-login', where: 'first' },
  { kind: 'stall', where: 'midPaging' },
  { kind: 'foreign-next-link', where: 'first' },
];

const baselines = new Map<StreamName, Awaited<ReturnType<typeof scenario>>>();
async function baseline(s: StreamName) {
  if (!baselines.has(s)) baselines.set(s, await scenario(s, [{ at: T0, faults: [] }]));
  return baselines.get(s)!;
}

const fault = (s: StreamName, f: { kind: FaultKind; where: 'first' | 'midPaging'; times?: number }): Fault =>
  ({ kind: f.kind, ...TARGET[s][f.where], ...(f.times !== undefined ? { times: f.times } : {}), foreignUrl, delayMs: 40 }) as Fault;

const tally = { kinds: new Set<string>(), runs: 0, failedRuns: 0 };

describe.each(['audit-exchange', 'signins'] as const)('fault injection on %s', (s) => {
  it('the fault-free run reads events', async () => {
    const b = await baseline(s);
    expect(b.outcomes).toEqual([expect.objectContaining({ ok: true })]);
    expect(b.ids.size).toBeGreaterThanOrEqual(10);
    expect(b.monitors).toEqual([]);
  });

  it.each(RECOVER)('$kind ($where, $times times): the run succeeds after retries, nothing lost, no monitor alert', async (f) => {
    const r = await scenario(s, [{ at: T0, faults: [fault(s, f)] }]);
    const b = await baseline(s);
    expect(r.outcomes.map((o) => o.error ?? 'ok')).toEqual(['ok']);
    expect(r.served[f.kind]).toBe(f.times);
    if (f.waits) expect(r.sleeps.length).toBeGreaterThan(0);
    expect(r.ids).toEqual(b.ids);
    expect(r.otherAlerts).toEqual(b.otherAlerts);
    expect(r.monitors).toEqual([]);
    expect(r.failingAlerts).toEqual([]);
    if (f.kind === 'token-expired') expect(r.tokensIssued.length).toBe(2);
    tally.kinds.add(f.kind);
    tally.runs += r.outcomes.length;
  });

  it.each(FAIL)('$kind ($where): fails cleanly twice (one streak, one alert), then the next run catches up', async (f) => {
    const before = { connections: foreignConnections, requests: foreignRequests };
    const r = await scenario(s, [
      { at: T0, faults: [fault(s, f)] },
      { at: T0 + 10 * 60_000, faults: [fault(s, f)] },
      { at: T0 + 20 * 60_000, faults: [] },
    ]);
    const b = await baseline(s);
    expect(r.outcomes.map((o) => o.ok)).toEqual([false, false, true]);
    expect(r.served[f.kind]).toBeGreaterThan(0);
    // The window did not move while the stream failed (committed pages, if any, are kept).
    expect(r.outcomes[0]!.windowEnd).toBeUndefined();
    expect(r.outcomes[1]!.windowEnd).toBeUndefined();
    expect(r.outcomes[2]!.windowEnd).toBeGreaterThanOrEqual(T0);
    // Nothing lost: the recovered run saw at least what a fault-free run sees (later runs may add newer events).
    for (const id of b.ids) expect(r.ids.has(id), id).toBe(true);
    for (const id of b.otherAlerts) expect(r.otherAlerts).toContain(id);
    // One monitor event and one alert for the streak of two failed runs.
    expect(r.monitors).toHaveLength(1);
    expect(r.monitors[0]!.id).toMatch(new RegExp(`^vigie:monitor:hq-m365:${s}:failing:`));
    expect(r.failingAlerts).toHaveLength(1);
    // No request, so no token, reached the foreign host; every token the fakes saw was theirs.
    expect(foreignConnections - before.connections).toBe(0);
    expect(foreignRequests - before.requests).toBe(0);
    for (const q of r.requests) if (q.authorization) expect(r.tokensIssued).toContain(q.authorization.slice(7));
    tally.kinds.add(f.kind);
    tally.runs += r.outcomes.length;
    tally.failedRuns += 2;
  });

  it('two separate incidents give two monitor events (one per streak)', async () => {
    const f = fault(s, { kind: 'html-login', where: 'first' });
    const r = await scenario(s, [
      { at: T0, faults: [f] },
      { at: T0 + 10 * 60_000, faults: [] },
      { at: T0 + 3 * HOUR, faults: [f] },
      { at: T0 + 3 * HOUR + 10 * 60_000, faults: [f] },
      { at: T0 + 4 * HOUR, faults: [] },
    ]);
    expect(r.outcomes.map((o) => o.ok)).toEqual([false, true, false, false, true]);
    expect(r.monitors).toHaveLength(2);
    expect(new Set(r.monitors.map((m) => m.id)).size).toBe(2);
    // One alert per incident: the second streak, three hours later, raises its own.
    expect(r.failingAlerts).toHaveLength(2);
    tally.runs += r.outcomes.length;
    tally.failedRuns += 3;
  });
});

afterAll(() => {
  // For docs/reliability.md.
  console.log(`faults: ${tally.kinds.size} kinds, ${tally.runs} runs, ${tally.failedRuns} failed runs`);
});
