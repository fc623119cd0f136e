import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { googleWorkspaceFormats } from '../../../connectors/google-workspace/index.js';
import type { Activity } from '../../../connectors/google-workspace/activity.js';
import { normalizeActivity } from '../../../connectors/google-workspace/normalize-activity.js';
import { normalizeCenterAlert, type CenterAlert } from '../../../connectors/google-workspace/normalize-alert.js';
import { gmailSettingsObjects } from '../../../connectors/google-workspace/gmail-settings-objects.js';
import { parseEvent, type VigieEvent } from '../../../src/events.js';
import { createFormatRegistry, detectRecordFormat } from '../../../src/pipeline/formats.js';
import { unwrapPage } from '../../../src/pipeline/read-records.js';

const FIX = path.resolve(import.meta.dirname, '../../fixtures/google-workspace');
const records = (file: string): unknown[] => {
  const text = fs.readFileSync(path.join(FIX, file), 'utf8');
  return file.endsWith('.jsonl') ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : unwrapPage(JSON.parse(text));
};
const activities = (file: string) => records(file) as Activity[];
const all = (file: string) => activities(file).flatMap((a) => normalizeActivity(a, 'gw'));
const strip = (e: VigieEvent) => {
  const { raw: _raw, ...rest } = e;
  return rest;
};

