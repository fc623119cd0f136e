import fs from 'node:fs';
import { parse } from 'yaml';
import type { RuleInfo } from '../engine/types.js';

/**
 * What each connector stream can feed to the rules, and what it takes (licence, role, option).
 * Written down here rather than discovered, because a stream that is denied or empty still has to
 * say what it would have carried.
 */
export interface StreamInfo {
  /** Event kinds the stream produces. */
  kinds: readonly string[];
  /** How the coverage table names it. */
  label: string;
  /** Per kind: a note on what the stream lacks or adds (e.g. where geo comes from). */
  notes?: Partial<Record<string, string>>;
  /** What it needs, said when it is missing or denied. */
  needs: string;
}

const M365_AUDIT = 'Audit (Standard) with unified audit logging on, and ActivityFeed.Read consented';
const GOOGLE_REPORTS = 'the Reports API, read as a super admin (admin_subject) with the reports scope';

export const STREAMS: Record<string, Record<string, StreamInfo>> = {
  'microsoft-365': {
    'audit-azure-ad': { kinds: ['signin', 'account_change', 'app_consent'], label: 'audit log', notes: { signin: 'geo from GeoIP' }, needs: M365_AUDIT },
    'audit-exchange': {
      kinds: ['mailbox_rule', 'mailbox_forwarding', 'mailbox_permission', 'data_export', 'mail_activity', 'signin'],
      label: 'Exchange audit log',
      notes: { data_export: 'bulk access needs MailItemsAccessed records', signin: 'geo from GeoIP' },
      needs: M365_AUDIT,
    },
    'audit-general': { kinds: ['data_export', 'app_consent', 'account_change'], label: 'general audit log (eDiscovery)', needs: M365_AUDIT },
    signins: { kinds: ['signin'], label: 'Graph sign-ins', notes: { signin: 'geo and risk from Microsoft' }, needs: 'Entra ID P1' },
    'directory-audits': { kinds: ['account_change', 'app_consent'], label: 'Graph directory audits', needs: 'AuditLog.Read.All consented' },
    'risk-detections': { kinds: ['provider_alert'], label: 'Graph risk detections', needs: 'Entra ID P1 (P2 for every risk type)' },
    'inbox-rules': { kinds: ['mailbox_rule'], label: 'inbox-rule snapshots', needs: 'MailboxSettings.Read consented' },
  },
  'google-workspace': {
    'reports-login': { kinds: ['signin', 'provider_alert'], label: 'Reports login', notes: { signin: 'geo from GeoIP' }, needs: GOOGLE_REPORTS },
    'reports-user_accounts': { kinds: ['account_change'], label: 'Reports user_accounts', needs: GOOGLE_REPORTS },
    'reports-token': { kinds: ['app_consent'], label: 'Reports token', needs: GOOGLE_REPORTS },
    'reports-admin': { kinds: ['account_change', 'mailbox_forwarding', 'mailbox_permission', 'data_export'], label: 'Reports admin', needs: GOOGLE_REPORTS },
    'reports-takeout': { kinds: ['data_export'], label: 'Reports takeout', needs: GOOGLE_REPORTS },
    'reports-vault': { kinds: ['data_export'], label: 'Reports vault', needs: GOOGLE_REPORTS },
    'reports-gmail': { kinds: ['mail_activity'], label: 'Reports gmail', needs: `${GOOGLE_REPORTS} (Gmail logs need Enterprise or Education Plus)` },
    'alert-center': { kinds: ['provider_alert'], label: 'Alert Center', needs: 'the Alert Center API (alerts scope) for admin_subject' },
    'gmail-settings': {
      kinds: ['mailbox_rule', 'mailbox_forwarding', 'mailbox_permission'],
      label: 'Gmail settings snapshots',
      needs: 'gmail_settings: true (opt-in) and domain-wide delegation of gmail.settings.basic',
    },
  },
  imap: {
    mailbox: { kinds: ['mail_activity'], label: 'IMAP mailbox scan', needs: 'the master user (or per-account passwords)' },
    sieve: { kinds: ['mailbox_rule'], label: 'Sieve scripts', needs: 'managesieve: in the connector' },
    'dovecot-log': { kinds: ['signin', 'data_export'], label: 'Dovecot log', notes: { signin: 'geo from GeoIP' }, needs: 'dovecot_log: (IMAP without the log has no sign-ins)' },
  },
};

const PROVIDER_NAMES: Record<string, string> = { 'microsoft-365': 'Microsoft 365', 'google-workspace': 'Google Workspace', imap: 'IMAP', file: 'file' };
export const providerName = (t: string): string => PROVIDER_NAMES[t] ?? t;

export interface RuleNeeds {
  id: string;
  category: string;
  /** Kinds the rule's conditions accept; empty = any. */
  kinds: string[];
  /** Providers the rule has remediation for (the ones it is written for); empty = any. */
  providers: string[];
}

/** Every `kind:` value anywhere in the rule's conditions (sequence steps included). */
function kindsIn(node: unknown, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const x of node) kindsIn(x, out);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'kind' && (typeof v === 'string' || Array.isArray(v))) {
      for (const x of [v].flat()) if (typeof x === 'string') out.add(x);
    } else if (k !== 'tests' && k !== 'remediation') {
      kindsIn(v, out);
    }
  }
}

export function ruleNeeds(rule: RuleInfo): RuleNeeds {
  let doc: Record<string, unknown> = {};
  try {
    doc = (parse(fs.readFileSync(rule.file, 'utf8')) ?? {}) as Record<string, unknown>;
  } catch {
    // A rule the engine loaded is readable; if not, it simply claims no kinds.
  }
  const kinds = new Set<string>();
  for (const [k, v] of Object.entries(doc)) if (k !== 'tests' && k !== 'remediation' && k !== 'id' && k !== 'detector') kindsIn(v, kinds);
  const remediation = doc.remediation && typeof doc.remediation === 'object' && !Array.isArray(doc.remediation) ? Object.keys(doc.remediation) : [];
  return { id: rule.id, category: rule.category, kinds: [...kinds], providers: remediation };
}
