import { SourceError, errorMessage } from '../../src/errors.js';

/** How a failed Google API call is to be treated. */
export type Failure =
  | { kind: 'throttled'; status: number; retryAfterMs?: number }
  | { kind: 'transient'; status: number }
  | { kind: 'access'; status: number; reason: string; message: string }
  | { kind: 'precondition'; status: number; reason: string; message: string }
  | { kind: 'other'; status?: number; message: string };

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded']);

interface ErrorLike {
  status?: unknown;
  code?: unknown;
  message?: unknown;
  response?: { status?: unknown; headers?: unknown; data?: unknown };
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Google error bodies: `{ error: { code, message, errors: [{ reason }], status } }`, or OAuth `{ error, error_description }`. */
function googleError(data: unknown): { reason: string; message: string } {
  if (!data || typeof data !== 'object') return { reason: '', message: typeof data === 'string' ? data.slice(0, 300) : '' };
  const e = (data as { error?: unknown; error_description?: unknown }).error;
  if (typeof e === 'string') return { reason: e, message: String((data as { error_description?: unknown }).error_description ?? e) };
  if (e && typeof e === 'object') {
    const o = e as { message?: unknown; status?: unknown; errors?: { reason?: unknown }[] };
    const reason = o.errors?.[0]?.reason ?? o.status ?? '';
    return { reason: String(reason), message: String(o.message ?? '') };
  }
  return { reason: '', message: '' };
}

/** Sorts a gaxios (or fetch) error into what the connector does about it (reliability §2b P14). */
export function classify(err: unknown, now: number): Failure {
  const e = (err ?? {}) as ErrorLike;
  const rawStatus = e.response?.status ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined);
  const status = typeof rawStatus === 'number' ? rawStatus : Number(rawStatus) || undefined;
  const { reason, message } = googleError(e.response?.data);
  const text = (message || errorMessage(err)).slice(0, 300);
  if (status === undefined) return { kind: 'other', message: text };
  if (status === 429 || status === 503 || (status === 403 && RATE_REASONS.has(reason))) {
    const retryAfterMs = parseRetryAfter(header(e.response?.headers, 'retry-after'), now);
    return { kind: 'throttled', status, ...(retryAfterMs !== undefined && { retryAfterMs }) };
  }
  if (status === 500 || status === 502 || status === 504) return { kind: 'transient', status };
  // The JWT grant answers 400/401 unauthorized_client when the client id lacks a delegated scope.
  if (status === 401 || status === 403 || reason === 'unauthorized_client' || reason === 'invalid_grant') {
    return { kind: 'access', status, reason: reason || 'forbidden', message: text };
  }
  // A mailbox without Gmail, or a user deleted since the listing: skip it, the others still count.
  if (status === 404 || (status === 400 && (reason === 'failedPrecondition' || reason === 'FAILED_PRECONDITION'))) {
    return { kind: 'precondition', status, reason, message: text };
  }
  return { kind: 'other', status, message: text };
}

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** The real sleep; tests inject one that only records the delays. */
export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  sleep: Sleep;
  now: () => number;
}

/** Reports documents 503 as its quota error; about 5 s growing to a minute, 6 tries (P14). */
export function defaultRetryPolicy(sleep: Sleep, now: () => number): RetryPolicy {
  return { attempts: 6, baseMs: 5_000, maxMs: 60_000, sleep, now };
}

/** Permission or delegation missing: the stream cannot see anything until an admin fixes it. */
export class GoogleAccessError extends SourceError {
  readonly api: string;
  readonly status: number;
  readonly reason: string;
  readonly missing: string;
  constructor(api: string, failure: Extract<Failure, { kind: 'access' }>, missing: string, cause: unknown) {
    super('SOURCE_UNAUTHORIZED', `Google ${api} refused access (${failure.status} ${failure.reason}: ${failure.message}). Missing: ${missing}`, { cause });
    this.api = api;
    this.status = failure.status;
    this.reason = failure.reason;
    this.missing = missing;
  }
}

/** A user whose mailbox cannot be read (no Gmail service, suspended): skipped, not fatal. */
export class GooglePreconditionError extends SourceError {}

/**
 * One Google API call with backoff on quota and transient errors. `missing` says what to grant
 * when Google refuses access, so the monitor event tells the operator exactly what to fix.
 */
export async function callGoogle<T>(
  api: string,
  missing: string,
  fn: () => Promise<T>,
  policy: RetryPolicy,
  signal: AbortSignal,
): Promise<T> {
  let last: Failure | undefined;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const f = classify(err, policy.now());
      if (f.kind === 'access') throw new GoogleAccessError(api, f, missing, err);
      if (f.kind === 'precondition') throw new GooglePreconditionError('SOURCE_FAILED', `Google ${api}: ${f.message}`, { cause: err });
      if (f.kind === 'other') throw new SourceError('SOURCE_FAILED', `Google ${api} failed${f.status ? ` (${f.status})` : ''}: ${f.message}`, { cause: err });
      last = f;
      if (attempt === policy.attempts - 1 || signal.aborted) break;
      const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
      await policy.sleep(Math.max(backoff, Math.min(f.kind === 'throttled' ? (f.retryAfterMs ?? 0) : 0, 10 * 60_000)), signal);
    }
  }
  throw new SourceError(
    'SOURCE_THROTTLED',
    `Google ${api} kept answering ${last?.status ?? '?'} (${last?.kind === 'throttled' ? 'quota exceeded' : 'server error'}) after ${policy.attempts} attempts; the next run resumes from the last committed page.`,
  );
}
