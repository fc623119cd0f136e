import type { VigieEvent } from '../../src/events.js';
import {
  addresses,
  bool,
  ciRecord,
  cleanIp,
  consentScopes,
  decodeValue,
  isoTime,
  isRec,
  lower,
  nameValues,
  str,
  type Rec,
} from './record-access.js';
import { signinClient } from './signin-client.js';

/**
 * Unified audit log records (Office 365 Management Activity API, Purview exports) → VigieEvents
 * (shared/reference/provider-apis.md §B.3–B.7). Pure. Records of operations Vigie does not watch
 * give no event; a record without `Id`, `Operation` or a time throws (the runner skips it).
 */
export interface AuditNormalizeOptions {
  source: string;
  /** A MailItemsAccessed record touching at least this many items is a bulk access. */
  bulkAccessItems?: number;
}

export const DEFAULT_BULK_ACCESS_ITEMS = 100;

type Get = (key: string) => unknown;
type Draft = Omit<VigieEvent, 'id' | 'time' | 'provider' | 'source'> & { facet?: string };
type Handler = (get: Get, params: Map<string, string>, o: AuditNormalizeOptions) => Draft[];

export function normalizeAuditRecord(record: unknown, o: AuditNormalizeOptions): VigieEvent[] {
  if (!isRec(record)) throw new Error('an audit record must be a JSON object');
  const get = ciRecord(record);
  const id = str(get('Id'));
  const operation = str(get('Operation'));
  if (!id || !operation) throw new Error('the audit record has no Id or Operation');
  const time = isoTime(get('CreationTime'));
  const handler = HANDLERS.get(operation.trim().replace(/\.$/, '').toLowerCase());
  if (!handler) return [];
  const drafts = handler(get, nameValues(get('Parameters')), o);
  return drafts.map(({ facet, ...d }) => ({
    ...d,
    id: `microsoft-365:${signInRequestId(get, operation) ? 'signins' : 'audit'}:${signInRequestId(get, operation) ?? id}${facet ? `:${facet}` : ''}`,
    time,
    provider: 'microsoft-365',
    source: o.source,
    raw: record,
  }));
}

/**
 * Graph sign-ins and UAL STS logons describe the same sign-in. `IntraSystemId` is Entra's request
 * id, which Graph uses as the sign-in `id` (UNCONFIRMED by Microsoft documentation; observed in
 * exports): both then get one event id and dedupe keeps whichever arrives first.
 */
function signInRequestId(get: Get, operation: string): string | undefined {
  if (operation !== 'UserLoggedIn' && operation !== 'UserLoginFailed') return undefined;
  const id = str(get('IntraSystemId'))?.trim().toLowerCase();
  return id && /^[0-9a-f-]{36}$/.test(id) && id !== '00000000-0000-0000-0000-000000000000' ? id : undefined;
}

const userOf = (get: Get) => lower(get('UserId')) ?? '';
const ipOf = (get: Get) => cleanIp(get('ClientIP')) ?? cleanIp(get('ClientIPAddress')) ?? cleanIp(get('ActorIpAddress'));
const withIp = (get: Get) => {
  const ip = ipOf(get);
  return ip ? { ip } : {};
};

/** The mailbox an Exchange cmdlet acted on: `-Mailbox`, or the owner part of `-Identity` (`user\rule`). */
function mailboxOf(get: Get, params: Map<string, string>, key = 'identity'): string {
  const explicit = params.get('mailbox') ?? params.get(key);
  if (explicit) {
    const owner = explicit.includes('\\') ? explicit.slice(0, explicit.indexOf('\\')) : explicit;
    if (owner.trim()) return owner.trim().toLowerCase();
  }
  return lower(get('MailboxOwnerUPN')) ?? userOf(get);
}

function actorIfOther(get: Get, account: string): { actor?: string } {
  const user = userOf(get);
  return user && user !== account ? { actor: user } : {};
}

