import path from 'node:path';
import cron from 'node-cron';
import { z } from 'zod';
import { CATEGORIES, SEVERITIES } from '../alerts/alert.js';
import { DURATION_PATTERN, parseDuration } from '../clock.js';
import { PROVIDERS } from '../events.js';

/** Connector and receiver names end up in metrics labels, log fields and alert `source`: keep them plain. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]*$/i;

/** Durations stay human strings in YAML (`30s`, `7d`) and become milliseconds in the loaded config. */
export function duration(opts: { positive?: boolean } = {}) {
  return z.string({ error: 'must be a duration with a unit, e.g. 90s, 30m, 24h, 7d' }).transform((text, ctx) => {
    if (!DURATION_PATTERN.test(text)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (write e.g. 90s, 30m, 24h, 7d)` });
      return z.NEVER;
    }
    const ms = parseDuration(text);
    if (opts.positive && ms <= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be longer than zero' });
      return z.NEVER;
    }
    return ms;
  });
}

/** node-cron accepts 5 fields, or 6 with seconds first; anything else would only fail when the scheduler starts. */
export function isCronExpression(expr: string): boolean {
  const fields = expr.trim().split(/\s+/).length;
  return (fields === 5 || fields === 6) && cron.validate(expr);
}

const cronSchema = z.string().superRefine((expr, ctx) => {
  if (!isCronExpression(expr)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${expr}" is not a cron expression (5 fields: minute hour day-of-month month day-of-week, or 6 with seconds first)`,
    });
  }
});

/** Lets users write `severity: high` as well as `severity: [high, critical]`; consumers always get an array. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.preprocess((v) => (v === undefined || Array.isArray(v) ? v : [v]), z.array(item).min(1));
}

const DOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const MAILBOX_PATTERN = /^[^@\s]+@[^@\s]+$/;
const LISTEN_PATTERN = /^(?:\[[0-9a-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/i;

const severity = z.enum(SEVERITIES);

const organisationSchema = z.strictObject({
  name: z.string().trim().min(1),
  domains: z
    .array(z.string().trim().toLowerCase().regex(DOMAIN_PATTERN, 'must be a domain name, e.g. party.example'))
    .default([]),
  locale: z.enum(['en', 'fr']).default('en'),
  sensitive_mailboxes: z
    .array(z.string().trim().toLowerCase().regex(MAILBOX_PATTERN, 'must be a mailbox address, e.g. leader@party.example'))
    .default([]),
});

const matchSchema = z.strictObject({
  severity: oneOrMany(severity).optional(),
  min_severity: severity.optional(),
  category: oneOrMany(z.enum(CATEGORIES)).optional(),
  /** Rule ids; `*` matches any run of characters (`login.*`). */
  rule: oneOrMany(z.string().min(1)).optional(),
  provider: oneOrMany(z.enum(PROVIDERS)).optional(),
  /** Connector instance names. */
  source: oneOrMany(z.string().min(1)).optional(),
});

export const routeSchema = z.strictObject({
  match: matchSchema.optional(),
  receivers: oneOrMany(z.string().min(1)),
  continue: z.boolean().default(false),
});

const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/** An instant with its zone (or a bare date, meaning midnight UTC); milliseconds in the loaded config. */
const instant = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v),
  z.string({ error: 'must be a date-time with its zone, e.g. 2025-04-01T18:00:00Z' }).transform((text, ctx) => {
    const ms = Date.parse(text.trim());
    if (!INSTANT_PATTERN.test(text.trim()) || Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a date-time with its zone (write e.g. 2025-04-01T18:00:00Z or 2025-04-01)` });
      return z.NEVER;
    }
    return ms;
  }),
);

/** Alerts matching a silence are recorded but not sent until `until` (Alertmanager silences, kept in the file). */
export const silenceSchema = z.strictObject({
  match: matchSchema.optional(),
  until: instant,
  note: z.string({ error: 'say why (and who decided), e.g. "planned migration, ticket 42"' }).trim().min(1),
});

const deliverySchema = z
  .strictObject({
    retry_budget: duration({ positive: true }).prefault('72h'),
    initial_backoff: duration({ positive: true }).prefault('10s'),
    max_backoff: duration({ positive: true }).prefault('1h'),
    group_wait: duration().prefault('30s'),
  })
  .superRefine((d, ctx) => {
    if (d.initial_backoff > d.max_backoff) {
      ctx.addIssue({ code: 'custom', path: ['initial_backoff'], message: 'must not be longer than max_backoff' });
    }
  });

const serverSchema = z.strictObject({
  listen: z
    .string()
    .default('127.0.0.1:9464')
    .superRefine((v, ctx) => {
      const m = LISTEN_PATTERN.exec(v);
      if (!m || Number(m[1]) > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not host:port (e.g. 127.0.0.1:9464 or [::1]:9464)` });
      }
    }),
  /** /readyz: a stream whose last success is older than this many schedule intervals is behind. */
  stale_after_intervals: z.int().min(1).max(1000).default(3),
  /** /readyz: the oldest undelivered alert message may be this old before Vigie is unready. */
  max_outbox_age: duration({ positive: true }).prefault('1h'),
});

/** One person behind accounts on several providers: baselines and travel are per person. */
const identitySchema = z.strictObject({
  /** `local_part`: accounts with the same local part on any domain are one person (alice@hq.example = alice@youth.example). */
  match: z.enum(['exact', 'local_part']).default('exact'),
  people: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1).max(200),
        accounts: z.array(z.string().trim().toLowerCase().regex(MAILBOX_PATTERN, 'must be a mailbox address, e.g. alice@party.example')).min(1),
      }),
    )
    .default([]),
});

