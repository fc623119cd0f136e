import cron from 'node-cron';
import { z } from 'zod';

/** The narrowest read-only scope of each API (docs/google-workspace.md lists them for domain-wide delegation). */
export const SCOPES = {
  reports: 'https://www.googleapis.com/auth/admin.reports.audit.readonly',
  directory: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  alerts: 'https://www.googleapis.com/auth/apps.alerts',
  // No read-only scope lists filters: this one can also write them (see the docs' trade-off).
  gmailSettings: 'https://www.googleapis.com/auth/gmail.settings.basic',
} as const;

/** Reports API applications read by default: the ones that carry takeover and export signals. */
export const DEFAULT_APPLICATIONS = ['login', 'user_accounts', 'token', 'admin', 'takeout', 'vault'] as const;

/** Google delivers Reports events late (token "up to a few hours"): DESIGN §4 default overlap. */
export const GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS = 3 * 3_600_000;

const APPLICATION = /^[a-z][a-z0-9_]{1,40}$/;

const cronExpr = z.string().refine((e) => [5, 6].includes(e.trim().split(/\s+/).length) && cron.validate(e), {
  message: 'not a cron expression (5 fields, or 6 with seconds first)',
});

/**
 * A base URL is only for tests and the demo: anything but https must stay on this machine, so a
 * typo can never send a bearer token over plain http.
 */
const baseUrl = z.url().refine(
  (u) => {
    const url = new URL(u);
    return url.protocol === 'https:' || (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
  },
  { message: 'must be https, or http on 127.0.0.1/localhost (a local fake)' },
);

/** Type-specific keys of a `google-workspace` connector (common keys are added by the loader). */
export const googleWorkspaceConnectorSchema = z.object({
  /** Service-account JSON key with domain-wide delegation; relative to the config file. */
  service_account_file: z.string().min(1),
  /** The admin impersonated for Reports, Directory and Alert Center. */
  admin_subject: z.email(),
  customer: z.string().regex(/^(my_customer|C?[A-Za-z0-9]+)$/, 'my_customer or a customer id such as C01abc2de').default('my_customer'),
  applications: z.array(z.string().regex(APPLICATION, 'a Reports API application name such as login')).min(1).default([...DEFAULT_APPLICATIONS]),
  /** Reads every user's forwarding, filters and delegates; needs gmail.settings.basic, which can also write. */
  gmail_settings: z.boolean().default(false),
  alert_center: z.boolean().default(true),
  /** Per-stream cron overrides of the connector's `schedule` (a Gmail settings sweep is heavier than a log poll). */
  schedules: z
    .strictObject({ reports: cronExpr.optional(), alert_center: cronExpr.optional(), gmail_settings: cronExpr.optional() })
    .default({}),
  /** Root URL of every Google API (tests and the demo point it at the local fake). */
  base_url: baseUrl.optional(),
});

export type GoogleWorkspaceConfig = z.infer<typeof googleWorkspaceConnectorSchema> & { name: string };

/** The key is a file path, read by the connector, so no key is a secret value in the config itself. */
export const googleWorkspaceSecrets: string[] = [];

export type StreamGroup = 'reports' | 'alert_center' | 'gmail_settings';

/** Which `schedules` entry applies to a stream of this connector. */
export function streamGroup(streamName: string): StreamGroup {
  if (streamName === 'alert-center') return 'alert_center';
  if (streamName === 'gmail-settings') return 'gmail_settings';
  return 'reports';
}

/** The cron a stream runs on: its `schedules` override, else the connector's `schedule`. */
export function googleWorkspaceStreamSchedule(cfg: Pick<GoogleWorkspaceConfig, 'schedules'>, streamName: string, fallback: string): string {
  return cfg.schedules?.[streamGroup(streamName)] ?? fallback;
}
