import { describe, expect, it } from 'vitest';
import type { SnapshotObject } from '../../src/pipeline/connector.js';
import { diffScope, stableStringify } from '../../src/pipeline/snapshot-diff.js';
import type { SnapshotRow } from '../../src/store/store.js';

function rule(key: string, forwardTo: string[], time = '2026-11-01T00:00:00.000Z'): SnapshotObject {
  return {
    key,
    event: {
      kind: 'mailbox_rule',
      time,
      provider: 'imap',
      source: 'branch',
      account: 'alice@party.example',
      details: { mechanism: 'sieve', rule_id: key, name: key, redirect_to: forwardTo },
    },
  };
}

/** Applies a diff's writes to an in-memory snapshot, as the runner does in the store. */
function apply(prev: Map<string, SnapshotRow>, d: ReturnType<typeof diffScope>): Map<string, SnapshotRow> {
  const next = new Map(prev);
  for (const u of d.upserts) next.set(u.key, u.row);
  for (const k of d.removals) next.delete(k);
  return next;
}

const at = '2026-11-02T00:00:00.000Z';

describe('snapshot diff', () => {
  it('reports existing objects as present on the first snapshot', () => {
    const d = diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', ['x@out.example']), rule('b', [])], previous: new Map(), first: true, observedAt: at });
    expect(d.events.map((e) => e.details.change)).toEqual(['present', 'present']);
    expect(d.upserts).toHaveLength(2);
  });

  it('reports created, updated and removed after the first snapshot, and nothing when unchanged', () => {
    let snap = apply(new Map(), diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', []), rule('b', [])], previous: new Map(), first: true, observedAt: at }));

    const unchanged = diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', [], '2026-11-03T00:00:00.000Z'), rule('b', [])], previous: snap, first: false, observedAt: at });
    expect(unchanged.events).toEqual([]);

    const d = diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', ['x@out.example']), rule('c', [])], previous: snap, first: false, observedAt: at });
    const byKey = Object.fromEntries(d.events.map((e) => [e.details.rule_id, e.details.change]));
    expect(byKey).toEqual({ a: 'updated', b: 'removed', c: 'created' });
    const removed = d.events.find((e) => e.details.change === 'removed')!;
    expect(removed.time).toBe(at);
    expect(removed.account).toBe('alice@party.example');
    snap = apply(snap, d);
    expect([...snap.keys()].sort()).toEqual(['a', 'c']);
  });

  it('gives the same change the same event id, so a replayed snapshot is deduplicated', () => {
    const a = diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', ['x@out.example'])], previous: new Map(), first: false, observedAt: at });
    const b = diffScope({ stream: 'sieve', scope: 'alice', objects: [rule('a', ['x@out.example'])], previous: new Map(), first: false, observedAt: at });
    expect(a.events[0]!.id).toBe(b.events[0]!.id);
    expect(a.events[0]!.id).toMatch(/^imap:sieve:alice:a:[0-9a-f]+:created$/);
  });

  it('ignores key order in provider objects', () => {
    expect(stableStringify({ b: 1, a: { d: 2, c: [1, { y: 1, x: 2 }] } })).toBe(stableStringify({ a: { c: [1, { x: 2, y: 1 }], d: 2 }, b: 1 }));
  });

  it('counts an object listed twice once', () => {
    const d = diffScope({ stream: 's', scope: 'alice', objects: [rule('a', []), rule('a', [])], previous: new Map(), first: true, observedAt: at });
    expect(d.events).toHaveLength(1);
  });
});
