import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, readConfig, type App } from '../../src/app.js';
import { fixedClock } from '../../src/clock.js';
import { silentLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { Runner } from '../../src/pipeline/runner.js';
import { cronIntervalMs, evaluateReadiness, raiseMonitorAlerts, startHealthServer, type HealthServer } from '../../src/server.js';
import { makeEvent } from '../helpers/events.js';
import { tmpDir } from '../helpers/tmp.js';

const T0 = Date.parse('2026-11-02T08:00:00Z');

/** A file connector polled every 10 s (6-field cron) and a webhook receiver, on a fixed clock. */
function setup(opts: { receivers?: string } = {}) {
  const dir = tmpDir();
  const input = path.join(dir, 'events.jsonl');
  fs.writeFileSync(input, `${JSON.stringify(makeEvent({ id: 'feed:1', time: new Date(T0 - 60_000).toISOString() }))}\n`);
  const file = path.join(dir, 'vigie.yml');
  fs.writeFileSync(
    file,
    [
      'organisation: { name: Test, domains: [party.example] }',
      'state: { path: ./vigie.db }',
      'connectors:',
      '  - { name: feed, type: file, paths: [./events.jsonl], schedule: "*/10 * * * * *" }',
      opts.receivers ?? 'receivers: []',
      'server: { listen: "127.0.0.1:0", stale_after_intervals: 3, max_outbox_age: 30m }',
    ].join('\n'),
  );
  const clock = fixedClock(T0);
  const config = readConfig(file);
  const app = buildApp(config, { log: silentLogger, clock });
  const metrics = createMetrics({ store: app.store, clock, defaultMetrics: false });
  const runner = new Runner({ store: app.store, processor: app.processor, clock, log: silentLogger, onPage: (p) => metrics.observePage(p), onRun: (r) => metrics.observeRun(r) });
  const streams = app.streams();
  const readiness = {
    store: app.store,
    clock,
    streams: streams.map((s) => ({ source: s.connector.name, stream: s.stream.name, schedule: s.schedule })),
    staleIntervals: config.server.stale_after_intervals,
    maxOutboxAgeMs: config.server.max_outbox_age,
    startedAt: T0,
  };
  const poll = async () => {
    for (const s of streams) await runner.runStream(s.connector, s.stream, s.settings, new AbortController().signal).catch(() => undefined);
  };
  return { dir, input, clock, app, metrics, readiness, poll };
}

const open: Array<App | HealthServer> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function get(server: HealthServer, p: string) {
  const res = await fetch(`${server.url}${p}`);
  return { status: res.status, text: await res.text() };
}

describe('cron intervals', () => {
  it('reads the interval of 5- and 6-field expressions', () => {
    expect(cronIntervalMs('*/5 * * * *')).toBe(300_000);
    expect(cronIntervalMs('*/10 * * * * *')).toBe(10_000);
    expect(cronIntervalMs('0 3 * * *')).toBe(86_400_000);
  });
});

describe('/readyz follows a provider that starts failing and recovers', () => {
  it('turns unready at the first failed run (within one interval), names the stream, and ready again after recovery', async () => {
    const s = setup();
    open.push(s.app);
    const server = await startHealthServer({ ...s.readiness, listen: '127.0.0.1:0', metrics: s.metrics, log: silentLogger });
    open.push(server);

    expect((await get(server, '/healthz')).status).toBe(200);
    // Before the first run: within its grace of 3 intervals since start.
    expect((await get(server, '/readyz')).status).toBe(200);

    await s.poll();
    let r = await get(server, '/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toMatchObject({ status: 'ready', problems: [] });

    // The provider starts failing: the next scheduled run (one interval later) fails.
    fs.renameSync(s.input, `${s.input}.away`);
    s.clock.advance(10_000);
    await s.poll();
    r = await get(server, '/readyz');
    expect(r.status).toBe(503);
    const body = JSON.parse(r.text) as { status: string; problems: string[] };
    expect(body.status).toBe('unready');
    expect(body.problems).toHaveLength(1);
    expect(body.problems[0]).toMatch(/stream feed\/records is failing: its last run failed \(Cannot read .*ENOENT\)/);

    // Still failing: still unready, the message counts the failures.
    s.clock.advance(10_000);
    await s.poll();
    r = await get(server, '/readyz');
    expect(r.status).toBe(503);
    expect(r.text).toContain('its last 2 runs failed');

    // It recovers: ready again at the next successful run.
    fs.renameSync(`${s.input}.away`, s.input);
    s.clock.advance(10_000);
    await s.poll();
    r = await get(server, '/readyz');
    expect(r.status).toBe(200);
  });

  it('a stream that stops running is unready after 3 intervals, and raises one monitor alert, not one per check', async () => {
    const s = setup({ receivers: 'receivers: [{ name: soc, type: webhook, url: "http://127.0.0.1:9/hook" }]' });
    open.push(s.app);
    await s.poll();
    s.clock.advance(30_000);
    expect(evaluateReadiness(s.readiness).ready).toBe(true);
    s.clock.advance(1_000);
    const r = evaluateReadiness(s.readiness);
    expect(r.ready).toBe(false);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^stream feed\/records last succeeded 31 s ago, more than 3 × its interval of 10 s$/)]);

    const deps = { store: s.app.store, clock: s.clock, receivers: ['soc'], log: silentLogger };
    const first = raiseMonitorAlerts(r, deps);
    expect(first).toHaveLength(1);
    s.clock.advance(5_000);
    expect(raiseMonitorAlerts(evaluateReadiness(s.readiness), deps)).toEqual([]);
    const alert = s.app.store.getAlert(first[0]!);
    expect(alert).toMatchObject({ rule: 'monitor.stream-stale', category: 'monitor', source: 'feed' });
    expect(s.app.store.outboxCounts().pending).toBe(1);

    // A new incident (it ran, then stopped again) is a new alert.
    await s.poll();
    s.clock.advance(40_000);
    expect(raiseMonitorAlerts(evaluateReadiness(s.readiness), deps)).toHaveLength(1);
  });

  it('an undelivered alert older than max_outbox_age makes it unready and names the receiver; the others are told once', async () => {
    const s = setup({
      receivers: 'receivers: [{ name: soc, type: webhook, url: "http://127.0.0.1:9/hook" }, { name: backup, type: webhook, url: "http://127.0.0.1:9/other" }]',
    });
    open.push(s.app);
    await s.poll();
    const { store } = s.app;
    store.transaction(() => {
      store.upsertAlert({
        id: 'a1', rule: 'login.new-country', title: 't', category: 'unusual_login', severity: 'high', status: 'firing', provider: 'microsoft-365',
        time: new Date(T0).toISOString(), last_time: new Date(T0).toISOString(), count: 1, summary: 's', explanation: [], evidence: [], remediation: [],
      });
      store.enqueue('a1', 'soc');
    });
    await s.poll();
    s.clock.advance(29 * 60_000);
    await s.poll();
    expect(evaluateReadiness(s.readiness).ready).toBe(true);
    s.clock.advance(2 * 60_000);
    await s.poll();
    const r = evaluateReadiness(s.readiness);
    expect(r.problems.map((p) => p.message)).toEqual(['receiver soc is behind: its oldest undelivered alert message was queued 31 min ago (allowed 30 min)']);
    const deps = { store, clock: s.clock, receivers: ['soc', 'backup'], log: silentLogger };
    const ids = raiseMonitorAlerts(r, deps);
    expect(ids).toHaveLength(1);
    expect(raiseMonitorAlerts(evaluateReadiness(s.readiness), deps)).toEqual([]);
    const rows = store.db.prepare('SELECT receiver FROM outbox WHERE alert_id = ?').all(ids[0]) as Array<{ receiver: string }>;
    expect(rows.map((x) => x.receiver)).toEqual(['backup']);
  });
});

describe('/metrics', () => {
  it('exposes ingestion per source/stream/kind, lag, runs, outbox depth and last success', async () => {
    const s = setup();
    open.push(s.app);
    await s.poll();
    const server = await startHealthServer({ ...s.readiness, listen: '127.0.0.1:0', metrics: s.metrics, log: silentLogger });
    open.push(server);
    const { status, text } = await get(server, '/metrics');
    expect(status).toBe(200);
    expect(text).toContain('vigie_events_ingested_total{source="feed",stream="records",kind="signin"} 1');
    expect(text).toContain('vigie_ingestion_lag_seconds_bucket{le="60",source="feed",stream="records"} 1');
    expect(text).toContain('vigie_stream_runs_total{source="feed",stream="records",result="ok"} 1');
    expect(text).toContain('vigie_outbox_depth{status="pending"} 0');
    expect(text).toContain(`vigie_stream_last_success_timestamp_seconds{source="feed",stream="records"} ${T0 / 1000}`);
    expect((await get(server, '/nope')).status).toBe(404);
  });
});
