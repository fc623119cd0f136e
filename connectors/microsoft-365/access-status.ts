import { createHash } from 'node:crypto';
import type { VigieEvent } from '../../src/events.js';
import { HttpError } from '../../src/http/http-error.js';
import type { Microsoft365StreamName } from './config.js';

/**
 * A stream the tenant does not allow (no Entra P1, a permission not granted, unified audit off) is
 * not a failure to retry every five minutes: it becomes one `monitor` event that names what is
 * missing, and the stream rests until the config changes (or a day passes: licences get bought).
 * The other streams, above all the free audit-log path, keep going.
 */
export interface UnavailableRecord {
  '@vigie': 'source_unavailable' | 'data_gap';
  stream: Microsoft365StreamName;
  reason: 'licence_missing' | 'access_lost' | 'data_gap';
  missing: string;
  message: string;
  status?: number;
  provider_code?: string;
  at: string;
  config: string;
}

export interface SkipMark {
  reason: UnavailableRecord['reason'];
  config: string;
  at: number;
}

export const RECHECK_MS = 24 * 3_600_000;

const P1 = 'a Microsoft Entra ID P1 or P2 licence (included in Business Premium, E3 and E5)';

const PERMISSION: Record<Microsoft365StreamName, string> = {
  'audit-azure-ad': 'the ActivityFeed.Read application permission (Office 365 Management APIs) with admin consent, and unified audit logging turned on',
  'audit-exchange': 'the ActivityFeed.Read application permission (Office 365 Management APIs) with admin consent, and unified audit logging turned on',
  'audit-general': 'the ActivityFeed.Read application permission (Office 365 Management APIs) with admin consent, and unified audit logging turned on',
  signins: 'the AuditLog.Read.All application permission (Microsoft Graph) with admin consent',
  'directory-audits': 'the AuditLog.Read.All application permission (Microsoft Graph) with admin consent',
  'risk-detections': 'the IdentityRiskEvent.Read.All application permission (Microsoft Graph) with admin consent',
  'inbox-rules': 'the MailboxSettings.Read application permission (Microsoft Graph) with admin consent',
};

/** True for an answer that means "not allowed", as opposed to "failed": only 403s. */
export function isAccessDenied(err: unknown): err is HttpError {
  return err instanceof HttpError && err.status === 403;
}

export function whatIsMissing(stream: Microsoft365StreamName, err: HttpError, what?: string): { reason: UnavailableRecord['reason']; missing: string } {
  if (err.code === 'SOURCE_LICENCE') return { reason: 'licence_missing', missing: P1 };
  return { reason: 'access_lost', missing: what ?? PERMISSION[stream] };
}

export function unavailableRecord(stream: Microsoft365StreamName, err: HttpError, at: number, config: string, what?: string): UnavailableRecord {
  const m = whatIsMissing(stream, err, what);
  return {
    '@vigie': 'source_unavailable',
    stream,
    ...m,
    message: err.message,
    ...(err.status !== undefined ? { status: err.status } : {}),
    ...(err.providerCode ? { provider_code: err.providerCode } : {}),
    at: new Date(at).toISOString(),
    config,
  };
}

export function isUnavailableRecord(r: unknown): r is UnavailableRecord {
  return typeof r === 'object' && r !== null && ((r as Record<string, unknown>)['@vigie'] === 'source_unavailable' || (r as Record<string, unknown>)['@vigie'] === 'data_gap');
}

/** One event per (stream, reason, config): the dedupe makes a re-check that fails again silent. */
export function normalizeUnavailable(r: UnavailableRecord, source: string): VigieEvent[] {
  const text =
    r.reason === 'data_gap'
      ? r.message
      : `The ${r.stream} stream is skipped: it needs ${r.missing}. The other streams keep running.`;
  return [
    {
      id: `microsoft-365:${r.stream}:${r.reason}:${r.reason === 'data_gap' ? createHash('sha256').update(r.message).digest('hex').slice(0, 16) : r.config}`,
      kind: 'monitor',
      time: r.at,
      provider: 'microsoft-365',
      source,
      account: '',
      details: {
        type: r.reason,
        stream: r.stream,
        missing: r.missing,
        description: text,
        error: r.message,
        ...(r.status !== undefined ? { status: r.status } : {}),
        ...(r.provider_code ? { provider_code: r.provider_code } : {}),
      },
    },
  ];
}

/** Whether a stream marked unavailable should still rest. */
export function stillResting(mark: SkipMark | undefined, config: string, now: number): boolean {
  return mark !== undefined && mark.config === config && now - mark.at < RECHECK_MS;
}

/** A short hash of the settings that decide what a stream may read: a change re-opens skipped streams. */
export function configHash(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}
