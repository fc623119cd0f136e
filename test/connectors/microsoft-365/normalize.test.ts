import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { microsoft365Formats, parsePurviewCsv, looksLikePurviewCsv } from '../../../connectors/microsoft-365/index.js';
import { normalizeAuditRecord } from '../../../connectors/microsoft-365/normalize-audit.js';
import { messageRuleEvent } from '../../../connectors/microsoft-365/normalize-graph.js';
import { addresses, cleanIp } from '../../../connectors/microsoft-365/record-access.js';
import type { Alert } from '../../../src/alerts/alert.js';
import { fixedClock } from '../../../src/clock.js';
import { createMemoryState, loadEngine } from '../../../src/engine/index.js';
import { createEnricher } from '../../../src/enrich/index.js';
import { parseEvent, type VigieEvent } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import { createFormatRegistry, detectRecordFormat } from '../../../src/pipeline/formats.js';
import { buildFakeTenant } from '../../fakes/microsoft-365/tenant.js';
import { ROOT } from './setup.js';

const FIX = path.join(ROOT, 'test/fixtures/microsoft-365');
const registry = createFormatRegistry({ records: microsoft365Formats });

function ual(op: string, params: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    CreationTime: '2025-03-11T09:20:00',
    Id: `id-${op}-${Object.keys(params).join('-')}`,
    Operation: op,
    RecordType: 1,
    UserId: 'Admin@Party.example',
    ClientIP: '198.51.100.7:51000',
    Parameters: Object.entries(params).map(([Name, Value]) => ({ Name, Value })),
    ...extra,
  };
}
const one = (r: unknown) => {
  const ev = normalizeAuditRecord(r, { source: 'hq' });
  expect(ev).toHaveLength(1);
  for (const e of ev) expect(parseEvent(e).ok).toBe(true);
  return ev[0]!;
};

