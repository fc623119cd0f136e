import { VigieError } from '../../src/errors.js';
import type { VigieEvent } from '../../src/events.js';

/** The parts of an Alert Center alert that Vigie reads. */
export interface CenterAlert {
  alertId?: string;
  customerId?: string;
  createTime?: string;
  startTime?: string;
  type?: string;
  source?: string;
  data?: Record<string, unknown>;
  metadata?: { status?: string; severity?: string };
  deleted?: boolean;
}

/** Alert Center types that are the same verdict as a Reports event get the same name, so rules treat them alike. */
const SAME_AS_REPORTS: Record<string, string> = {
  'government attack warning': 'google.gov_attack_warning',
  'suspicious login': 'google.suspicious_login',
  'suspicious login (less secure app)': 'google.suspicious_login_less_secure_app',
  'suspicious programmatic login': 'google.suspicious_programmatic_login',
  'user suspended (suspicious activity)': 'google.account_disabled_hijacked',
};

const CRITICAL = new Set(['google.gov_attack_warning', 'google.account_disabled_hijacked']);

export function looksLikeCenterAlert(x: unknown): boolean {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as CenterAlert;
  return typeof o.alertId === 'string' && typeof o.type === 'string' && typeof o.source === 'string';
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '')
    .slice(0, 80);
}

function text(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}

/** The affected user and address, wherever the alert's data type keeps them. */
function affected(data: Record<string, unknown>): { account?: string; ip?: string } {
  const login = data.loginDetails as Record<string, unknown> | undefined;
  const account = text(data.email) ?? text(data.affectedUserEmail) ?? text(data.userEmail) ?? text(data.email_address);
  const ip = text(login?.ipAddress) ?? text(data.ipAddress);
  const messages = Array.isArray(data.messages) ? (data.messages as Record<string, unknown>[]) : [];
  const recipient = messages.map((m) => text(m.recipient)).find(Boolean);
  return { ...((account ?? recipient) && { account: (account ?? recipient)! }), ...(ip && { ip }) };
}

/** One Alert Center alert → one provider_alert event; `source` is the connector instance name. */
export function normalizeCenterAlert(alert: CenterAlert, source: string): VigieEvent[] {
  if (!looksLikeCenterAlert(alert)) throw new VigieError('INPUT_INVALID', 'Alert Center alert needs alertId, type and source');
  if (alert.deleted) return [];
  const rawTime = alert.startTime ?? alert.createTime;
  const ms = rawTime ? Date.parse(rawTime) : NaN;
  if (!Number.isFinite(ms)) throw new VigieError('INPUT_INVALID', `Alert Center alert ${alert.alertId!.slice(0, 64)} has no readable time`);
  const type = alert.type!;
  const name = SAME_AS_REPORTS[type.toLowerCase()] ?? `google.alert.${slug(type)}`;
  const data = alert.data && typeof alert.data === 'object' ? alert.data : {};
  const who = affected(data);
  const sev = (alert.metadata?.severity ?? '').toLowerCase();
  const details: Record<string, unknown> = {
    name,
    severity_hint: CRITICAL.has(name) ? 'critical' : ['high', 'medium', 'low'].includes(sev) ? sev : 'medium',
    description: `Google Alert Center: ${type} (${alert.source})`,
    source: 'alert_center',
    alert_type: type,
    alert_source: alert.source,
    alert_id: alert.alertId,
  };
  if (typeof data['@type'] === 'string') details.data_type = String(data['@type']).split('.').pop();
  if (alert.metadata?.status) details.status = alert.metadata.status;
  const event: VigieEvent = {
    id: `google-workspace:alert-center:${alert.alertId}`,
    kind: 'provider_alert',
    time: new Date(ms).toISOString(),
    provider: 'google-workspace',
    source,
    account: (who.account ?? '').toLowerCase(),
    details,
    raw: alert,
  };
  if (who.ip) event.ip = who.ip;
  return [event];
}
