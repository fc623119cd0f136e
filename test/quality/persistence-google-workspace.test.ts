import { describe, expect, it } from 'vitest';
import { googleWorkspaceFormats } from '../../connectors/google-workspace/index.js';
import type { VigieEvent } from '../../src/events.js';
import { byRule, DAY, HOUR, iso, replay, T0 } from './persistence-helpers.js';

const VICTIM = 'chloe@party.example';
let n = 0;
const activity = (time: number, app: string, name: string, params: Record<string, string>, ip = '192.0.2.10', region = 'FR') => ({
  kind: 'admin#reports#activity',
  id: { time: iso(time), uniqueQualifier: String(++n), applicationName: app, customerId: 'C01' },
  actor: { email: VICTIM },
  ipAddress: ip,
  networkInfo: { regionCode: region },
  events: [{ type: app, name, parameters: Object.entries(params).map(([k, v]) => ({ name: k, value: v })) }],
});

function normalize(records: unknown[]): VigieEvent[] {
  return records.flatMap((r) => googleWorkspaceFormats.find((f) => f.detect(r))!.normalize(r, 'party-google'));
}

describe('Google Workspace attack story: new country, automatic forwarding, then Takeout', () => {
  const week = Array.from({ length: 8 }, (_, d) => activity(T0 + d * DAY, 'login', 'login_success', { login_type: 'google_password' }));
  const attack = T0 + 8 * DAY + 3 * HOUR;
  const story = [
    ...week,
    activity(attack, 'login', 'login_success', { login_type: 'google_password' }, '203.0.113.66', 'RU'),
    activity(attack + HOUR, 'login', 'email_forwarding_out_of_domain', { email_forwarding_destination_address: 'chloe.copy@mail.example.net' }, '203.0.113.66', 'RU'),
    activity(attack + 30 * HOUR, 'takeout', 'STARTED_USER_TAKEOUT', { USER_EMAIL: VICTIM, PRODUCTS_REQUESTED: 'Mail' }, '203.0.113.66', 'RU'),
  ];
  const alerts = replay(normalize(story));

  it('raises the per-step alerts and both incidents', () => {
    expect(byRule(alerts, 'login.new-country')).toHaveLength(1);
    expect(byRule(alerts, 'forwarding.external-mailbox-forwarding')[0]!.remediation.join(' ')).toContain('updateAutoForwarding');
    expect(byRule(alerts, 'export.takeout')).toHaveLength(1);
    const takeover = byRule(alerts, 'incident.account-takeover');
    expect(takeover).toHaveLength(1);
    expect(takeover[0]!.remediation.join(' ')).toContain('users.signOut');
    const exfil = byRule(alerts, 'incident.exfiltration');
    expect(exfil).toHaveLength(1);
    expect(exfil[0]!.explanation.join('\n')).toMatch(/Step 2.*export\.takeout/);
  });

  it('a Takeout alone is not an exfiltration incident', () => {
    const quiet = replay(normalize([...week, story.at(-1)!]));
    expect(byRule(quiet, 'export.takeout')).toHaveLength(1);
    expect(byRule(quiet, 'incident.exfiltration')).toEqual([]);
  });
});
