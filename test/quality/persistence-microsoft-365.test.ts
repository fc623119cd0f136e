import { describe, expect, it } from 'vitest';
import { microsoft365Formats } from '../../connectors/microsoft-365/index.js';
import type { VigieEvent } from '../../src/events.js';
import { byRule, DAY, HOUR, iso, replay, T0 } from './persistence-helpers.js';

const VICTIM = 'claire@party.example';
let n = 0;
const record = (time: number, operation: string, extra: Record<string, unknown>) => ({
  Id: `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}`,
  RecordType: operation === 'UserLoggedIn' ? 15 : operation === 'MailItemsAccessed' ? 50 : 1,
  CreationTime: iso(time).replace(/\.\d+Z$/, ''),
  Operation: operation,
  UserId: VICTIM,
  ...extra,
});
const signin = (time: number, ip: string) =>
  record(time, 'UserLoggedIn', { ClientIP: ip, ResultStatus: 'Success', ExtendedProperties: [{ Name: 'UserAgent', Value: 'Mozilla/5.0' }, { Name: 'RequestType', Value: 'OAuth2:Authorize' }] });

function normalize(records: unknown[]): VigieEvent[] {
  return records.flatMap((r) => {
    const f = microsoft365Formats.find((x) => x.detect(r));
    if (!f) throw new Error(`no format for ${JSON.stringify(r).slice(0, 80)}`);
    return f.normalize(r, 'hq-m365');
  });
}

describe('Microsoft 365 attack story: sign-in from a new country, a hiding forwarding rule, then a mailbox sync', () => {
  const week = Array.from({ length: 8 }, (_, d) => signin(T0 + d * DAY, '192.0.2.10'));
  const attack = T0 + 8 * DAY + 2 * HOUR;
  const story = [
    ...week,
    signin(attack, '203.0.113.66'),
    record(attack + 40 * 60_000, 'New-InboxRule', {
      ClientIP: '203.0.113.66:51000',
      Parameters: [
        { Name: 'Mailbox', Value: VICTIM },
        { Name: 'Name', Value: '..' },
        { Name: 'ForwardTo', Value: 'claire.archive@mail.example.net' },
        { Name: 'DeleteMessage', Value: 'True' },
        { Name: 'SubjectOrBodyContainsWords', Value: 'password;security' },
      ],
    }),
    record(attack + 20 * HOUR, 'MailItemsAccessed', {
      MailboxOwnerUPN: VICTIM,
      ClientIPAddress: '203.0.113.66',
      ClientInfoString: 'Client=REST;Client=RESTSystem;eM Client',
      OperationCount: 4200,
      OperationProperties: [{ Name: 'MailAccessType', Value: 'Sync' }],
    }),
  ];
  const alerts = replay(normalize(story));

  it('raises the per-step alerts', () => {
    expect(byRule(alerts, 'login.new-country')).toHaveLength(1);
    expect(byRule(alerts, 'forwarding.external-inbox-rule')[0]).toMatchObject({ severity: 'critical', account: VICTIM });
    expect(byRule(alerts, 'forwarding.hiding-rule')[0]).toMatchObject({ severity: 'high' });
    expect(byRule(alerts, 'export.mailbox-sync')[0]!.summary).toContain('203.0.113.66');
  });

  it('chains them into a takeover, then an exfiltration, each listing the steps', () => {
    const takeover = byRule(alerts, 'incident.account-takeover');
    expect(takeover).toHaveLength(1);
    expect(takeover[0]).toMatchObject({ severity: 'critical', category: 'incident', account: VICTIM });
    expect(takeover[0]!.explanation.find((l) => l.startsWith('Step 1'))).toContain('login.new-country');
    expect(takeover[0]!.explanation.find((l) => l.startsWith('Step 2'))).toContain('forwarding.external-inbox-rule');
    const exfil = byRule(alerts, 'incident.exfiltration');
    expect(exfil).toHaveLength(1);
    expect(exfil[0]!.explanation.find((l) => l.startsWith('Step 2'))).toContain('export.mailbox-sync');
  });

  it('fills the remediation with the alert values, as plain text', () => {
    const rule = byRule(alerts, 'forwarding.external-inbox-rule')[0]!;
    expect(rule.remediation.join('\n')).toContain(`Remove-InboxRule -Mailbox '${VICTIM}' -Identity '..'`);
    expect(rule.remediation.join('\n')).toContain(`Revoke-MgUserSignInSession -UserId '${VICTIM}'`);
  });

  it('stays quiet without the unusual sign-in', () => {
    const quiet = replay(normalize(story.filter((r) => !(r.Operation === 'UserLoggedIn' && (r as { ClientIP?: string }).ClientIP === '203.0.113.66'))));
    expect(byRule(quiet, 'incident.account-takeover')).toEqual([]);
  });
});
