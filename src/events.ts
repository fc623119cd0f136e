import { z } from 'zod';

/** The one internal model (DESIGN §3). Connectors produce these; rules only ever see these. */
export const EVENT_KINDS = [
  'signin',
  'provider_alert',
  'mailbox_rule',
  'mailbox_forwarding',
  'mailbox_permission',
  'app_consent',
  'account_change',
  'data_export',
  'mail_activity',
  'monitor',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const PROVIDERS = ['microsoft-365', 'google-workspace', 'imap', 'vigie'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const CHANGES = ['created', 'updated', 'removed', 'present'] as const;
export type Change = (typeof CHANGES)[number];

export interface Geo {
  country?: string;
  city?: string;
  lat?: number;
  lon?: number;
  source?: 'provider' | 'geoip' | 'event';
}

export interface Network {
  asn?: number;
  org?: string;
  hosting?: boolean;
  anonymizer?: boolean;
  mobile?: boolean;
  trusted?: boolean;
  /** Set by enrichment: a Tor exit, a commercial VPN's network. */
  tor?: boolean;
  vpn?: boolean;
  /** Set by enrichment: `tor`, `vpn` or `hosting` when the sign-in came through one (and not a trusted network). */
  via?: string;
  /** Set by enrichment: `AS<number>`, for display. */
  as_label?: string;
}

export interface VigieEvent {
  /** Stable across re-delivery: `<provider>:<stream>:<provider record id>`. */
  id: string;
  kind: EventKind;
  /** ISO-8601 UTC, provider time. */
  time: string;
  provider: Provider;
  /** The connector instance name from the config. */
  source: string;
  /** Lower-cased mailbox address the event is about. */
  account: string;
  actor?: string;
  person?: string;
  ip?: string;
  geo?: Geo;
  network?: Network;
  outcome?: 'success' | 'failure';
  details: Record<string, unknown>;
  /** The provider record, kept for evidence in memory and never stored. */
  raw?: unknown;
}

const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { message: 'not an ISO-8601 time' })
  .transform((s) => new Date(Date.parse(s)).toISOString());

export const eventSchema = z
  .object({
    id: z.string().min(1).max(1024),
    kind: z.enum(EVENT_KINDS),
    time: isoTime,
    provider: z.enum(PROVIDERS),
    source: z.string().min(1).max(256),
    account: z
      .string()
      .max(512)
      .transform((s) => s.toLowerCase()),
    actor: z.string().max(1024).optional(),
    person: z.string().max(512).optional(),
    ip: z.string().max(64).optional(),
    geo: z
      .object({
        country: z.string().max(64).optional(),
        city: z.string().max(256).optional(),
        lat: z.number().min(-90).max(90).optional(),
        lon: z.number().min(-180).max(180).optional(),
        source: z.enum(['provider', 'geoip', 'event']).optional(),
      })
      .strict()
      .optional(),
    network: z
      .object({
        asn: z.number().int().nonnegative().optional(),
        org: z.string().max(512).optional(),
        hosting: z.boolean().optional(),
        anonymizer: z.boolean().optional(),
        mobile: z.boolean().optional(),
        trusted: z.boolean().optional(),
        tor: z.boolean().optional(),
        vpn: z.boolean().optional(),
        via: z.enum(['tor', 'vpn', 'hosting']).optional(),
        as_label: z.string().max(16).optional(),
      })
      .strict()
      .optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    details: z.record(z.string(), z.unknown()).default({}),
    raw: z.unknown().optional(),
  })
  .strict();

export type EventParseResult = { ok: true; event: VigieEvent } | { ok: false; error: string };

/** Validates one record that claims to be a VigieEvent (file connector, replay). */
export function parseEvent(input: unknown): EventParseResult {
  const r = eventSchema.safeParse(input);
  if (r.success) return { ok: true, event: r.data as VigieEvent };
  const first = r.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  return { ok: false, error: first.join('; ') };
}

/** True when a record has the shape of a VigieEvent (used for format detection, not validation). */
export function looksLikeEvent(x: unknown): boolean {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return typeof o.id === 'string' && typeof o.kind === 'string' && typeof o.provider === 'string' && 'time' in o;
}

/** Reads a dotted path (`details.external_targets`, `geo.country`) out of an event. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function eventTimeMs(e: Pick<VigieEvent, 'time'>): number {
  return Date.parse(e.time);
}

/** The mail domain of an address, lower-cased, or undefined. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return undefined;
  return address.slice(at + 1).toLowerCase();
}
