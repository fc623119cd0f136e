import { z } from 'zod';
import type { Locale } from '../alerts/i18n.js';
import type { Clock } from '../clock.js';
import type { ComponentType, VigieConfig } from '../config/load.js';
import { createConsoleReceiver } from './console.js';
import { createEmailReceiver } from './email.js';
import type { Receiver } from './receiver.js';
import { createSlackReceiver } from './slack.js';
import { createTeamsReceiver } from './teams.js';
import { createWebhookReceiver, WEBHOOK_FORMATS, type WebhookFormat } from './webhook.js';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** One line, so that nothing given here can add a header. */
const headerSafe = z.string().trim().min(3).regex(/^[^\r\n]+$/, 'must be on one line');
const mailbox = headerSafe.regex(/^[^@\s<>]+@[^@\s<>]+$/, 'must be a mailbox address, e.g. security@party.example');
const fromAddress = headerSafe.regex(/^(?:[^<>@]*<[^@\s<>]+@[^@\s<>]+>|[^@\s<>]+@[^@\s<>]+)$/, 'must be an address, e.g. "Vigie <vigie@party.example>"');

const smtpSchema = z
  .strictObject({
    host: z.string().trim().min(1),
    /** Default 465 with `secure: true`, else 587. */
    port: z.int().min(1).max(65535).optional(),
    /** Implicit TLS (port 465); false means STARTTLS. */
    secure: z.boolean().default(false),
    /** Refuse a server that does not offer STARTTLS (only `false` for a relay on the same host). */
    require_tls: z.boolean().default(true),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.password !== undefined && s.user === undefined) ctx.addIssue({ code: 'custom', path: ['user'], message: 'a password needs a "user"' });
  });

/** Every receiver type: its config keys (for the config loader) and its secrets. */
export const RECEIVER_TYPES: Record<string, ComponentType> = {
  webhook: {
    schema: z.object({ url: httpUrl, secret: z.string().min(1).optional(), format: z.enum(WEBHOOK_FORMATS).default('vigie') }),
    secrets: ['url', 'secret'],
  },
  slack: { schema: z.object({ url: httpUrl }), secrets: ['url'] },
  teams: { schema: z.object({ url: httpUrl }), secrets: ['url'] },
  email: {
    schema: z.object({
      smtp: smtpSchema,
      from: fromAddress,
      to: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(mailbox).min(1)),
    }),
    secrets: ['smtp.password'],
  },
  console: { schema: z.object({}) },
};

type ReceiverEntry = VigieConfig['receivers'][number];

export interface ReceiverDeps {
  clock: Clock;
  /** Where console receivers write (default stdout). */
  write?: (s: string) => void;
  /** `organisation.locale`: the language of Vigie's own words in messages. */
  locale?: Locale;
}

interface SmtpEntry {
  host: string;
  port?: number;
  secure: boolean;
  require_tls: boolean;
  user?: string;
  password?: string;
}

export function buildReceiver(entry: ReceiverEntry, deps: ReceiverDeps): Receiver {
  const e = entry as ReceiverEntry & Record<string, unknown>;
  const locale = deps.locale ? { locale: deps.locale } : {};
  switch (entry.type) {
    case 'webhook':
      return createWebhookReceiver({
        name: e.name,
        url: e.url as string,
        secret: e.secret as string | undefined,
        format: (e.format as WebhookFormat | undefined) ?? 'vigie',
        timeoutMs: e.timeout,
        clock: deps.clock,
      });
    case 'slack':
      return createSlackReceiver({ name: e.name, url: e.url as string, timeoutMs: e.timeout, clock: deps.clock, ...locale });
    case 'teams':
      return createTeamsReceiver({ name: e.name, url: e.url as string, timeoutMs: e.timeout, clock: deps.clock, ...locale });
    case 'email': {
      const smtp = e.smtp as SmtpEntry;
      return createEmailReceiver({
        name: e.name,
        smtp: {
          host: smtp.host,
          port: smtp.port ?? (smtp.secure ? 465 : 587),
          secure: smtp.secure,
          requireTls: smtp.require_tls,
          ...(smtp.user ? { user: smtp.user } : {}),
          ...(smtp.password ? { password: smtp.password } : {}),
        },
        from: e.from as string,
        to: e.to as string[],
        timeoutMs: e.timeout,
        ...locale,
      });
    }
    case 'console':
      return createConsoleReceiver({ name: e.name, ...(deps.write ? { write: deps.write } : {}), ...locale });
    default:
      throw new Error(`unknown receiver type "${entry.type}"`);
  }
}