// ---- sign-ins (§B.6) ---------------------------------------------------------------------

const LEGACY_AGENTS = /BAV2ROPC|CBAinPROD|^Microsoft Office\/1[2-5]\.|MSRPC|ExchangeServicesClient|^python-imaplib|^imap|^pop3?|^smtp/i;

const signin: (outcome: 'success' | 'failure') => Handler = (outcome) => (get) => {
  const ext = nameValues(get('ExtendedProperties'));
  const ua = ext.get('useragent') ?? '';
  const requestType = ext.get('requesttype') ?? '';
  const legacy = LEGACY_AGENTS.test(ua);
  const error = str(get('LogonError'));
  const errorNumber = str(get('ErrorNumber')) ?? str(get('ErrorCode'));
  return [
    {
      kind: 'signin',
      account: userOf(get),
      ...withIp(get),
      outcome,
      details: {
        client: signinClient({ userAgent: ua }),
        legacy_auth: legacy,
        user_agent: ua,
        interactive: /^Login:/i.test(requestType) ? true : /^OAuth2:Token/i.test(requestType) ? false : undefined,
        request_type: requestType || undefined,
        app_id: str(get('ApplicationId')),
        ...(outcome === 'failure' ? { failure_reason: [error, errorNumber && errorNumber !== '0' ? `AADSTS${errorNumber}` : undefined].filter(Boolean).join(' ') || 'unknown' } : {}),
      },
    },
  ];
};

// ---- inbox rules (§B.4) ------------------------------------------------------------------

const RULE_CHANGE: Record<string, 'created' | 'updated' | 'removed'> = {
  'new-inboxrule': 'created',
  'set-inboxrule': 'updated',
  'enable-inboxrule': 'updated',
  'disable-inboxrule': 'updated',
  'remove-inboxrule': 'removed',
};

const inboxRuleCmdlet: Handler = (get, p) => {
  const op = str(get('Operation'))!.toLowerCase();
  const account = mailboxOf(get, p);
  const identity = p.get('identity');
  const name = p.get('name') ?? (identity?.includes('\\') ? identity.slice(identity.indexOf('\\') + 1) : identity) ?? str(get('ObjectId'));
  const enabled = op === 'enable-inboxrule' ? true : op === 'disable-inboxrule' ? false : bool(p.get('enabled'));
  const conditions = Object.fromEntries(
    [
      ['subject_contains', 'subjectcontainswords'],
      ['body_contains', 'bodycontainswords'],
      ['subject_or_body_contains', 'subjectorbodycontainswords'],
      ['from', 'from'],
      ['from_address_contains', 'fromaddresscontainswords'],
      ['sent_to', 'sentto'],
    ]
      .filter(([, k]) => p.get(k!))
      .map(([name, k]) => [name, p.get(k!)!.split(/[;,]/).map((s) => s.trim()).filter(Boolean)]),
  );
  return [
    {
      kind: 'mailbox_rule',
      account,
      ...actorIfOther(get, account),
      ...withIp(get),
      details: {
        change: RULE_CHANGE[op],
        mechanism: 'exchange_inbox_rule',
        rule_id: (identity ?? name ?? '').toLowerCase(),
        name,
        ...(enabled !== undefined ? { enabled } : op === 'new-inboxrule' ? { enabled: true } : {}),
        ...(p.get('forwardto') ? { forward_to: addresses(p.get('forwardto')) } : {}),
        ...(p.get('redirectto') ? { redirect_to: addresses(p.get('redirectto')) } : {}),
        ...(p.get('forwardasattachmentto') ? { forward_as_attachment_to: addresses(p.get('forwardasattachmentto')) } : {}),
        ...(bool(p.get('deletemessage')) !== undefined ? { delete: bool(p.get('deletemessage')) } : {}),
        ...(p.get('movetofolder') ? { move_to_folder: p.get('movetofolder') } : {}),
        ...(bool(p.get('markasread')) !== undefined ? { mark_as_read: bool(p.get('markasread')) } : {}),
        ...(bool(p.get('stopprocessingrules')) !== undefined ? { stop_processing: bool(p.get('stopprocessingrules')) } : {}),
        ...(Object.keys(conditions).length ? { conditions } : {}),
      },
    },
  ];
};