describe('Management Activity records → events', () => {
  it('reads keys in any case and strips ports and brackets from addresses', () => {
    const rec = ual('New-InboxRule', { Name: 'x', ForwardTo: 'smtp:Out@Mail.example.net;"Bob" [SMTP:bob@party.example]' });
    const lowered = JSON.parse(JSON.stringify(rec).replace(/"(\w+)":/g, (_m, k: string) => `"${k.toLowerCase()}":`)) as unknown;
    const a = one(rec);
    const b = one(lowered);
    expect({ ...b, raw: undefined }).toEqual({ ...a, raw: undefined });
    expect(a).toMatchObject({ id: 'microsoft-365:audit:id-New-InboxRule-Name-ForwardTo', kind: 'mailbox_rule', time: '2025-03-11T09:20:00.000Z', account: 'admin@party.example', ip: '198.51.100.7', source: 'hq' });
    expect(a.details).toMatchObject({ change: 'created', mechanism: 'exchange_inbox_rule', enabled: true, forward_to: ['out@mail.example.net', 'bob@party.example'] });
    expect(cleanIp('[2001:DB8::5]:443')).toBe('2001:db8::5');
    expect(cleanIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(cleanIp('not-an-ip')).toBeUndefined();
    expect(addresses('Team Leads')).toEqual(['team leads']);
  });

  it('sign-ins: outcome, legacy BAV2ROPC, user agent and the LogonError reason', () => {
    const failed = one({
      CreationTime: '2025-03-11T09:12:44', Id: 'e6c2', Operation: 'UserLoginFailed', RecordType: 15, UserId: 'Rina@party.example', ClientIP: '203.0.113.77',
      ExtendedProperties: [{ Name: 'UserAgent', Value: 'BAV2ROPC' }, { Name: 'RequestType', Value: 'OAuth2:Token' }], ErrorNumber: '50126', LogonError: 'InvalidUserNameOrPassword',
    });
    expect(failed).toMatchObject({ kind: 'signin', outcome: 'failure', ip: '203.0.113.77', account: 'rina@party.example' });
    expect(failed.details).toMatchObject({ legacy_auth: true, client: 'other', user_agent: 'BAV2ROPC', interactive: false, failure_reason: 'InvalidUserNameOrPassword AADSTS50126' });
    const ok = one({ CreationTime: '2025-03-11T08:00:00', Id: 'x1', Operation: 'UserLoggedIn', RecordType: 15, UserId: 'a@party.example', ExtendedProperties: [{ Name: 'UserAgent', Value: 'Mozilla/5.0 Chrome' }, { Name: 'RequestType', Value: 'Login:login' }] });
    expect(ok).toMatchObject({ outcome: 'success', details: { legacy_auth: false, client: 'browser', interactive: true } });
    expect(ok.id).toBe('microsoft-365:audit:x1');
  });

  it('inbox rule changes: Set/Enable/Disable/Remove and Outlook UpdateInboxRules', () => {
    expect(one(ual('Disable-InboxRule', { Identity: 'claire@party.example\\..' })).details).toMatchObject({ change: 'updated', enabled: false, name: '..' });
    expect(one(ual('Remove-InboxRule', { Identity: 'claire@party.example\\..' }))).toMatchObject({ account: 'claire@party.example', actor: 'admin@party.example', details: { change: 'removed' } });
    const outlook = one({
      CreationTime: '2025-03-11T09:00:00', Id: 'u1', Operation: 'UpdateInboxRules', RecordType: 2, UserId: 'c@party.example', MailboxOwnerUPN: 'c@party.example', ClientIPAddress: '203.0.113.66',
      OperationProperties: [{ Name: 'RuleOperation', Value: 'AddMailboxRule' }, { Name: 'RuleName', Value: 'x' }, { Name: 'RuleId', Value: '123' }, { Name: 'RuleActions', Value: 'Redirect: [out@mail.example.net]; Delete' }],
    });
    expect(outlook.details).toMatchObject({ change: 'created', rule_id: '123', redirect_to: ['out@mail.example.net'], delete: true });
  });

  it('mailbox forwarding, cleared forwarding and organisation-wide transport rules', () => {
    const set = normalizeAuditRecord(ual('Set-Mailbox', { Identity: 'c@party.example', ForwardingSmtpAddress: 'smtp:x@mail.example.net', DeliverToMailboxAndForward: 'True' }), { source: 'hq' });
    expect(set[0]).toMatchObject({ id: 'microsoft-365:audit:id-Set-Mailbox-Identity-ForwardingSmtpAddress-DeliverToMailboxAndForward:forwarding', kind: 'mailbox_forwarding', account: 'c@party.example', details: { change: 'created', to: ['x@mail.example.net'], keep_copy: true, mechanism: 'exchange_mailbox' } });
    expect(one(ual('Set-Mailbox', { Identity: 'c@party.example', ForwardingSmtpAddress: '' })).details).toMatchObject({ change: 'removed', to: [] });
    expect(one(ual('New-TransportRule', { Name: 'copy', BlindCopyTo: 'all@collector.example.org' })).details).toMatchObject({ mechanism: 'exchange_transport_rule', organisation_wide: true, to: ['all@collector.example.org'], keep_copy: true });
    expect(normalizeAuditRecord(ual('Set-TransportRule', { Name: 'x', SetSCL: '-1' }), { source: 'hq' })).toEqual([]);
  });

  it('permissions: full access, send as, send on behalf, folder', () => {
    expect(one(ual('Add-MailboxPermission', { Identity: 'ceo@party.example', User: 'x@party.example', AccessRights: 'FullAccess' })).details).toEqual({ change: 'created', grantee: 'x@party.example', rights: ['full_access'] });
    expect(one(ual('Add-RecipientPermission', { Identity: 'ceo@party.example', Trustee: 'x@party.example', AccessRights: 'SendAs' })).details).toMatchObject({ rights: ['send_as'] });
    expect(one(ual('Set-Mailbox', { Identity: 'ceo@party.example', GrantSendOnBehalfTo: 'x@party.example' })).details).toMatchObject({ rights: ['send_on_behalf'], grantee: 'x@party.example' });
    expect(one(ual('Add-MailboxFolderPermission', { Identity: 'ceo@party.example:\\Inbox', User: 'x@party.example', AccessRights: 'Reviewer' }))).toMatchObject({ account: 'ceo@party.example', details: { rights: ['folder:Inbox:reviewer'] } });
  });

  it('app consent with scopes parsed from ConsentAction.Permissions', () => {
    const tenant = buildFakeTenant();
    const rec = tenant.audit.find((a) => a.item.Operation === 'Consent to application.')!.item;
    expect(one(rec)).toMatchObject({ kind: 'app_consent', account: 'claire.dubois@party.example', ip: '203.0.113.66', details: { app_name: 'Inbox Helper Pro', app_id: 'a1b2c3d4-0000-4e1f-9a8b-1234567890ab', scopes: ['Mail.Read', 'Mail.Send', 'offline_access', 'User.Read'], admin_consent: false, all_users: false } });
  });

  it('account changes: role, MFA, password, credentials, audit switched off', () => {
    const dir = (op: string, extra: Record<string, unknown> = {}) => ({ CreationTime: '2025-03-11T09:00:00', Id: op, Operation: op, RecordType: 8, UserId: 'admin@party.example', Target: [{ ID: 'User_1', Type: 2 }, { ID: 'bob@party.example', Type: 5 }], ...extra });
    expect(one(dir('Add member to role.', { ModifiedProperties: [{ Name: 'Role.DisplayName', NewValue: 'Global Administrator', OldValue: '' }] })).details).toEqual({ change: 'role_granted', target: 'bob@party.example', detail: 'Global Administrator' });
    expect(one(dir('Disable Strong Authentication.')).details).toMatchObject({ change: 'mfa_disabled' });
    expect(one(dir('User registered security info.')).details).toMatchObject({ change: 'mfa_method_added' });
    expect(one(dir('Reset user password.')).details).toMatchObject({ change: 'password_reset' });
    expect(one(dir('Add service principal credentials.'))).toMatchObject({ account: 'admin@party.example', details: { change: 'credential_added' } });
    expect(one(ual('Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: 'False' })).details).toMatchObject({ change: 'audit_disabled', target: 'organisation' });
    expect(normalizeAuditRecord(ual('Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: 'True' }), { source: 'hq' })).toEqual([]);
    expect(one(ual('Set-MailboxAuditBypassAssociation', { Identity: 'svc@party.example', AuditBypassEnabled: 'True' })).details).toMatchObject({ change: 'audit_disabled', target: 'svc@party.example' });
    expect(one(ual('Set-Mailbox', { Identity: 'c@party.example', AuditEnabled: '$false' })).details).toMatchObject({ change: 'audit_disabled' });
  });

  it('MailItemsAccessed: sync and bulk become data_export, ordinary reading does not', () => {
    const mia = (type: string, count: number, throttled = 'False') => ({
      CreationTime: '2025-03-11T09:30:00', Id: `m-${type}-${count}-${throttled}`, Operation: 'MailItemsAccessed', RecordType: 50, UserId: 'c@party.example', MailboxOwnerUPN: 'c@party.example', ClientIPAddress: '203.0.113.66', ClientInfoString: 'Client=MSExchangeRPC', OperationCount: count,
      OperationProperties: [{ Name: 'MailAccessType', Value: type }, { Name: 'IsThrottled', Value: throttled }], Folders: [{ Path: '\\Inbox', FolderItems: [{ SizeInBytes: 1000 }, { SizeInBytes: 2000 }] }],
    });
    expect(one(mia('Sync', 900)).details).toMatchObject({ method: 'mailbox_sync', phase: 'completed', items: 900, bytes: 3000, folder: '\\Inbox', client: 'Client=MSExchangeRPC' });
    expect(normalizeAuditRecord(mia('Bind', 3), { source: 'hq' })).toEqual([]);
    expect(one(mia('Bind', 3, 'True')).details).toMatchObject({ method: 'bulk_access', throttled: true });
    expect(one(mia('Bind', 150)).details).toMatchObject({ method: 'bulk_access' });
    expect(normalizeAuditRecord(mia('Bind', 150), { source: 'hq', bulkAccessItems: 500 })).toEqual([]);
  });

  it('eDiscovery exports', () => {
    const gen = (op: string, extra: Record<string, unknown> = {}) => ({ CreationTime: '2025-03-11T10:00:00', Id: op, Operation: op, RecordType: 18, Workload: 'SecurityComplianceCenter', UserId: 'admin@party.example', ObjectId: 'All mail', ...extra });
    expect(one(gen('SearchExported')).details).toMatchObject({ method: 'ediscovery', phase: 'started', name: 'All mail' });
    expect(one(gen('SearchExportDownloaded')).details).toMatchObject({ phase: 'downloaded' });
    expect(one(gen('New-ComplianceSearchAction', { Parameters: [{ Name: 'SearchName', Value: 's' }, { Name: 'Export', Value: 'True' }] })).details).toMatchObject({ method: 'ediscovery' });
    expect(normalizeAuditRecord(gen('New-ComplianceSearchAction', { Parameters: [{ Name: 'Purge', Value: 'True' }] }), { source: 'hq' })).toEqual([]);
  });

  it('unknown operations give nothing; a record without Id or time throws', () => {
    expect(normalizeAuditRecord(ual('Get-Mailbox', {}), { source: 'hq' })).toEqual([]);
    expect(() => normalizeAuditRecord({ Operation: 'Set-Mailbox', CreationTime: '2025-03-11T09:00:00' }, { source: 'hq' })).toThrow(/Id/);
    expect(() => normalizeAuditRecord({ Id: '1', Operation: 'New-InboxRule' }, { source: 'hq' })).toThrow(/time/);
    expect(() => normalizeAuditRecord([], { source: 'hq' })).toThrow();
  });
});

describe('Graph objects → events', () => {
  it('messageRule actions become rule details', () => {
    const e = messageRuleEvent(
      { id: 'r1', displayName: 'x', sequence: 1, isEnabled: false, conditions: { subjectContains: ['invoice'], fromAddresses: [] }, actions: { redirectTo: [{ emailAddress: { address: 'A@mail.example.net' } }], permanentDelete: true } },
      'C@party.example',
      'hq',
      '2025-03-11T00:00:00.000Z',
    );
    expect(e).toMatchObject({ account: 'c@party.example', details: { rule_id: 'r1', enabled: false, redirect_to: ['a@mail.example.net'], delete: true, permanent_delete: true, conditions: { subjectContains: ['invoice'] } } });
  });
});

describe('replay formats', () => {
  it('detects every Microsoft 365 shape', () => {
    const tenant = buildFakeTenant();
    const name = (r: unknown) => detectRecordFormat(registry, r)?.name;
    expect(name(tenant.audit[0]!.item)).toBe('microsoft-365.management-activity');
    expect(name(tenant.signIns[0]!.item)).toBe('microsoft-365.graph-signin');
    expect(name(tenant.directoryAudits[0]!.item)).toBe('microsoft-365.graph-directory-audit');
    expect(name(tenant.riskDetections[0]!.item)).toBe('microsoft-365.graph-risk-detection');
    expect(name(tenant.inboxRules[0]!.rule)).toBe('microsoft-365.graph-message-rule');
    expect(name({ id: 'x', createdDateTime: '2025-03-11T00:00:00Z', operation: 'Set-Mailbox', auditData: { Id: 'y' } })).toBe('microsoft-365.audit-log-query-record');
  });

  it('reads Entra sign-ins exported by Azure Monitor diagnostic settings', () => {
    const rec = JSON.parse(fs.readFileSync(path.join(FIX, 'azure-monitor-signin.json'), 'utf8')) as unknown;
    const fmt = detectRecordFormat(registry, rec)!;
    expect(fmt.name).toBe('microsoft-365.azure-monitor-entra');
    const [e] = fmt.normalize(rec, 'export');
    expect(e).toMatchObject({ id: 'microsoft-365:signins:b3f1d2c4-7a10-4e55-9c21-0d8e6f4a1b01', outcome: 'success', ip: '203.0.113.66', geo: { country: 'RU', city: 'Moscow' }, details: { client: 'smtp', legacy_auth: true, user_agent: 'BAV2ROPC' } });
    expect(e!.details.provider_risk).toBeUndefined();
  });

  it('reads Purview audit search CSV exports (AuditData column, quoted commas, bad rows reported)', () => {
    const text = fs.readFileSync(path.join(FIX, 'purview-export.csv'), 'utf8');
    expect(looksLikePurviewCsv(text.split('\n')[0]!)).toBe(true);
    expect(looksLikePurviewCsv('id,kind,time')).toBe(false);
    const { records, errors } = parsePurviewCsv(text);
    expect(records).toHaveLength(2);
    expect(errors).toEqual([{ line: 4, error: expect.stringContaining('not valid JSON') }]);
    const events = records.flatMap((r) => detectRecordFormat(registry, r)!.normalize(r, 'purview'));
    expect(events.map((e) => e.kind)).toEqual(['mailbox_forwarding', 'mailbox_rule']);
    expect(events[1]).toMatchObject({ ip: '2001:db8::5', details: { name: '.., with a comma' } });
  });

  it("replaying the fake tenant's records (audit log and Graph pages) raises the takeover alerts", () => {
    const tenant = buildFakeTenant();
    // Graph sign-ins first: they share ids with their audit-log copies, and the first copy (with geo) wins.
    const records: unknown[] = [...tenant.signIns.map((s) => s.item), ...tenant.audit.map((a) => a.item), ...tenant.directoryAudits.map((d) => d.item)];
    const events: VigieEvent[] = [];
    const ids = new Set<string>();
    for (const r of records) {
      const fmt = detectRecordFormat(registry, r);
      expect(fmt, JSON.stringify(r).slice(0, 80)).toBeDefined();
      for (const e of fmt!.normalize(r, 'replay')) if (!ids.has(e.id)) (ids.add(e.id), events.push(e));
    }
    events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    const engine = loadEngine({ rulesDir: path.join(ROOT, 'rules'), overlays: [], clock: fixedClock('2025-03-12T00:00:00Z'), log: silentLogger });
    const enrich = createEnricher({ domains: ['party.example'] });
    const state = createMemoryState({ serialize: true });
    const alerts = new Map<string, Alert>();
    for (const e of events) for (const a of engine.evaluate(enrich(e), { state, learning: false })) alerts.set(a.id, a);
    const rules = new Set([...alerts.values()].map((a) => a.rule));
    for (const r of ['forwarding.external-inbox-rule', 'forwarding.external-mailbox-forwarding', 'login.legacy-protocol', 'login.new-country', 'login.password-spray']) expect(rules, r).toContain(r);
  });
});