const CIDR_OR_ASN = /^(?:AS\d{1,10}|[0-9a-f:.]+(?:\/\d{1,3})?)$/i;

const enrichmentSchema = z.strictObject({
  /** City lookups on sign-in addresses (provider geo wins when present). */
  geoip: z.boolean().default(true),
  /** A MaxMind GeoLite2/GeoIP2 City file, or the folder holding one (/usr/share/GeoIP); default: the bundled DB-IP database. */
  geoip_database: z.string().min(1).optional(),
  /** AS number and organisation from the table built with Vigie. */
  asn: z.boolean().default(true),
  /** Folder of the built ASN table (default: dist/asn). */
  asn_dir: z.string().min(1).optional(),
  /** A Tor exit list (one address per line, or the Tor Project's exit-addresses format). */
  tor_exit_list: z.string().min(1).optional(),
});

/** Keys every connector entry has, whatever its type. */
export const connectorCommonShape = {
  name: z.string().regex(NAME_PATTERN, 'must be letters, digits, "-" or "_", starting with a letter or digit'),
  type: z.string(),
  enabled: z.boolean().default(true),
  schedule: cronSchema.default('*/5 * * * *'),
  backfill: duration().prefault('7d'),
  /** Left undefined so that each connector applies the overlap its provider API needs. */
  overlap: duration().optional(),
};

/** Keys every receiver entry has, whatever its type. */
export const receiverCommonShape = {
  name: connectorCommonShape.name,
  type: z.string(),
  timeout: duration({ positive: true }).prefault('10s'),
};

/**
 * The sections of the file. Connectors and receivers are checked one entry at a time by the loader,
 * because their keys depend on their `type`. Paths are resolved against the config file's folder here,
 * so that no consumer has to remember to.
 */
export function configSchema(where: { baseDir: string; cwd: string }) {
  const resolvePath = (p: string) => path.resolve(where.baseDir, p);
  const filePath = z.string().min(1).transform(resolvePath);
  return z.strictObject({
    organisation: organisationSchema,
    state: z
      .strictObject({
        path: z
          .string()
          .min(1)
          .transform((p) => (p === ':memory:' ? p : resolvePath(p)))
          .default(path.join(where.cwd, 'data', 'vigie.db')),
        seen_ttl: duration({ positive: true }).prefault('30d'),
        history_days: z.int().positive().default(90),
      })
      .prefault({}),
    connectors: z.array(z.unknown()).default([]),
    rules: z
      .strictObject({
        overlays: z.array(filePath).default([]),
        dir: filePath.optional(),
      })
      .prefault({}),
    receivers: z.array(z.unknown()).default([]),
    routes: z.array(routeSchema).default([]),
    // Optional rather than defaulted: a config without silences loads exactly as before.
    silences: z.array(silenceSchema).optional(),
    identity: identitySchema.prefault({}),
    /** Office, party VPN: CIDRs, addresses or `AS<number>`. Their sign-ins say nothing about travel. */
    trusted_networks: z.array(z.string().trim().regex(CIDR_OR_ASN, 'must be an address, a CIDR range or AS<number>')).default([]),
    enrichment: enrichmentSchema
      .transform((e) => ({
        ...e,
        ...(e.geoip_database ? { geoip_database: resolvePath(e.geoip_database) } : {}),
        ...(e.asn_dir ? { asn_dir: resolvePath(e.asn_dir) } : {}),
        ...(e.tor_exit_list ? { tor_exit_list: resolvePath(e.tor_exit_list) } : {}),
      }))
      .prefault({}),
    delivery: deliverySchema.prefault({}),
    server: serverSchema.prefault({}),
  });
}

type Sections = z.output<ReturnType<typeof configSchema>>;

export type OrganisationConfig = Sections['organisation'];
export type StateConfig = Sections['state'];
export type RulesConfig = Sections['rules'];
export type RouteConfig = z.output<typeof routeSchema>;
export type RouteMatch = NonNullable<RouteConfig['match']>;
export type DeliveryConfig = Sections['delivery'];
export type SilenceConfig = NonNullable<Sections['silences']>[number];
export type ServerConfig = Sections['server'];
export type IdentityConfig = Sections['identity'];
export type EnrichmentConfig = Sections['enrichment'];

export interface ConnectorConfig {
  name: string;
  type: string;
  enabled: boolean;
  schedule: string;
  /** Milliseconds. */
  backfill: number;
  /** Milliseconds; undefined means the connector's own default. */
  overlap?: number;
  /** Type-specific keys, as the connector type's schema outputs them. */
  [key: string]: unknown;
}

export interface ReceiverConfig {
  name: string;
  type: string;
  /** Milliseconds. */
  timeout: number;
  [key: string]: unknown;
}

export interface VigieConfig {
  /** Absolute path of the loaded file; undefined for the built-in default. */
  file: string | undefined;
  /** Folder that relative paths in the config are relative to. */
  baseDir: string;
  /** Problems that do not stop Vigie (a secret file other users can read); logged at startup. */
  warnings?: string[];
  organisation: OrganisationConfig;
  state: StateConfig;
  connectors: ConnectorConfig[];
  rules: RulesConfig;
  receivers: ReceiverConfig[];
  /** Empty means: every alert goes to every receiver. */
  routes: RouteConfig[];
  /** Alerts matching one are recorded but not queued (see src/alerts/silences.ts). */
  silences?: SilenceConfig[];
  delivery: DeliveryConfig;
  server: ServerConfig;
  /** Accounts → person (src/enrich/identity.ts). */
  identity: IdentityConfig;
  trusted_networks: string[];
  enrichment: EnrichmentConfig;
}