const OUTLOOK_RULE_CHANGE: Record<string, 'created' | 'updated' | 'removed'> = {
  addmailboxrule: 'created',
  modifymailboxrule: 'updated',
  removemailboxrule: 'removed',
};

/** Rules made in Outlook desktop: mailbox audit `UpdateInboxRules` with free-text actions. */
const updateInboxRules: Handler = (get) => {
  const props = nameValues(get('OperationProperties'));
  const account = lower(get('MailboxOwnerUPN')) ?? userOf(get);
  const actions = props.get('ruleactions') ?? '';
  const targets = addresses(actions.match(/[^\s"'<>[\]():;,]+@[^\s"'<>[\]():;,]+/g) ?? []);
  const redirect = /redirect/i.test(actions);
  const attach = /attach/i.test(actions);
  return [
    {
      kind: 'mailbox_rule',
      account,
      ...actorIfOther(get, account),
      ...withIp(get),
      details: {
        change: OUTLOOK_RULE_CHANGE[(props.get('ruleoperation') ?? '').toLowerCase()] ?? 'updated',
        mechanism: 'exchange_inbox_rule',
        rule_id: props.get('ruleid') ?? props.get('rulename') ?? '',
        name: props.get('rulename'),
        ...(targets.length ? (redirect ? { redirect_to: targets } : attach ? { forward_as_attachment_to: targets } : { forward_to: targets }) : {}),
        ...(/delete/i.test(actions) ? { delete: true } : {}),
        ...(props.get('rulecondition') ? { conditions: { text: props.get('rulecondition') } } : {}),
        actions_text: actions || undefined,
        client: str(get('ClientInfoString')),
      },
    },
  ];
};

// ---- mailbox forwarding, permissions, audit switches (§B.4) -------------------------------

const setMailbox: Handler = (get, p) => {
  const account = mailboxOf(get, p);
  const out: Draft[] = [];
  const common = { account, ...actorIfOther(get, account), ...withIp(get) };
  const smtp = p.get('forwardingsmtpaddress');
  const fwd = p.get('forwardingaddress');
  const keep = bool(p.get('delivertomailboxandforward'));
  if (smtp !== undefined || fwd !== undefined || keep !== undefined) {
    const to = [...addresses(smtp ?? ''), ...addresses(fwd ?? '')];
    const cleared = (smtp !== undefined || fwd !== undefined) && to.length === 0;
    out.push({
      ...common,
      kind: 'mailbox_forwarding',
      facet: 'forwarding',
      details: {
        change: cleared ? 'removed' : smtp !== undefined || fwd !== undefined ? 'created' : 'updated',
        mechanism: 'exchange_mailbox',
        to,
        ...(keep !== undefined ? { keep_copy: keep } : {}),
      },
    });
  }
  const delegates = p.get('grantsendonbehalfto');
  if (delegates) {
    for (const grantee of addresses(delegates)) {
      out.push({ ...common, kind: 'mailbox_permission', facet: `send-on-behalf:${grantee}`, details: { change: 'created', grantee, rights: ['send_on_behalf'] } });
    }
  }
  if (bool(p.get('auditenabled')) === false) {
    out.push({ ...common, kind: 'account_change', facet: 'audit', details: { change: 'audit_disabled', target: account, detail: 'Set-Mailbox -AuditEnabled $false: mailbox auditing is off.' } });
  }
  return out;
};

const RIGHTS: Record<string, string> = { fullaccess: 'full_access', sendas: 'send_as', sendonbehalf: 'send_on_behalf' };

const permission: (change: 'created' | 'removed', granteeKey: string) => Handler = (change, granteeKey) => (get, p) => {
  const account = mailboxOf(get, p);
  const rights = (p.get('accessrights') ?? '')
    .split(/[;,\s]+/)
    .filter(Boolean)
    .map((r) => RIGHTS[r.toLowerCase()] ?? r.toLowerCase());
  return [
    {
      kind: 'mailbox_permission',
      account,
      ...actorIfOther(get, account),
      ...withIp(get),
      details: { change, grantee: lower(p.get(granteeKey)) ?? '', rights },
    },
  ];
};

const folderPermission: Handler = (get, p) => {
  const identity = p.get('identity') ?? '';
  const [owner, folder] = identity.includes(':') ? [identity.slice(0, identity.indexOf(':')), identity.slice(identity.indexOf(':') + 1)] : [identity, ''];
  const account = owner.trim().toLowerCase() || userOf(get);
  const folderName = folder.replace(/^\\+/, '') || 'Top of Information Store';
  const rights = (p.get('accessrights') ?? '')
    .split(/[;,\s]+/)
    .filter(Boolean)
    .map((r) => `folder:${folderName}:${r.toLowerCase()}`);
  return [{ kind: 'mailbox_permission', account, ...actorIfOther(get, account), ...withIp(get), details: { change: 'created', grantee: lower(p.get('user')) ?? '', rights } }];
};

const transportRule: Handler = (get, p) => {
  const redirect = addresses(p.get('redirectmessageto') ?? '');
  const bcc = addresses(p.get('blindcopyto') ?? '');
  const copy = addresses(p.get('copyto') ?? '');
  const add = addresses(p.get('addtorecipients') ?? '');
  const to = [...new Set([...redirect, ...bcc, ...copy, ...add])];
  if (to.length === 0) return [];
  const op = str(get('Operation'))!.toLowerCase();
  return [
    {
      // Organisation-wide: rules group by account, so the change is filed under the admin who made it.
      kind: 'mailbox_forwarding',
      account: userOf(get),
      actor: userOf(get),
      ...withIp(get),
      details: {
        change: op.startsWith('new-') ? 'created' : 'updated',
        mechanism: 'exchange_transport_rule',
        organisation_wide: true,
        name: p.get('name') ?? p.get('identity'),
        to,
        keep_copy: redirect.length === 0,
        ...(redirect.length ? { redirect_to: redirect } : {}),
        ...(bcc.length ? { bcc_to: bcc } : {}),
        ...(p.get('enabled') !== undefined ? { enabled: bool(p.get('enabled')) } : {}),
      },
    },
  ];
};

const adminAuditLogConfig: Handler = (get, p) => {
  const ual = bool(p.get('unifiedauditlogingestionenabled'));
  const admin = bool(p.get('adminauditlogenabled'));
  if (ual !== false && admin !== false) return [];
  return [
    {
      kind: 'account_change',
      account: userOf(get),
      actor: userOf(get),
      ...withIp(get),
      details: { change: 'audit_disabled', target: 'organisation', detail: ual === false ? 'Unified audit log ingestion was turned off.' : 'Admin audit logging was turned off.' },
    },
  ];
};

const auditBypass: Handler = (get, p) => {
  if (bool(p.get('auditbypassenabled')) !== true) return [];
  const account = mailboxOf(get, p);
  return [
    {
      kind: 'account_change',
      account,
      ...actorIfOther(get, account),
      ...withIp(get),
      details: { change: 'audit_disabled', target: account, detail: 'Set-MailboxAuditBypassAssociation: the account now bypasses mailbox auditing.' },
    },
  ];
};

// ---- directory changes (§B.6: RecordType 8, operation names end with a period) ------------

/** The user or object a directory change is about: the UPN among `Target`, else `ObjectId`. */
function targetOf(get: Get): string {
  const targets = Array.isArray(get('Target')) ? (get('Target') as unknown[]) : [];
  for (const t of targets) {
    if (!isRec(t)) continue;
    const id = str(ciRecord(t)('ID'));
    if (id && id.includes('@')) return id.toLowerCase();
  }
  return lower(get('ObjectId')) ?? '';
}

function modified(get: Get): Map<string, string> {
  const out = new Map<string, string>();
  const list = get('ModifiedProperties');
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isRec(item)) continue;
    const g = ciRecord(item);
    const name = str(g('Name')) ?? str(g('displayName'));
    if (name) out.set(name.toLowerCase(), decodeValue(g('NewValue') ?? g('newValue')));
  }
  return out;
}

const consent: Handler = (get) => {
  const m = modified(get);
  const targets = Array.isArray(get('Target')) ? (get('Target') as unknown[]).filter(isRec).map((t) => ciRecord(t)) : [];
  const named = targets.find((t) => str(t('Type')) === '1');
  const op = str(get('Operation'))!.toLowerCase();
  const scopes = [
    ...consentScopes(m.get('consentaction.permissions') ?? ''),
    ...(m.get('delegatedpermissiongrant.scope') ?? '').split(/\s+/).filter(Boolean),
    ...(m.get('approle.value') ? [m.get('approle.value')!] : []),
  ];
  const appRole = op.startsWith('add app role assignment');
  const account = userOf(get);
  return [
    {
      kind: 'app_consent',
      account,
      ...withIp(get),
      outcome: /fail/i.test(str(get('ResultStatus')) ?? '') ? 'failure' : 'success',
      details: {
        app_id: (m.get('targetid.serviceprincipalnames') ?? '').split(/[;,]/)[0]?.trim() || (lower(get('ObjectId')) ?? ''),
        app_name: str(named?.('ID')) ?? m.get('displayname') ?? '',
        scopes: [...new Set(scopes)],
        admin_consent: appRole || bool(m.get('consentcontext.isadminconsent')) === true,
        all_users: bool(m.get('consentcontext.onbehalfofall')) === true || /allprincipals/i.test(m.get('delegatedpermissiongrant.consenttype') ?? ''),
        operation: str(get('Operation')),
      },
    },
  ];
};

const directoryChange: (change: string) => Handler = (change) => (get) => {
  const m = modified(get);
  const target = targetOf(get);
  const detail = m.get('role.displayname') ?? m.get('role.wellknownobjectname') ?? m.get('keydescription') ?? str(get('Operation'));
  const account = change === 'credential_added' ? userOf(get) : target || userOf(get);
  return [
    {
      kind: 'account_change',
      account,
      ...actorIfOther(get, account),
      ...withIp(get),
      outcome: /fail/i.test(str(get('ResultStatus')) ?? '') ? 'failure' : 'success',
      details: { change, target, detail },
    },
  ];
};

// ---- bulk access and export (§B.5, §B.7) --------------------------------------------------

const mailItemsAccessed: Handler = (get, _p, o) => {
  const props = nameValues(get('OperationProperties'));
  const access = (props.get('mailaccesstype') ?? '').toLowerCase();
  const throttled = bool(props.get('isthrottled')) === true;
  const folders = Array.isArray(get('Folders')) ? (get('Folders') as unknown[]).filter(isRec).map((f) => ciRecord(f)) : [];
  const items = Number(get('OperationCount')) || folders.reduce((n, f) => n + (Array.isArray(f('FolderItems')) ? (f('FolderItems') as unknown[]).length : 0), 0);
  const bulk = items >= (o.bulkAccessItems ?? DEFAULT_BULK_ACCESS_ITEMS);
  // Ordinary reading (small Bind records) is the bulk of the log and means nothing alone.
  if (access !== 'sync' && !throttled && !bulk) return [];
  let bytes = 0;
  for (const f of folders) for (const it of Array.isArray(f('FolderItems')) ? (f('FolderItems') as unknown[]) : []) bytes += isRec(it) ? Number(ciRecord(it)('SizeInBytes')) || 0 : 0;
  const account = lower(get('MailboxOwnerUPN')) ?? userOf(get);
  const ip = cleanIp(get('ClientIPAddress')) ?? ipOf(get);
  return [
    {
      kind: 'data_export',
      account,
      ...actorIfOther(get, account),
      ...(ip ? { ip } : {}),
      details: {
        method: access === 'sync' ? 'mailbox_sync' : 'bulk_access',
        phase: 'completed',
        items,
        ...(bytes ? { bytes } : {}),
        folder: str(folders[0]?.('Path')),
        client: str(get('ClientInfoString')),
        app_id: str(get('AppId')) || str(get('ClientAppId')) || undefined,
        throttled,
      },
    },
  ];
};

const ediscovery: (phase: 'started' | 'completed' | 'downloaded') => Handler = (phase) => (get, p) => {
  const op = str(get('Operation'))!.toLowerCase();
  if (op === 'new-compliancesearchaction' && !p.has('export') && !/export/i.test(str(get('ExtendedProperties')) ?? '')) return [];
  const account = userOf(get);
  const ext = nameValues(get('ExtendedProperties'));
  return [
    {
      kind: 'data_export',
      account,
      ...withIp(get),
      details: {
        method: 'ediscovery',
        phase,
        name: str(get('ExportName')) ?? str(get('ObjectId')) ?? p.get('searchname') ?? str(get('Object1Name')),
        case: str(get('CaseName')) ?? str(get('Case')),
        query: str(get('QueryText')) ?? str(get('Query')),
        destination: ext.get('exportlocation'),
      },
    },
  ];
};

const HANDLERS = new Map<string, Handler>([
  ['userloggedin', signin('success')],
  ['userloginfailed', signin('failure')],
  ['new-inboxrule', inboxRuleCmdlet],
  ['set-inboxrule', inboxRuleCmdlet],
  ['enable-inboxrule', inboxRuleCmdlet],
  ['disable-inboxrule', inboxRuleCmdlet],
  ['remove-inboxrule', inboxRuleCmdlet],
  ['updateinboxrules', updateInboxRules],
  ['set-mailbox', setMailbox],
  ['new-transportrule', transportRule],
  ['set-transportrule', transportRule],
  ['add-mailboxpermission', permission('created', 'user')],
  ['remove-mailboxpermission', permission('removed', 'user')],
  ['add-recipientpermission', permission('created', 'trustee')],
  ['remove-recipientpermission', permission('removed', 'trustee')],
  ['add-mailboxfolderpermission', folderPermission],
  ['consent to application', consent],
  ['add oauth2permissiongrant', consent],
  ['add delegated permission grant', consent],
  ['add app role assignment to service principal', consent],
  ['add member to role', directoryChange('role_granted')],
  ['add eligible member to role', directoryChange('role_granted')],
  ['disable strong authentication', directoryChange('mfa_disabled')],
  ['user registered security info', directoryChange('mfa_method_added')],
  ['admin registered security info', directoryChange('mfa_method_added')],
  ['user deleted security info', directoryChange('mfa_method_removed')],
  ['admin deleted security info', directoryChange('mfa_method_removed')],
  ['reset user password', directoryChange('password_reset')],
  ['reset password', directoryChange('password_reset')],
  ['change user password', directoryChange('password_changed')],
  ['add service principal credentials', directoryChange('credential_added')],
  ['disable account', directoryChange('account_disabled')],
  ['set-adminauditlogconfig', adminAuditLogConfig],
  ['set-mailboxauditbypassassociation', auditBypass],
  ['mailitemsaccessed', mailItemsAccessed],
  ['searchexported', ediscovery('started')],
  ['new-compliancesearchaction', ediscovery('started')],
  ['searchexportdownloaded', ediscovery('downloaded')],
]);

/** Operations this normaliser turns into events (documentation and tests). */
export const WATCHED_OPERATIONS = [...HANDLERS.keys()];

export type { Rec };
