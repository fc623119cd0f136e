import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createEnricher } from '../../src/enrich/index.js';
import type { VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';
import type { Connector, LogStream, SnapshotScope, StateStream } from '../../src/pipeline/connector.js';
import { createProcessor } from '../../src/pipeline/process.js';
import { Runner, type StreamSettings } from '../../src/pipeline/runner.js';
import { Store } from '../../src/store/store.js';
import { flaggingEngine } from '../helpers/test-engine.js';

const settings: StreamSettings = { backfillMs: 7 * 86_400_000, overlapMs: 0, learnFromBackfill: false };

/** A provider log of serial-numbered events, served in pages; it can fail on a given page once. */
function serialLog(total: number, pageSize: number, opts: { failOnPage?: number; overlap?: number; malformedEvery?: number } = {}) {
  const served: number[] = [];
  let failed = false;
  const stream: LogStream<Record<string, unknown>> = {
    kind: 'log',
    name: 'audit',
    async *pull(cursor) {
      // Re-read `overlap` records behind the cursor, as real connectors do for late records.
      let next = Math.max(0, ((cursor as { next?: number } | undefined)?.next ?? 0) - (opts.overlap ?? 0));
      let page = 0;
      while (next < total) {
        page++;
        if (opts.failOnPage === page && !failed) {
          failed = true;
          throw new Error('provider answered 503');
        }
        const records = [];
        for (let i = next; i < Math.min(total, next + pageSize); i++) {
          served.push(i);
          records.push(opts.malformedEvery && i % opts.malformedEvery === 0 ? { serial: i, broken: true } : { serial: i });
        }
        next += records.length;
        yield { records, cursor: { next } };
      }
    },
    normalize(r) {
      if (r.broken) throw new Error(`record ${String(r.serial)} has no time`);
      const serial = r.serial as number;
      return [
        {
          id: `microsoft-365:audit:${serial}`,
          kind: 'mail_activity',
          time: new Date(Date.UTC(2026, 10, 1) + serial * 1000).toISOString(),
          provider: 'microsoft-365',
          source: '',
          account: 'alice@party.example',
          details: { serial, alert: serial % 10 === 0 },
        } satisfies VigieEvent,
      ];
    },
  };
  return { stream, served };
}

function setup() {
  const clock = fixedClock('2026-11-10T00:00:00Z');
  const store = Store.open({ path: ':memory:', clock });
  const engine = flaggingEngine();
  const processor = createProcessor({
    store,
    engine,
    enrich: createEnricher({ domains: ['party.example'] }),
    routes: [],
    receivers: ['hook'],
    clock,
    log: silentLogger,
    seenTtlMs: 30 * 86_400_000,
  });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  return { clock, store, engine, runner };
}

const signal = new AbortController().signal;

describe('runner: log streams', () => {
  it('commits page by page: a failure keeps the last good cursor and the next run completes with no event skipped or doubled', async () => {
    const { store, engine, runner } = setup();
    const { stream } = serialLog(100, 10, { failOnPage: 4 });
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    await expect(runner.runStream(connector, stream, settings, signal)).rejects.toThrow(/503/);
    expect(store.getCursor('hq', 'audit')).toMatchObject({ c: { next: 30 } });
    expect(store.outboxCounts().pending).toBe(3);
    const report = await runner.runStream(connector, stream, settings, signal);
    expect(report.events).toBe(70);
    const processed = engine.seen.filter((id) => id.startsWith('microsoft-365:audit:')).map((id) => Number(id.split(':')[2]));
    expect(processed.sort((a, b) => a - b)).toEqual([...Array(100).keys()]);
    // 0, 10, ..., 90 each fired once, every alert queued once.
    expect(store.outboxCounts().pending).toBe(10);
    expect(store.streamStatuses()[0]).toMatchObject({ source: 'hq', stream: 'audit', consecutive_failures: 0 });
  });

  it('absorbs overlapping windows with event-id dedupe', async () => {
    const { store, runner } = setup();
    const { stream } = serialLog(50, 10, { overlap: 15 });
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    const first = await runner.runStream(connector, stream, settings, signal);
    const second = await runner.runStream(connector, stream, settings, signal);
    expect(first.events).toBe(50);
    expect(second.events).toBe(0);
    expect(second.duplicates).toBe(15);
    expect(store.outboxCounts().pending).toBe(5);
  });

  it('logs and skips malformed records without stopping the run', async () => {
    const { runner } = setup();
    const { stream } = serialLog(30, 10, { malformedEvery: 7 });
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    const report = await runner.runStream(connector, stream, settings, signal);
    expect(report.skipped).toBe(5); // 0, 7, 14, 21, 28
    expect(report.events).toBe(25);
  });

  it('keeps a first run\'s backfill for learning when the stream asks for it', async () => {
    const { store, runner, clock } = setup();
    const { stream } = serialLog(20, 10);
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    clock.set('2026-11-10T00:00:00Z'); // all serial events are from 2026-11-01: backfill
    await runner.runStream(connector, stream, { ...settings, learnFromBackfill: true }, signal);
    expect(store.outboxCounts().pending).toBe(0);
  });

  it('stops after the page in hand when aborted (SIGTERM)', async () => {
    const { store, runner } = setup();
    const { stream, served } = serialLog(100, 10);
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    const ac = new AbortController();
    ac.abort();
    const report = await runner.runStream(connector, stream, settings, ac.signal);
    expect(report.pages).toBe(1);
    expect(served).toHaveLength(10);
    expect(store.getCursor('hq', 'audit')).toMatchObject({ c: { next: 10 } });
  });

  it('refuses to run a stream another run holds', async () => {
    const { store, runner } = setup();
    const { stream } = serialLog(10, 10);
    store.acquireLock('hq/audit', 'someone-else', 60_000);
    await expect(runner.runStream({ name: 'hq', type: 'fake', streams: [stream] }, stream, settings, signal)).rejects.toMatchObject({ code: 'STREAM_LOCKED' });
  });

  it('turns a failing stream into one monitor event per failure streak', async () => {
    const { store, engine, runner } = setup();
    const failing: LogStream = {
      kind: 'log',
      name: 'signins',
      // eslint-disable-next-line require-yield
      async *pull() {
        throw new Error('401 invalid_client');
      },
      normalize: () => [],
    };
    const connector: Connector = { name: 'hq', type: 'fake', streams: [failing] };
    for (let i = 0; i < 3; i++) await expect(runner.runStream(connector, failing, settings, signal)).rejects.toThrow(/invalid_client/);
    const monitors = engine.seen.filter((id) => id.startsWith('vigie:monitor:hq:signins:failing'));
    expect(monitors).toHaveLength(1);
    expect(store.streamStatuses()[0]!.consecutive_failures).toBe(3);
  });
});

describe('runner: state streams', () => {
  function rulesStream(states: Array<Record<string, string[]>>) {
    let run = 0;
    const stream: StateStream = {
      kind: 'state',
      name: 'inbox-rules',
      async *snapshot() {
        const current = states[Math.min(run++, states.length - 1)]!;
        const scope: SnapshotScope = {
          scope: 'alice@party.example',
          objects: Object.entries(current).map(([key, to]) => ({
            key,
            event: { kind: 'mailbox_rule', time: '2026-11-01T00:00:00Z', provider: 'microsoft-365', source: '', account: 'alice@party.example', details: { rule_id: key, forward_to: to, alert: true } },
          })),
        };
        yield scope;
      },
    };
    return stream;
  }

  it('reports present on the first snapshot, then created, updated and removed, and stores the snapshot', async () => {
    const { store, engine, runner } = setup();
    const stream = rulesStream([{ r1: [] }, { r1: [], r2: ['x@out.example'] }, { r2: ['y@out.example'] }, { r2: ['y@out.example'] }]);
    const connector: Connector = { name: 'hq', type: 'fake', streams: [stream] };
    const changes: string[][] = [];
    for (let i = 0; i < 4; i++) {
      const before = engine.seen.length;
      await runner.runStream(connector, stream, settings, signal);
      changes.push(engine.seen.slice(before).map((id) => id.split(':').slice(-3, -2)[0] + '=' + id.split(':').pop()).sort());
    }
    expect(changes).toEqual([['r1=present'], ['r2=created'], ['r1=removed', 'r2=updated'], []]);
    expect([...store.getSnapshot('hq', 'inbox-rules', 'alice@party.example').keys()]).toEqual(['r2']);
  });
});
