import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import { messageKey } from '../alerts/alert.js';
import type { Locale } from '../alerts/i18n.js';
import { renderEmail } from '../alerts/render-email.js';
import { plainText } from '../alerts/sanitize.js';
import { errorMessage } from '../errors.js';
import type { Receiver, SendResult } from './receiver.js';

export interface SmtpOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (port 465). Otherwise STARTTLS, required unless `requireTls` is false. */
  secure: boolean;
  /** Refuse to send over a connection that did not upgrade to TLS (default true). */
  requireTls?: boolean;
  user?: string;
  password?: string;
}

export interface EmailReceiverOptions {
  name: string;
  smtp: SmtpOptions;
  from: string;
  to: string[];
  timeoutMs: number;
  locale?: Locale;
  /** Extra TLS settings (a private CA for an internal relay; tests). */
  tls?: ConnectionOptions;
}

/** A domain for Message-IDs: the sender's, when it looks like one. */
function idDomain(from: string): string {
  const m = /@([a-z0-9.-]+)>?\s*$/i.exec(from);
  return m?.[1]?.toLowerCase() ?? 'vigie.invalid';
}

/** Only characters that are safe in a header and a msg-id: ids are ours (hex), this is defence in depth. */
function headerToken(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '');
}

/**
 * SMTP answers carry a reply code: 4xx is a temporary refusal, 5xx a permanent one (RFC 5321).
 * Without a code the failure is the network's or the TLS handshake's: try again.
 */
export function classifySmtpError(err: unknown, secrets: string[] = []): SendResult {
  const e = err as { responseCode?: unknown; code?: unknown; response?: unknown } | undefined;
  const code = typeof e?.responseCode === 'number' ? e.responseCode : undefined;
  let said = plainText(typeof e?.response === 'string' ? e.response : errorMessage(err), 200);
  for (const s of secrets) if (s.length >= 4) said = said.split(s).join('[redacted]');
  const kind = typeof e?.code === 'string' ? plainText(e.code, 20) : '';
  const reason = `the mail server ${code !== undefined ? `answered ${code}` : `failed${kind ? ` (${kind})` : ''}`}${said ? `: ${said}` : ''}`;
  if (code !== undefined && code >= 500) return { status: 'permanent', reason };
  if (code !== undefined && code >= 400) return { status: 'retryable', reason };
  // A message nodemailer itself refuses to build will not build on the next try either.
  if (kind === 'EMESSAGE' || kind === 'EENVELOPE') return { status: 'permanent', reason };
  return { status: 'retryable', reason };
}

/**
 * E-mail through SMTP (nodemailer): a text/plain part and an escaped text/html part, a
 * Message-ID and X-Vigie-Alert-Id derived from the alert ids so that every retry of one message
 * is recognisably the same message, and a subject made of our words plus the account.
 */
export function createEmailReceiver(opts: EmailReceiverOptions): Receiver {
  const domain = idDomain(opts.from);
  const secrets = opts.smtp.password ? [opts.smtp.password] : [];
  return {
    name: opts.name,
    type: 'email',
    async send(alerts, ctx): Promise<SendResult> {
      const ids = alerts.map((a) => headerToken(String(a.id)));
      const key = headerToken(messageKey(ids));
      const mail = renderEmail(alerts, opts.locale);
      // One connection per message: closing it is how a send is cancelled, and alerts are rare.
      const transport = nodemailer.createTransport({
        host: opts.smtp.host,
        port: opts.smtp.port,
        secure: opts.smtp.secure,
        requireTLS: !opts.smtp.secure && opts.smtp.requireTls !== false,
        ...(opts.smtp.user ? { auth: { user: opts.smtp.user, pass: opts.smtp.password ?? '' } } : {}),
        connectionTimeout: opts.timeoutMs,
        greetingTimeout: opts.timeoutMs,
        socketTimeout: opts.timeoutMs,
        tls: { minVersion: 'TLSv1.2', ...opts.tls },
        disableFileAccess: true,
        disableUrlAccess: true,
      });
      const cancel = () => transport.close();
      ctx.signal.addEventListener('abort', cancel, { once: true });
      const timer = setTimeout(cancel, opts.timeoutMs * 3);
      try {
        if (ctx.signal.aborted) return { status: 'retryable', reason: 'sending the e-mail was cancelled' };
        await transport.sendMail({
          from: opts.from,
          to: opts.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${key}.alert@${domain}>`,
          headers: { 'X-Vigie-Alert-Id': ids.join(', '), 'Auto-Submitted': 'auto-generated' },
        });
        return { status: 'ok' };
      } catch (err) {
        if (ctx.signal.aborted) return { status: 'retryable', reason: 'sending the e-mail was cancelled' };
        return classifySmtpError(err, secrets);
      } finally {
        clearTimeout(timer);
        ctx.signal.removeEventListener('abort', cancel);
        transport.close();
      }
    },
  };
}
