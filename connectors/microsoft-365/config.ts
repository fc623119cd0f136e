import { z } from 'zod';
import { isCronExpression, duration } from '../../src/config/schema.js';

/** Every stream of the connector; `streams:` in the config picks among them (default all). */
export const MICROSOFT_365_STREAMS = [
  'audit-azure-ad',
  'audit-exchange',
  'audit-general',
  'signins',
  'directory-audits',
  'risk-detections',
  'inbox-rules',
] as const;
export type Microsoft365StreamName = (typeof MICROSOFT_365_STREAMS)[number];

const mailbox = z.string().trim().toLowerCase().regex(/^[^@\s]+@[^@\s]+$/, 'must be a mailbox address, e.g. leader@party.example');
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https:// URL' }).transform((u) => u.replace(/\/+$/, ''));

const streamOptions = z.strictObject({
  schedule: z
    .string()
    .refine(isCronExpression, { message: 'is not a cron expression (5 fields, or 6 with seconds first)' })
    .optional(),
  overlap: duration().optional(),
});

/**
 * Type-specific keys of a `microsoft-365` connector (the loader adds name, type, enabled, schedule,
 * backfill, overlap and resolves `client_secret_file` / `certificate_password_file`).
 */
export const microsoft365ConnectorSchema = z
  .object({
    tenant_id: z.string().trim().min(1),
    client_id: z.string().trim().min(1),
    client_secret: z.string().min(1).optional(),
    /** PEM file holding the private key and the certificate; relative to the config file. */
    certificate_file: z.string().min(1).optional(),
    certificate_password: z.string().min(1).optional(),
    cloud: z.enum(['global']).default('global'),
    /** Your tenant GUID, sent as PublisherIdentifier for a dedicated Management API quota. */
    publisher_id: z.string().trim().min(1).optional(),
    streams: z.array(z.enum(MICROSOFT_365_STREAMS)).min(1).optional(),
    /** Which mailboxes the inbox-rule snapshot reads. */
    mailboxes: z.union([z.literal('all'), z.array(mailbox).min(1), z.strictObject({ exclude: z.array(mailbox).min(1) })]).default('all'),
    /** Per-stream schedule and overlap, overriding the connector's. */
    stream_options: z.partialRecord(z.enum(MICROSOFT_365_STREAMS), streamOptions).optional(),
    /** A MailItemsAccessed record touching this many items is reported as bulk access. */
    bulk_access_items: z.number().int().positive().default(100),
    /** For tests and sovereign-cloud experiments only. */
    base_urls: z
      .strictObject({ login: httpsUrl.optional(), graph: httpsUrl.optional(), manage: httpsUrl.optional() })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const both = c.client_secret !== undefined && c.certificate_file !== undefined;
    if (both) ctx.addIssue({ code: 'custom', path: ['certificate_file'], message: 'give either client_secret or certificate_file, not both' });
    if (c.client_secret === undefined && c.certificate_file === undefined) {
      ctx.addIssue({ code: 'custom', path: ['client_secret'], message: 'give client_secret (or client_secret_file) or certificate_file' });
    }
    if (c.certificate_password !== undefined && c.certificate_file === undefined) {
      ctx.addIssue({ code: 'custom', path: ['certificate_password'], message: 'only makes sense with certificate_file' });
    }
  });

export const microsoft365Secrets = ['client_secret', 'certificate_password'];

export type Microsoft365Config = z.infer<typeof microsoft365ConnectorSchema> & {
  name: string;
  /** Common keys the loader adds. */
  backfill?: number;
  overlap?: number;
  schedule?: string;
};

export const GLOBAL_BASE_URLS = {
  login: 'https://login.microsoftonline.com',
  graph: 'https://graph.microsoft.com',
  manage: 'https://manage.office.com',
};

/** Default overlap per stream (DESIGN §4): Graph 30 min, Management API 24 h of listing. */
export const DEFAULT_OVERLAP_MS: Record<Microsoft365StreamName, number> = {
  'audit-azure-ad': 24 * 3_600_000,
  'audit-exchange': 24 * 3_600_000,
  'audit-general': 24 * 3_600_000,
  signins: 30 * 60_000,
  'directory-audits': 30 * 60_000,
  'risk-detections': 6 * 3_600_000,
  'inbox-rules': 0,
};

/** The schedule of one stream when the config sets one for it (app.ts uses it over the connector's). */
export function microsoft365StreamSchedule(cfg: Pick<Microsoft365Config, 'stream_options'>, stream: string): string | undefined {
  return cfg.stream_options?.[stream as Microsoft365StreamName]?.schedule;
}

/** A stream's overlap: its own option, then the connector's `overlap`, then the API default. */
export function streamOverlapMs(cfg: Pick<Microsoft365Config, 'stream_options'>, stream: Microsoft365StreamName, ctxOverlapMs: number): number {
  return cfg.stream_options?.[stream]?.overlap ?? (ctxOverlapMs > 0 ? ctxOverlapMs : DEFAULT_OVERLAP_MS[stream]);
}
