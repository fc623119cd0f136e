import type { ConnectionOptions } from 'node:tls';
import { ImapFlow, type Logger as ImapLogger } from 'imapflow';
import { SourceError, VigieError, errorMessage } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import type { TlsMode } from './config.js';

/** Where and how to reach the IMAP server; the same for every account of a connector. */
export interface ImapEndpoint {
  host: string;
  port: number;
  tls: TlsMode;
  connectTimeoutMs?: number;
  /** Socket inactivity allowed while a command runs. */
  commandTimeoutMs?: number;
  /** Extra TLS options, e.g. a private CA (tests). Certificates are always verified. */
  tlsOptions?: ConnectionOptions;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/**
 * imapflow's protocol lines (`src` c/s) carry subjects and addresses: they never reach our logs.
 * What is left (connection, TLS, auth outcome) goes to debug. imapflow already hides the password
 * in the AUTHENTICATE/LOGIN line it would log; `onCommand` sees client lines only (tests count and
 * vet them).
 */
export function imapflowLogger(log: Logger, onCommand?: (line: string) => void): ImapLogger {
  const forward = (entry: unknown): void => {
    if (!entry || typeof entry !== 'object') return;
    const e = entry as { src?: unknown; msg?: unknown; comment?: unknown; err?: unknown; cid?: unknown };
    if (e.src === 'c' || e.src === 's') {
      if (e.src === 'c' && onCommand && typeof e.msg === 'string' && e.comment === undefined) onCommand(e.msg);
      return;
    }
    log.debug({ cid: e.cid, ...(e.err ? { error: errorMessage(e.err) } : {}) }, typeof e.msg === 'string' ? e.msg : 'imapflow');
  };
  return { trace: forward, debug: forward, info: forward, warn: forward, error: forward, fatal: forward };
}

/** Error codes that mean the session is gone, as opposed to a command the server refused. */
const CONNECTION_LOST = new Set([
  'NoConnection',
  'EConnectionClosed',
  'StateLogout',
  'ClosedAfterConnectText',
  'ClosedAfterConnectTLS',
  'ETIMEOUT',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'UPGRADE_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The server cannot be reached at all (as opposed to one session dropped). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'CONNECT_TIMEOUT', 'GREETING_TIMEOUT']);

export function isUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code);
}

export function isConnectionLost(err: unknown, client?: ImapFlow): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return (typeof code === 'string' && CONNECTION_LOST.has(code)) || (client !== undefined && !client.usable);
}

/** imapflow errors say "Command failed" and keep the server's words in `responseText`. */
export function describeImapError(err: unknown): string {
  const e = err as { responseText?: unknown; code?: unknown; message?: unknown } | undefined;
  const text = typeof e?.responseText === 'string' && e.responseText ? e.responseText : errorMessage(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  return code && !text.includes(code) ? `${text} [${code}]` : text;
}

export interface OpenedSession {
  client: ImapFlow;
  /** Logs out politely when the session still works, drops the socket otherwise. Never throws. */
  close(): Promise<void>;
}

/**
 * Connects and logs in one account. A refused login is SOURCE_UNAUTHORIZED (someone changed a
 * password, or the master user lost its rights); anything else is SOURCE_FAILED with the server's
 * words. CONDSTORE is enabled by imapflow by default (HIGHESTMODSEQ in STATUS).
 */
export async function openSession(
  endpoint: ImapEndpoint,
  account: { address: string; loginUser: string; password: string },
  log: Logger,
  onCommand?: (line: string) => void,
): Promise<OpenedSession> {
  const connectTimeout = endpoint.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const client = new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.tls === true,
    // An explicit policy either way: never imapflow's "upgrade if offered", which an attacker on
    // the path can strip.
    doSTARTTLS: endpoint.tls === 'starttls',
    ...(endpoint.tls !== false ? { tls: { rejectUnauthorized: true, ...endpoint.tlsOptions } } : {}),
    auth: { user: account.loginUser, pass: account.password },
    clientInfo: { name: 'vigie' },
    logger: imapflowLogger(log, onCommand),
    emitLogs: false,
    // The monitor polls: no IDLE between commands, nothing running while the runner commits a page.
    disableAutoIdle: true,
    connectionTimeout: connectTimeout,
    greetingTimeout: connectTimeout,
    socketTimeout: endpoint.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  });
  // Always attached: an 'error' event without a listener would take the whole process down.
  client.on('error', (err: Error) => log.debug({ error: describeImapError(err) }, 'The IMAP connection reported an error.'));
  const where = `${endpoint.host}:${endpoint.port}`;
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if ((err as { authenticationFailed?: unknown }).authenticationFailed) {
      throw new SourceError(
        'SOURCE_UNAUTHORIZED',
        `The IMAP server ${where} refused the login for ${account.address} (${describeImapError(err)}). Check the account's password, or the master user's.`,
        { cause: err },
      );
    }
    throw new SourceError('SOURCE_FAILED', `Cannot connect to the IMAP server ${where} for ${account.address}: ${describeImapError(err)}.`, { cause: err });
  }
  return {
    client,
    async close() {
      if (client.usable) {
        try {
          await client.logout();
          return;
        } catch {
          // fall through: the socket goes anyway
        }
      }
      client.close();
    },
  };
}

/** Wraps whatever a command threw into the one error tree, with the account and folder it concerns. */
export function scanError(err: unknown, client: ImapFlow, endpoint: ImapEndpoint, account: string, folder?: string): VigieError {
  if (err instanceof VigieError) return err;
  const where = `${endpoint.host}:${endpoint.port}`;
  const inFolder = folder !== undefined ? ` while scanning folder "${folder}"` : ' while listing its folders';
  if (isConnectionLost(err, client)) {
    return new SourceError(
      'SOURCE_FAILED',
      `The IMAP connection to ${where} for ${account} was lost${inFolder} (${describeImapError(err)}). What was scanned before is committed; the next run resumes from there.`,
      { cause: err },
    );
  }
  return new SourceError('SOURCE_FAILED', `The IMAP server ${where} failed a command for ${account}${inFolder}: ${describeImapError(err)}.`, { cause: err });
}
