import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { createEnricher } from '../../src/enrich/index.js';
import { loadEngine } from '../../src/engine/index.js';
import type { VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import { SHIPPED_RULES_DIR } from '../../src/paths.js';
import type { Connector, LogStream } from '../../src/pipeline/connector.js';
import { createProcessor } from '../../src/pipeline/process.js';
import { Runner, STATE_LATENESS_MS } from '../../src/pipeline/runner.js';
import { Store } from '../../src/store/store.js';
import { tmpDir } from '../helpers/tmp.js';

/**
 * P7, bounded growth: 30 simulated days of a 500-person organisation (a fake clock, every
 * person signing in a few times a day from a handful of addresses, a few forwarding rules a day
 * that alert) through the real runner, processor, shipped rules and a SQLite file, with alerts
 * delivered as they come. With a 7-day seen/retention window, the row counts and the database's
 * page count must be flat once the first window has passed: the runner prunes on its own.
 */
const DAY = 86_400_000;
const PEOPLE = 500;
const DAYS = 30;
const WINDOW = 7 * DAY;
const PER_DAY = 3;

describe('bounded growth over 30 simulated days', () => {
  it('keeps row counts and database size flat after the first retention window', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock: Clock = { now: () => now };
    const file = path.join(tmpDir('vigie-growth-'), 'vigie.db');
    const store = Store.open({ path: file, clock });
    const engine = loadEngine({ rulesDir: SHIPPED_RULES_DIR, overlays: [], lists: {}, clock, log: silentLogger });
    const processor = createProcessor({
      store,
      engine,
      enrich: createEnricher({ domains: ['party.example'] }),
      routes: [],
      receivers: ['hook'],
      clock,
      log: silentLogger,
      seenTtlMs: WINDOW,
    });
    const runner = new Runner({ store, processor, clock, log: silentLogger, retentionMs: WINDOW });
    let batch: VigieEvent[] = [];
    const stream: LogStream = {
      kind: 'log',
      name: 'audit',
      async *pull() {
        for (let i = 0; i < batch.length; i += 500) yield { records: batch.slice(i, i + 500), cursor: { t: now } };
      },
      normalize: (r) => [r as VigieEvent],
    };
    const connector: Connector = { name: 'sim', type: 'file', streams: [stream] };
    const signal = new AbortController().signal;
    const samples: Array<{ day: number; seen: number; alerts: number; outbox: number; state: number; pages: number; rss: number }> = [];
    let serial = 0;
    let alertsRaised = 0;
    for (let day = 0; day < DAYS; day++) {
      // Four polls a day.
      for (let poll = 0; poll < 4; poll++) {
        now += DAY / 4;
        batch = [];
        for (let p = 0; p < PEOPLE; p++) {
          if ((p + poll) % Math.ceil(4 / PER_DAY) !== 0 && poll === 3) continue;
          const who = `person${p}@party.example`;
          batch.push({
            id: `sim:signin:${serial++}`,
            kind: 'signin',
            time: new Date(now - 60_000 - p).toISOString(),
            provider: 'microsoft-365',
            source: 'sim',
            account: who,
            outcome: 'success',
            details: { ip: `198.51.100.${(p % 200) + 1}`, user_agent: 'Mozilla/5.0', app: 'Outlook' },
          } as VigieEvent);
        }
        for (let k = 0; k < 3; k++) {
          const p = (day * 7 + poll * 3 + k) % PEOPLE;
          batch.push({
            id: `sim:rule:${serial++}`,
            kind: 'mailbox_rule',
            time: new Date(now - 30_000).toISOString(),
            provider: 'microsoft-365',
            source: 'sim',
            account: `person${p}@party.example`,
            details: { change: 'created', mechanism: 'exchange_inbox_rule', rule_id: `r${serial}`, name: `rule ${serial}`, forward_to: [`drop${serial}@attacker.example`] },
          } as VigieEvent);
        }
        const report = await runner.runStream(connector, stream, { backfillMs: 0, overlapMs: 0, learnFromBackfill: false }, signal);
        alertsRaised += report.newAlerts;
        // Delivery: everything queued goes out.
        for (const row of store.dueDeliveries(10_000)) store.markDelivered(row.seq);
      }
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const count = (t: string) => (store.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      samples.push({
        day: day + 1,
        seen: count('seen'),
        alerts: count('alerts'),
        outbox: count('outbox'),
        state: count('detector_state'),
        pages: (store.db.pragma('page_count', { simple: true }) as number) - (store.db.pragma('freelist_count', { simple: true }) as number),
        rss: Math.round(process.memoryUsage().rss / 1048576),
      });
    }
    const size = fs.statSync(file).size;
    store.close();
    const at = (d: number) => samples[d - 1]!;
    console.log(`[reliability] growth: ${serial} events, ${alertsRaised} alerts over ${DAYS} days × ${PEOPLE} people; file ${Math.round(size / 1024)} KiB`);
    for (const d of [1, 7, 8, 10, 15, 20, 25, 30]) console.log(`[reliability] growth day ${d}: ${JSON.stringify(at(d))}`);
    expect(alertsRaised).toBeGreaterThan(DAYS * 4);
    // After the first window (plus a day of slack), every table is flat within 10 %; detector state
    // is kept STATE_LATENESS_MS longer for late records, so it flattens that much later.
    const lateDays = STATE_LATENESS_MS / DAY;
    for (const key of ['seen', 'alerts', 'outbox', 'state', 'pages'] as const) {
      const from = key === 'state' || key === 'pages' ? 10 + lateDays : 10;
      const ref = at(from)[key];
      for (let d = from; d <= DAYS; d++) expect(at(d)[key], `${key} on day ${d}`).toBeLessThanOrEqual(Math.max(ref * 1.1, ref + 20));
    }
    expect(at(30).seen).toBeLessThan(at(30).day * PEOPLE * PER_DAY * 0.5);
  }, 120_000);
});
