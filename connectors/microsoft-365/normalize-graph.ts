import type { Geo, VigieEvent } from '../../src/events.js';
import { bool, cleanIp, consentScopes, decodeValue, isoTime, isRec, lower, str, type Rec } from './record-access.js';
import { isLegacyClientApp, signinClient } from './signin-client.js';

/**
 * Microsoft Graph objects → VigieEvents (shared/reference/provider-apis.md §A). Pure. Provider geo
 * and risk fields are kept: they are what a premium licence buys.
 */

const rec = (v: unknown): Rec => (isRec(v) ? v : {});

function requireId(r: Rec): string {
  const id = str(r.id);
  if (!id) throw new Error('the Graph object has no id');
  return id;
}

function graphGeo(location: unknown): Geo | undefined {
  const l = rec(location);
  const c = rec(l.geoCoordinates);
  const lat = typeof c.latitude === 'number' ? c.latitude : undefined;
  const lon = typeof c.longitude === 'number' ? c.longitude : undefined;
  const country = str(l.countryOrRegion)?.toUpperCase();
  const city = str(l.city);
  if (!country && !city && lat === undefined) return undefined;
  return {
    ...(country ? { country } : {}),
    ...(city ? { city } : {}),
    ...(lat !== undefined && lon !== undefined && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 ? { lat, lon } : {}),
    source: 'provider',
  };
}

const HIDDEN_RISK = new Set(['none', 'hidden', 'unknownfuturevalue', '']);

/** `GET /auditLogs/signIns` objects, also the `properties` of Azure Monitor sign-in exports. */
export function normalizeGraphSignIn(record: unknown, source: string): VigieEvent[] {
  const r = rec(record);
  const id = requireId(r);
  const status = rec(r.status);
  const errorCode = Number(status.errorCode ?? 0);
  const clientApp = str(r.clientAppUsed) ?? '';
  const ua = str(r.userAgent);
  const riskLevel = (str(r.riskLevelDuringSignIn) ?? str(r.riskLevelAggregated) ?? '').toLowerCase();
  const signals = Array.isArray(r.riskEventTypes_v2) ? r.riskEventTypes_v2.filter((s): s is string => typeof s === 'string') : [];
  const ip = cleanIp(r.ipAddress);
  const geo = graphGeo(r.location);
  const device = rec(r.deviceDetail);
  return [
    {
      id: `microsoft-365:signins:${id.toLowerCase()}`,
      kind: 'signin',
      time: isoTime(r.createdDateTime),
      provider: 'microsoft-365',
      source,
      account: lower(r.userPrincipalName) ?? '',
      ...(ip ? { ip } : {}),
      ...(geo ? { geo } : {}),
      outcome: errorCode === 0 ? 'success' : 'failure',
      details: {
        client: signinClient({ clientAppUsed: clientApp, ...(ua ? { userAgent: ua } : {}) }),
        legacy_auth: isLegacyClientApp(clientApp) || /BAV2ROPC/i.test(ua ?? ''),
        user_agent: ua ?? ([str(device.browser), str(device.operatingSystem)].filter(Boolean).join(' ') || undefined),
        interactive: typeof r.isInteractive === 'boolean' ? r.isInteractive : undefined,
        mfa: str(r.authenticationRequirement) ? str(r.authenticationRequirement) === 'multiFactorAuthentication' : undefined,
        ...(errorCode !== 0 ? { failure_reason: `${str(status.failureReason) ?? 'failed'} (AADSTS${errorCode})` } : {}),
        ...(!HIDDEN_RISK.has(riskLevel) || signals.length ? { provider_risk: { level: HIDDEN_RISK.has(riskLevel) ? undefined : riskLevel, signals } } : {}),
        client_app: clientApp || undefined,
        app: str(r.appDisplayName),
        conditional_access: str(r.conditionalAccessStatus),
      },
      raw: record,
    },
  ];
}

const DIRECTORY_CHANGES: Record<string, string> = {
  'add member to role': 'role_granted',
  'add eligible member to role': 'role_granted',
  'add scoped member to role': 'role_granted',
  'disable strong authentication': 'mfa_disabled',
  'user registered security info': 'mfa_method_added',
  'admin registered security info': 'mfa_method_added',
  'user deleted security info': 'mfa_method_removed',
  'admin deleted security info': 'mfa_method_removed',
  'reset password': 'password_reset',
  'reset user password': 'password_reset',
  'change user password': 'password_changed',
  'add service principal credentials': 'credential_added',
  'update application - certificates and secrets management': 'credential_added',
  'disable account': 'account_disabled',
};

const CONSENTS = new Set(['consent to application', 'add delegated permission grant', 'add oauth2permissiongrant', 'add app role assignment to service principal']);

