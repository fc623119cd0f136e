import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { fixedClock } from '../../src/clock.js';
import { StoreError } from '../../src/errors.js';
import { Store } from '../../src/store/store.js';
import { tmpDir } from '../helpers/tmp.js';

const clock = fixedClock('2026-11-01T00:00:00Z');

function sampleAlert(id: string, over: Partial<Alert> = {}): Alert {
  return { id, rule: 'r', title: 't', category: 'monitor', severity: 'low', status: 'firing', time: '2026-11-01T00:00:00Z', last_time: '2026-11-01T00:00:00Z', count: 1, summary: '', explanation: [], evidence: [], remediation: [], ...over };
}

describe('Store', () => {
  const dir = tmpDir();

  it('runs WAL with synchronous=FULL on a file, as the durability promise says', () => {
    const store = Store.open({ path: path.join(dir, 'pragmas.db'), clock });
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    store.close();
  });

  it('migrates once and reopens an existing database without losing data', () => {
    const file = path.join(dir, 'reopen.db');
    const a = Store.open({ path: file, clock });
    a.setCursor('src', 'stream', { page: 3 });
    a.close();
    const b = Store.open({ path: file, clock });
    expect(b.getCursor('src', 'stream')).toEqual({ page: 3 });
    expect(b.db.pragma('user_version', { simple: true })).toBeGreaterThan(0);
    b.close();
  });

  it('refuses a damaged database with a clear error and leaves the file as it was', () => {
    const file = path.join(dir, 'broken.db');
    const s = Store.open({ path: file, clock });
    for (let i = 0; i < 200; i++) s.setCursor(`src${i}`, 'stream', { i, pad: 'x'.repeat(200) });
    s.close();
    // Overwrite a page in the middle of the file, as a failing disk would.
    const buf = fs.readFileSync(file);
    buf.fill(0xab, 4096 + 100, 4096 * 3);
    fs.writeFileSync(file, buf);
    const before = fs.readFileSync(file);
    let error: unknown;
    try {
      Store.open({ path: file, clock }).close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('STORE_CORRUPT');
    expect((error as StoreError).message).toMatch(/damaged[\s\S]*will not reset it/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a file that is not a database at all', () => {
    const file = path.join(dir, 'garbage.db');
    fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => Store.open({ path: file, clock })).toThrow(/damaged/);
  });

  it('reports only the ids it has not seen before', () => {
    const store = Store.open({ path: ':memory:', clock });
    expect([...store.markSeen(['a', 'b'], clock.now() + 1000)]).toEqual(['a', 'b']);
    expect([...store.markSeen(['b', 'c', 'c'], clock.now() + 1000)]).toEqual(['c']);
    store.close();
  });

  it('prunes expired seen ids and old delivered alerts, never pending ones', () => {
    const c = fixedClock('2026-11-01T00:00:00Z');
    const store = Store.open({ path: ':memory:', clock: c });
    store.markSeen(['old'], c.now() + 1000);
    store.upsertAlert(sampleAlert('a1'));
    store.upsertAlert(sampleAlert('a2'));
    store.enqueue('a1', 'hook');
    store.enqueue('a2', 'hook');
    const [first] = store.dueDeliveries();
    store.markDelivered(first!.seq);
    c.advance(100 * 86_400_000);
    const pruned = store.prune(30 * 86_400_000);
    expect(pruned.seen).toBe(1);
    expect(pruned.alerts).toBe(1);
    expect(store.getAlert('a1')).toBeUndefined();
    expect(store.getAlert('a2')).toBeDefined();
    expect(store.outboxCounts()).toEqual({ pending: 1, delivered: 0, dead: 0 });
    store.close();
  });

  it('gives a stream lock to one owner at a time until it expires', () => {
    const c = fixedClock(0);
    const store = Store.open({ path: ':memory:', clock: c });
    expect(store.acquireLock('s/x', 'one', 1000)).toBe(true);
    expect(store.acquireLock('s/x', 'two', 1000)).toBe(false);
    c.advance(1001);
    expect(store.acquireLock('s/x', 'two', 1000)).toBe(true);
    store.releaseLock('s/x', 'two');
    expect(store.acquireLock('s/x', 'one', 1000)).toBe(true);
    store.close();
  });

  it('upserts alerts by id: the second time is an update, not a new alert', () => {
    const store = Store.open({ path: ':memory:', clock });
    expect(store.upsertAlert(sampleAlert('x'))).toBe(true);
    expect(store.upsertAlert(sampleAlert('x', { count: 2, last_time: '2026-11-01T01:00:00Z' }))).toBe(false);
    expect(store.getAlert('x')?.count).toBe(2);
    store.close();
  });
});

describe('Store locks left by a crash', () => {
  it('frees a lock whose holder is gone when the caller says so', () => {
    const store = Store.open({ path: ':memory:', clock });
    expect(store.acquireLock('s/x', 'dead-1', 60_000)).toBe(true);
    expect(store.acquireLock('s/x', 'live-2', 60_000, (h) => h === 'live-3')).toBe(false);
    expect(store.acquireLock('s/x', 'live-2', 60_000, (h) => h.startsWith('dead'))).toBe(true);
    store.close();
  });
});