describe('Reports activities → events', () => {
  it('login_success with is_suspicious: a sign-in with provider geo and risk, and Google’s verdict relayed', () => {
    const [signin, flag] = normalizeActivity(activities('login-page.json')[0]!, 'gw');
    expect(strip(signin!)).toEqual({
      id: 'google-workspace:login:2024-03-05T08:40:02.511Z:-4811293378021456654:0',
      kind: 'signin',
      time: '2024-03-05T08:40:02.511Z',
      provider: 'google-workspace',
      source: 'gw',
      account: 'lena.marsh@example.org',
      ip: '198.51.100.23',
      geo: { country: 'NL', source: 'provider' },
      network: { asn: 64500 },
      outcome: 'success',
      details: {
        client: 'other',
        legacy_auth: false,
        interactive: true,
        mfa: true,
        login_type: 'google_password',
        stage: 'success',
        challenge_methods: ['password', 'google_prompt'],
        is_suspicious: true,
        provider_risk: { level: 'high', signals: ['google.is_suspicious'] },
        application: 'login',
        event_name: 'login_success',
        subdivision: 'NL-NH',
      },
    });
    expect(flag).toMatchObject({ kind: 'provider_alert', id: `${signin!.id}:flag`, details: { name: 'google.suspicious_login_success', severity_hint: 'high' } });
  });

  it('one activity with several events gives one event each, with unique ids; logout gives nothing', () => {
    const events = normalizeActivity(activities('login-page.json')[1]!, 'gw');
    expect(events.map((e) => [e.kind, e.outcome, e.details.name ?? e.details.stage])).toEqual([
      ['signin', 'failure', 'challenge'],
      ['signin', 'failure', 'failure'],
      ['provider_alert', undefined, 'google.suspicious_login'],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(3);
    expect(events[0]!.geo).toEqual({ country: 'RU', source: 'provider' });
    expect(events[1]!.details.failure_reason).toBe('login_failure_invalid_password');
    expect(events[2]!.details.login_time).toBe('2024-03-05T08:39:58.000Z');
  });

  it('gov_attack_warning is critical; 2sv_disable and out-of-domain forwarding map to their kinds', () => {
    const [gov, twoSv, fwd] = normalizeActivity(activities('login-page.json')[2]!, 'gw');
    expect(gov).toMatchObject({ kind: 'provider_alert', account: 'lena.marsh@example.org', details: { name: 'google.gov_attack_warning', severity_hint: 'critical' } });
    expect(twoSv).toMatchObject({ kind: 'account_change', details: { change: 'mfa_disabled', target: 'lena.marsh@example.org' } });
    expect(fwd).toMatchObject({ kind: 'mailbox_forwarding', details: { change: 'created', mechanism: 'gmail_auto_forward', to: ['lena.archive@example.net'] } });
    expect(gov!.geo).toBeUndefined();
  });

  it('admin events: privilege, password reset, recovery, 2SV enforcement off, domain-wide delegation', () => {
    const [grant, role, reset, recovery] = normalizeActivity(activities('admin-activities.jsonl')[0]!, 'gw');
    expect(grant).toMatchObject({ kind: 'account_change', account: 'mallory@example.org', actor: 'root@example.org', details: { change: 'role_granted' } });
    expect(role!.details.detail).toBe('admin role assigned: _SEED_ADMIN_ROLE');
    expect(reset).toMatchObject({ account: 'lena.marsh@example.org', details: { change: 'password_reset' } });
    expect(recovery!.details.change).toBe('recovery_changed');

    const second = normalizeActivity(activities('admin-activities.jsonl')[1]!, 'gw');
    // Turning enforcement on is not a weakening: only off counts.
    expect(second.map((e) => `${e.kind}:${String(e.details.change ?? e.details.app_id)}`)).toEqual([
      'account_change:mfa_disabled',
      'account_change:credential_added',
      'app_consent:109876543210',
    ]);
    expect(second[0]).toMatchObject({ account: 'root@example.org', details: { scope: 'organisation', target: 'Campaign' } });
    expect(second[2]).toMatchObject({ details: { scopes: ['https://mail.google.com/'], admin_consent: true, all_users: true } });
    expect(second[2]!.id).toMatch(/:2:consent$/);
  });

  it('admin mail routes and monitors are organisation-wide forwarding; other settings are ignored', () => {
    const events = normalizeActivity(activities('admin-activities.jsonl')[2]!, 'gw');
    expect(events.map((e) => e.kind)).toEqual(['mailbox_forwarding', 'mailbox_forwarding', 'data_export']);
    expect(events[0]).toMatchObject({ account: 'root@example.org', details: { mechanism: 'gmail_route_or_monitor', change: 'created', to: ['copy@collect.example.net'], scope: 'organisation', org_unit: 'party' } });
    expect(events[1]).toMatchObject({ account: 'lena.marsh@example.org', actor: 'root@example.org', details: { to: ['watcher@example.org'], setting: 'EMAIL_MONITOR' } });
    expect(events[2]).toMatchObject({ details: { method: 'domain_export', phase: 'started' } });
  });

  it('token authorize → app_consent with scopes; takeout and vault → data_export', () => {
    const events = all('other-activities.json');
    expect(events.map((e) => `${e.kind}:${String(e.details.method ?? e.details.app_id)}:${String(e.details.phase ?? '')}`)).toEqual([
      'app_consent:777-rogue.apps.googleusercontent.com:',
      'data_export:takeout:started',
      'data_export:takeout:downloaded',
      'data_export:vault:started',
      'data_export:vault:downloaded',
    ]);
    expect(events[0]).toMatchObject({ account: 'lena.marsh@example.org', details: { app_name: 'Mail <b>Backup</b>', scopes: ['https://mail.google.com/', 'openid'] } });
    expect(events[1]).toMatchObject({ details: { destination: 'DROPBOX', products: ['Mail'], takeout_id: 't1' } });
    expect(events[3]).toMatchObject({ account: 'lena.marsh@example.org', actor: 'root@example.org', details: { target: 'lena.marsh@example.org', matter_id: 'm1' } });
    expect(events[4]!.account).toBe('root@example.org');
  });

  it('is pure and stable: the same activity gives the same ids, every event is a valid VigieEvent', () => {
    const files = ['login-page.json', 'admin-activities.jsonl', 'other-activities.json'];
    const a = files.flatMap(all);
    const b = files.flatMap(all);
    expect(a.map((e) => e.id)).toEqual(b.map((e) => e.id));
    expect(new Set(a.map((e) => e.id)).size).toBe(a.length);
    for (const e of a) expect(parseEvent(strip(e)).ok, e.id).toBe(true);
  });

  it('throws on a malformed activity and ignores applications it does not read', () => {
    expect(() => normalizeActivity({ id: { applicationName: 'login', uniqueQualifier: '1' }, events: [] }, 'gw')).toThrow(/id.time/);
    expect(() => normalizeActivity({ id: { time: 'yesterday', applicationName: 'login', uniqueQualifier: '1' }, events: [] }, 'gw')).toThrow(/unreadable/);
    expect(() => normalizeActivity({ id: { time: '2024-03-05T00:00:00Z', applicationName: 'login' }, events: [] }, 'gw')).toThrow(/uniqueQualifier/);
    expect(normalizeActivity({ id: { time: '2024-03-05T00:00:00Z', applicationName: 'drive', uniqueQualifier: '1' }, events: [{ name: 'download' }] }, 'gw')).toEqual([]);
    // Epoch seconds, as the discovery document describes id.time.
    const [e] = normalizeActivity({ id: { time: '1709625600', applicationName: 'login', uniqueQualifier: '1' }, actor: { email: 'a@x.example' }, events: [{ name: 'login_success' }] }, 'gw');
    expect(e!.time).toBe('2024-03-05T08:00:00.000Z');
  });
});

describe('Alert Center alerts → provider_alert', () => {
  const alerts = records('alerts-page.json') as CenterAlert[];

  it('names the same verdicts as Reports, with the affected user and address', () => {
    const [e] = normalizeCenterAlert(alerts[0]!, 'gw');
    expect(strip(e!)).toMatchObject({
      id: 'google-workspace:alert-center:6e1f0c2d-8a3b-4c5d-9e7f-a1b2c3d4e5f6',
      kind: 'provider_alert',
      time: '2024-03-05T08:39:58.000Z',
      account: 'lena.marsh@example.org',
      ip: '198.51.100.23',
      details: { name: 'google.suspicious_login', severity_hint: 'high', alert_type: 'Suspicious login', alert_source: 'Google identity', data_type: 'AccountWarning', status: 'NOT_STARTED' },
    });
    expect(normalizeCenterAlert(alerts[1]!, 'gw')[0]!.details).toMatchObject({ name: 'google.gov_attack_warning', severity_hint: 'critical' });
    expect(normalizeCenterAlert(alerts[2]!, 'gw')[0]!.details).toMatchObject({ name: 'google.alert.customer_takeout_initiated', severity_hint: 'medium' });
    expect(normalizeCenterAlert({ ...alerts[0]!, deleted: true }, 'gw')).toEqual([]);
    expect(() => normalizeCenterAlert({ alertId: 'x', type: 't', source: 's' }, 'gw')).toThrow(/time/);
  });
});

describe('replay formats', () => {
  const registry = createFormatRegistry({ records: googleWorkspaceFormats });

  it('recognises activities and alerts by shape, and nothing else', () => {
    const name = (r: unknown) => detectRecordFormat(registry, r)?.name;
    expect(name(activities('login-page.json')[0])).toBe('google-workspace-reports-activity');
    expect(name({ id: { applicationName: 'token' }, events: [] })).toBe('google-workspace-reports-activity');
    expect(name((records('alerts-page.json') as unknown[])[0])).toBe('google-workspace-alert-center-alert');
    expect(name({ value: [] })).toBeUndefined();
    expect(name({ id: 'x', kind: 'signin', provider: 'imap', time: '2024-01-01T00:00:00Z' })).toBe('vigie-event');
    const e = detectRecordFormat(registry, activities('login-page.json')[0])!.normalize(activities('login-page.json')[0], 'replay');
    expect(e[0]!.source).toBe('replay');
  });
});

describe('Gmail settings → snapshot objects', () => {
  const at = '2026-03-10T12:00:00.000Z';

  it('auto-forwarding, hiding filters, delegates and IMAP/POP access; label-only filters are left out', () => {
    const objects = gmailSettingsObjects(
      {
        account: 'Lena.Marsh@example.org',
        autoForwarding: { enabled: true, emailAddress: 'Lena.Archive@example.net', disposition: 'trash' },
        forwardingAddresses: [{ forwardingEmail: 'lena.archive@example.net', verificationStatus: 'accepted' }],
        filters: [
          { id: 'f1', criteria: { query: 'invoice OR "bank details"', from: '' }, action: { addLabelIds: ['TRASH'], removeLabelIds: ['INBOX', 'UNREAD'], forward: 'lena.archive@example.net' } },
          { id: 'f2', criteria: { from: 'news@x.example' }, action: { addLabelIds: ['Label_1'] } },
          { id: 'f3', criteria: { from: 'press@x.example' }, action: { removeLabelIds: ['INBOX'] } },
        ],
        delegates: [{ delegateEmail: 'Assistant@example.org', verificationStatus: 'accepted' }],
        imap: { enabled: true },
        pop: { accessWindow: 'allMail', disposition: 'trash' },
      },
      at,
    );
    expect(objects.map((o) => o.key)).toEqual(['auto-forwarding', 'filter:f1', 'filter:f3', 'delegate:assistant@example.org', 'mail-protocols']);
    expect(objects[0]!.event).toMatchObject({ kind: 'mailbox_forwarding', time: at, account: 'lena.marsh@example.org', details: { mechanism: 'gmail_auto_forward', to: ['lena.archive@example.net'], keep_copy: false } });
    expect(objects[1]!.event.details).toMatchObject({ mechanism: 'gmail_filter', rule_id: 'f1', name: 'query: invoice OR "bank details"', forward_to: ['lena.archive@example.net'], delete: true, mark_as_read: true, move_to_folder: 'TRASH' });
    expect(objects[2]!.event.details).toMatchObject({ forward_to: [], delete: false, move_to_folder: 'archive' });
    expect(objects[3]!.event).toMatchObject({ kind: 'mailbox_permission', details: { grantee: 'assistant@example.org', rights: ['gmail_delegate'] } });
    expect(objects[4]!.event.details).toMatchObject({ rights: ['protocol:imap', 'protocol:pop:allMail'], mechanism: 'gmail_protocol_access' });
  });

  it('a quiet mailbox gives nothing', () => {
    expect(gmailSettingsObjects({ account: 'a@x.example', autoForwarding: { enabled: false }, imap: { enabled: false }, pop: { accessWindow: 'disabled' } }, at)).toEqual([]);
  });
});
