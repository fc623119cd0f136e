import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Keys whose values are secrets or private content: redacted wherever they appear in a log object.
 * pino's JSON serialisation escapes control characters, so attacker text can never start a new line.
 */
export const REDACT_PATHS = [
  'password',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'authorization',
  'headers.authorization',
  'subject',
  '*.password',
  '*.secret',
  '*.token',
  '*.access_token',
  '*.client_secret',
  '*.authorization',
  '*.subject',
  '*.*.password',
  '*.*.secret',
  '*.*.token',
];

export interface LogOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.VIGIE_LOG_LEVEL ?? 'info';
  const options = {
    level,
    base: { app: 'vigie' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Logs go to stderr so that `vigie replay` can keep stdout for alerts.
  return opts.destination ? pino(options, opts.destination) : pino(options, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
