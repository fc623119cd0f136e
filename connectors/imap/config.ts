import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { duration } from '../../src/config/schema.js';
import { parseCidr } from '../../src/engine/cidr.js';
import { VigieError } from '../../src/errors.js';

/** `true`: implicit TLS from the first byte; `'starttls'`: upgrade a plain connection; `false`: plain text. */
export const tlsModeSchema = z.union([z.boolean(), z.literal('starttls')], { error: 'must be true, false or "starttls"' });
export type TlsMode = z.infer<typeof tlsModeSchema>;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const passwordSources = (o: { password?: string | undefined; password_file?: string | undefined }) =>
  (o.password !== undefined ? 1 : 0) + (o.password_file !== undefined ? 1 : 0);

/**
 * One mailbox with its own (app) password. The config loader resolves `<key>_file` only at the top
 * level of a component, so per-account password files are read by `resolveAccounts`.
 */
const ownAccountSchema = z
  .object({
    user: z.string().min(1),
    password: z.string().min(1).optional(),
    password_file: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => passwordSources(a) === 1, { message: 'give exactly one of "password" or "password_file"' });

const masterUserSchema = z
  .object({
    user: z.string().min(1),
    /** Read relative to the config file. Or set the connector's top-level `password` / `password_file`. */
    password_file: z.string().min(1).optional(),
    separator: z.string().min(1).max(8).default('*'),
  })
  .strict();

/** Type-specific keys of a connector of `type: imap` (the loader adds name, type, enabled, schedule, backfill, overlap). */
export const imapConnectorSchema = z
  .object({
    host: z.string().min(1),
    port: z.int().min(1).max(65535).default(993),
    tls: tlsModeSchema.default(true),
    /** `[{ user, password | password_file }]`, or `[user, ...]` together with `master_user`. */
    accounts: z.union([z.array(ownAccountSchema).min(1), z.array(z.string().min(1)).min(1)]),
    master_user: masterUserSchema.optional(),
    /** The master user's password (a secret: `password_file` works too). Only with `master_user`. */
    password: z.string().min(1).optional(),
    /** Folders to scan; all when absent. */
    folders: z.array(z.string().min(1)).min(1).optional(),
    /** Read Sieve scripts over ManageSieve (RFC 5804). Its TLS default: STARTTLS unless `tls: false`. */
    managesieve: z
      .object({
        port: z.int().min(1).max(65535).default(4190),
        tls: tlsModeSchema.optional(),
      })
      .strict()
      .optional(),
    /** A Dovecot log file mounted read-only into the container; `<path>.1` is its rotated predecessor. */
    dovecot_log: z
      .object({
        path: z.string().min(1),
        /** IANA zone of the server's log timestamps (they carry none); default the zone Vigie runs in. */
        timezone: z
          .string()
          .refine(isTimeZone, { message: 'must be an IANA time zone such as Europe/Paris or UTC' })
          .optional(),
      })
      .strict()
      .optional(),
    /** Appended to bare user names (`alice` → `alice@<domain>`) to make the account address. */
    domain: z
      .string()
      .regex(/^[A-Za-z0-9.-]+$/, 'must be a mail domain such as party.example')
      .transform((d) => d.toLowerCase())
      .optional(),
    /** The monitor's own source addresses or ranges: their sessions in the Dovecot log are not reported. */
    exclude_ips: z
      .array(z.string().refine((s) => parseCidr(s) !== undefined, { message: 'must be an IP address or a CIDR range' }))
      .default([]),
    timeouts: z
      .object({
        connect: duration({ positive: true }).optional(),
        command: duration({ positive: true }).optional(),
      })
      .strict()
      .optional(),
  })
  // Runs even when a key above failed, so that check-config reports every problem at once: the
  // value may therefore be partial.
  .superRefine(
    (cfg, ctx) => {
      const accounts: unknown[] = Array.isArray(cfg.accounts) ? cfg.accounts : [];
      const bare = accounts.filter((a) => typeof a === 'string').length;
      const master = cfg.master_user as { password_file?: unknown } | undefined;
      if (master && typeof master === 'object') {
        if (bare !== accounts.length) {
          ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'with "master_user", accounts are a list of user names (no passwords)' });
        }
        const sources = (cfg.password !== undefined ? 1 : 0) + (master.password_file !== undefined ? 1 : 0);
        if (sources !== 1) {
          ctx.addIssue({
            code: 'custom',
            path: ['master_user'],
            message: 'give the master password once: "master_user.password_file", or "password" / "password_file"',
          });
        }
      } else {
        if (bare > 0) {
          ctx.addIssue({ code: 'custom', path: ['accounts'], message: 'bare user names need "master_user"; otherwise give each account { user, password_file }' });
        }
        if (cfg.password !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['password'], message: '"password" is the master user\'s password and needs "master_user"' });
        }
      }
    },
    { when: () => true },
  );

export const imapSecrets = ['password'];

export type ImapConnectorConfig = z.output<typeof imapConnectorSchema>;

export interface ResolvedAccount {
  /** Lower-cased mailbox address: `account` on every event. */
  address: string;
  /** What to send as the SASL / LOGIN user: the user, or `user<sep>master` for a master login. */
  loginUser: string;
  password: string;
}

/** `alice` → `alice@party.example` when a domain is configured; addresses stay as they are. */
export function accountAddress(user: string, domain: string | undefined): string {
  const u = user.trim().toLowerCase();
  return domain && !u.includes('@') ? `${u}@${domain}` : u;
}

/** Turns the config into login credentials, reading password files relative to `baseDir`. */
export function resolveAccounts(cfg: ImapConnectorConfig, baseDir: string): ResolvedAccount[] {
  const readSecret = (file: string, what: string): string => {
    const abs = path.resolve(baseDir, file);
    let text: string;
    try {
      text = fs.readFileSync(abs, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      throw new VigieError('CONFIG_INVALID', `Cannot read the ${what} password file ${abs} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: err });
    }
    if (!text) throw new VigieError('CONFIG_INVALID', `The ${what} password file ${abs} is empty.`);
    return text;
  };
  const master = cfg.master_user;
  if (master) {
    const password = cfg.password ?? readSecret(master.password_file ?? '', 'master user');
    return cfg.accounts.map((a) => {
      const user = typeof a === 'string' ? a : a.user;
      return { address: accountAddress(user, cfg.domain), loginUser: `${user}${master.separator}${master.user}`, password };
    });
  }
  return cfg.accounts.map((a) => {
    if (typeof a === 'string') throw new VigieError('CONFIG_INVALID', `Account ${a} has no password and no master_user is configured.`);
    const password = a.password ?? readSecret(a.password_file ?? '', `account ${a.user}`);
    return { address: accountAddress(a.user, cfg.domain), loginUser: a.user, password };
  });
}

/** ManageSieve's TLS: port 4190 has no implicit-TLS convention, so an encrypted IMAP config means STARTTLS. */
export function managesieveTls(cfg: ImapConnectorConfig): TlsMode {
  return cfg.managesieve?.tls ?? (cfg.tls === false ? false : 'starttls');
}
