import { describe, expect, it } from 'vitest';
import { gmailSettingsObjects } from '../../connectors/google-workspace/gmail-settings-objects.js';
import { messageRuleEvent } from '../../connectors/microsoft-365/normalize-graph.js';
import { scriptObjects } from '../../connectors/imap/sieve-stream.js';
import type { SnapshotObject } from '../../src/pipeline/connector.js';
import type { SnapshotRow } from '../../src/store/store.js';
import { diffScope } from '../../src/pipeline/snapshot-diff.js';
import type { VigieEvent } from '../../src/events.js';
import { replay, T0, iso } from './persistence-helpers.js';

const AT = iso(T0);

function snapshot(scope: string, objects: SnapshotObject[], previous = new Map<string, SnapshotRow>()) {
  const fixed = objects.map((o) => ({ ...o, event: { ...o.event, source: o.event.source || 'test' } }));
  return diffScope({ stream: 'state', scope, objects: fixed, previous, first: previous.size === 0, observedAt: AT });
}

const gmail = gmailSettingsObjects(
  {
    account: 'chloe@party.example',
    autoForwarding: { enabled: true, emailAddress: 'chloe.copy@mail.example.net', disposition: 'trash' },
    filters: [{ id: 'f1', criteria: { subject: 'password' }, action: { addLabelIds: ['TRASH'] } }],
    delegates: [{ delegateEmail: 'eve@outside.example', verificationStatus: 'accepted' }],
  },
  AT,
);
const clean = gmailSettingsObjects({ account: 'bob@party.example', filters: [{ id: 'n', criteria: { from: 'news@x.example' }, action: { addLabelIds: ['Label_1'] } }] }, AT);
const exchange: SnapshotObject[] = [
  { key: 'r1', event: messageRuleEvent({ id: 'r1', displayName: 'x', isEnabled: true, actions: { forwardTo: [{ emailAddress: { address: 'a@mail.example.net' } }] } }, 'claire@party.example', 'hq', AT) },
  { key: 'r2', event: messageRuleEvent({ id: 'r2', displayName: '.', isEnabled: true, actions: { delete: true, markAsRead: true } }, 'claire@party.example', 'hq', AT) },
];
const sieve = scriptObjects('branch', 'lyon@party.example', [{ name: 'main', source: 'redirect :copy "x@gmail.example";\n', conditions: [] } as never], AT);

describe('onboarding audit: the first snapshot', () => {
  const events: VigieEvent[] = [
    ...snapshot('chloe', gmail).events,
    ...snapshot('bob', clean).events,
    ...snapshot('claire', exchange).events,
    ...snapshot('lyon', sieve).events,
  ];
  const alerts = replay(events);

  it('reports one summary alert per affected account, and no per-rule flood', () => {
    expect(alerts.map((a) => [a.rule, a.account]).sort()).toEqual([
      ['forwarding.onboarding-audit', 'chloe@party.example'],
      ['forwarding.onboarding-audit', 'claire@party.example'],
      ['forwarding.onboarding-audit', 'lyon@party.example'],
    ]);
    const chloe = alerts.find((a) => a.account === 'chloe@party.example')!;
    expect(chloe.count).toBe(3);
    const found = chloe.evidence.map((e) => e.detail).join('\n');
    expect(found).toContain('forwarding.external-mailbox-forwarding');
    expect(found).toContain('forwarding.hiding-rule');
    expect(found).toContain('delegation.mailbox-access-granted');
  });

  it('never again: the same state on the next snapshot raises nothing, a new change raises its own rule', () => {
    const first = snapshot('claire', exchange);
    const previous = new Map(first.upserts.map((u) => [u.key, u.row]));
    expect(snapshot('claire', exchange, previous).events).toEqual([]);
    const changed = [...exchange, { key: 'r3', event: messageRuleEvent({ id: 'r3', displayName: 'y', isEnabled: true, actions: { redirectTo: [{ emailAddress: { address: 'b@mail.example.net' } }] } }, 'claire@party.example', 'hq', AT) }];
    const next = replay(snapshot('claire', changed, previous).events);
    expect(next.map((a) => a.rule)).toEqual(['forwarding.external-inbox-rule']);
  });
});