/** `GET /auditLogs/directoryAudits` objects. Activities Vigie does not watch give no event. */
export function normalizeGraphDirectoryAudit(record: unknown, source: string): VigieEvent[] {
  const r = rec(record);
  const id = requireId(r);
  const activity = (str(r.activityDisplayName) ?? '').trim().replace(/\.$/, '').toLowerCase();
  const by = rec(rec(r.initiatedBy).user);
  const byApp = rec(rec(r.initiatedBy).app);
  const actor = lower(by.userPrincipalName) ?? str(byApp.displayName);
  const ip = cleanIp(by.ipAddress);
  const targets = Array.isArray(r.targetResources) ? r.targetResources.map(rec) : [];
  const first = targets[0] ?? {};
  const props = new Map<string, string>();
  for (const t of targets) {
    for (const p of Array.isArray(t.modifiedProperties) ? t.modifiedProperties.map(rec) : []) {
      const name = str(p.displayName)?.toLowerCase();
      if (name && !props.has(name)) props.set(name, decodeValue(p.newValue));
    }
  }
  const base = {
    time: isoTime(r.activityDateTime),
    provider: 'microsoft-365' as const,
    source,
    ...(ip ? { ip } : {}),
    outcome: str(r.result) === 'success' ? ('success' as const) : ('failure' as const),
    raw: record,
  };
  const eventId = `microsoft-365:directory-audits:${id}`;
  if (CONSENTS.has(activity)) {
    const scopes = [
      ...consentScopes(props.get('consentaction.permissions') ?? ''),
      ...(props.get('delegatedpermissiongrant.scope') ?? '').split(/\s+/).filter(Boolean),
      ...(props.get('approle.value') ? [props.get('approle.value')!] : []),
    ];
    return [
      {
        ...base,
        id: eventId,
        kind: 'app_consent',
        account: lower(by.userPrincipalName) ?? '',
        details: {
          app_id: (props.get('targetid.serviceprincipalnames') ?? '').split(/[;,]/)[0]?.trim() || (str(first.id) ?? ''),
          app_name: str(first.displayName) ?? '',
          scopes: [...new Set(scopes)],
          admin_consent: activity.startsWith('add app role assignment') || bool(props.get('consentcontext.isadminconsent')) === true,
          all_users: bool(props.get('consentcontext.onbehalfofall')) === true || /allprincipals/i.test(props.get('delegatedpermissiongrant.consenttype') ?? ''),
          operation: str(r.activityDisplayName),
        },
      },
    ];
  }
  const change = DIRECTORY_CHANGES[activity];
  if (!change) return [];
  const userTarget = targets.find((t) => str(t.userPrincipalName));
  const target = lower(userTarget?.userPrincipalName) ?? str(first.displayName) ?? str(first.id) ?? '';
  const account = change === 'credential_added' ? actor ?? '' : lower(userTarget?.userPrincipalName) ?? actor ?? '';
  return [
    {
      ...base,
      id: eventId,
      kind: 'account_change',
      account,
      ...(actor && actor !== account ? { actor } : {}),
      details: { change, target, detail: props.get('role.displayname') ?? str(r.activityDisplayName) },
    },
  ];
}

/** `GET /identityProtection/riskDetections`: Microsoft's own verdict, relayed. */
export function normalizeGraphRiskDetection(record: unknown, source: string): VigieEvent[] {
  const r = rec(record);
  const id = requireId(r);
  const type = str(r.riskEventType) ?? 'generic';
  const ip = cleanIp(r.ipAddress);
  const geo = graphGeo(r.location);
  return [
    {
      id: `microsoft-365:risk-detections:${id}`,
      kind: 'provider_alert',
      time: isoTime(r.activityDateTime ?? r.detectedDateTime),
      provider: 'microsoft-365',
      source,
      account: lower(r.userPrincipalName) ?? '',
      ...(ip ? { ip } : {}),
      ...(geo ? { geo } : {}),
      details: {
        name: `entra.risk.${type}`,
        severity_hint: str(r.riskLevel),
        description: `Microsoft Entra ID Protection detected ${type} (${str(r.detectionTimingType) ?? 'unknown timing'}, state ${str(r.riskState) ?? 'unknown'}).`,
        risk_state: str(r.riskState),
        detected_at: str(r.detectedDateTime),
      },
      raw: record,
    },
  ];
}

function recipients(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.map((x) => lower(rec(rec(x).emailAddress).address)).filter((a): a is string => a !== undefined);
}

/**
 * One Graph `messageRule` as the `event` of a snapshot object (no id, no change: the core diffs).
 * `account` is the mailbox the rule lives in.
 */
export function messageRuleEvent(record: unknown, account: string, source: string, time: string): Omit<VigieEvent, 'id'> {
  const r = rec(record);
  const id = requireId(r);
  const a = rec(r.actions);
  const conditions = Object.fromEntries(Object.entries(rec(r.conditions)).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0)));
  return {
    kind: 'mailbox_rule',
    time,
    provider: 'microsoft-365',
    source,
    account: account.toLowerCase(),
    details: {
      mechanism: 'exchange_inbox_rule',
      rule_id: id,
      name: str(r.displayName),
      enabled: r.isEnabled !== false,
      forward_to: recipients(a.forwardTo),
      redirect_to: recipients(a.redirectTo),
      forward_as_attachment_to: recipients(a.forwardAsAttachmentTo),
      delete: a.delete === true || a.permanentDelete === true,
      ...(a.permanentDelete === true ? { permanent_delete: true } : {}),
      ...(str(a.moveToFolder) ? { move_to_folder: str(a.moveToFolder) } : {}),
      mark_as_read: a.markAsRead === true,
      stop_processing: a.stopProcessingRules === true,
      conditions,
      ...(r.hasError === true ? { has_error: true } : {}),
      sequence: typeof r.sequence === 'number' ? r.sequence : undefined,
    },
  };
}

/**
 * A messageRule read from a file (replay): its mailbox is unknown unless the exporter added one
 * (`mailbox` or `userPrincipalName`), and it is reported as present state.
 */
export function normalizeGraphMessageRule(record: unknown, source: string, now: string): VigieEvent[] {
  const r = rec(record);
  const account = lower(r.mailbox) ?? lower(r.userPrincipalName) ?? '';
  const e = messageRuleEvent(record, account, source, now);
  return [{ ...e, id: `microsoft-365:inbox-rules:${account}:${requireId(r)}`, details: { ...e.details, change: 'present' }, raw: record }];
}
