import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { HttpError, classifyFailure, providerError } from './http-error.js';
import { backoffMs, parseRetryAfter } from './retry-after.js';

export interface HttpClientOptions {
  /** `https://graph.microsoft.com`... A URL on any other origin is refused before a token is attached. */
  allowedOrigins: readonly string[];
  /** Bearer token source; `forceRefresh` after a 401. Tokens never reach a log line or an error. */
  getToken?: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  /** Injected so tests never wait on real timers. */
  sleep?: (ms: number) => Promise<void>;
  clock: Clock;
  log: Logger;
  /** No answer (headers or body bytes) for this long: the attempt failed. Default 60 s. */
  timeoutMs?: number;
  /** Retries of throttled, failed (5xx) or timed-out requests. Default 5. */
  maxRetries?: number;
  /** A provider asking to wait longer than this is left to the next scheduled run. Default 5 min. */
  maxRetryAfterMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  /** Extra trusted CA (PEM) for local https fakes; production leaves it unset. */
  ca?: string | Buffer;
  headers?: Record<string, string>;
}

export interface RequestOptions {
  signal?: AbortSignal;
  headers?: Record<string, string>;
}

export interface HttpResponse<T = unknown> {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: T;
}

export interface HttpClient {
  getJson<T = unknown>(url: string, opts?: RequestOptions): Promise<HttpResponse<T>>;
  postJson<T = unknown>(url: string, body: unknown, opts?: RequestOptions): Promise<HttpResponse<T>>;
  close(): void;
}

const RETRYABLE = new Set([429, 500, 502, 503, 504]);
const MAX_BODY_BYTES = 64 * 1024 * 1024;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** The origin and path of a URL: what errors and logs may show (queries can be long and carry filters). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * A small JSON-over-HTTPS client for provider APIs: an origin allow-list (paging links are
 * attacker-reachable data, P16), bearer tokens refreshed once on 401 (P15), and retries that honour
 * Retry-After or back off with jitter (P14). Classes only where state lives: this one holds agents.
 */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const allowed = new Set(opts.allowedOrigins.map((o) => new URL(o).origin));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxRetries = opts.maxRetries ?? 5;
  const maxRetryAfterMs = opts.maxRetryAfterMs ?? 5 * 60_000;
  const random = opts.random ?? Math.random;
  const httpsAgent = new https.Agent({ keepAlive: true, ...(opts.ca ? { ca: opts.ca } : {}) });
  const httpAgent = new http.Agent({ keepAlive: true });

  async function request<T>(method: string, url: string, body: unknown, ro: RequestOptions = {}): Promise<HttpResponse<T>> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new HttpError('SOURCE_FAILED', 'Refused to follow a link that is not a valid URL.');
    }
    if (!allowed.has(parsed.origin)) {
      throw new HttpError('SOURCE_FAILED', `Refused to send a request to ${parsed.origin}: it is not one of the provider's hosts (${[...allowed].join(', ')}).`);
    }
    const where = `${method} ${describeUrl(url)}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let refreshed = false;
    let token = opts.getToken ? await opts.getToken() : undefined;
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...opts.headers,
        ...ro.headers,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      };
      let res: RawResponse;
      try {
        res = await send(parsed, method, headers, payload, parsed.protocol === 'https:' ? httpsAgent : httpAgent, timeoutMs, ro.signal);
      } catch (err) {
        if (ro.signal?.aborted) throw new HttpError('SOURCE_FAILED', `${where} was cancelled.`, { cause: err });
        const reason = err instanceof TimeoutError ? `no answer within ${timeoutMs} ms` : networkReason(err);
        if (attempt > maxRetries) throw new HttpError('SOURCE_FAILED', `${where} failed after ${attempt} attempts: ${reason}.`);
        const wait = backoffMs(attempt, { baseMs: opts.backoffBaseMs ?? 2000, maxMs: opts.backoffMaxMs ?? 60_000, random });
        opts.log.warn({ request: where, reason, attempt, wait_ms: wait }, 'A provider request failed; retrying after a pause.');
        await sleep(wait);
        continue;
      }
      const json = parseBody(res.text);
      if (res.status >= 200 && res.status < 300) {
        if (json.ok) return { status: res.status, headers: res.headers, body: json.value as T };
        throw new HttpError('SOURCE_FAILED', `${where} answered ${res.status} with a body that is not JSON.`, { status: res.status });
      }
      const perr = providerError(json.ok ? json.value : undefined);
      if (res.status === 401 && opts.getToken && !refreshed) {
        // Tokens can be revoked or expire early; one fresh token, then the failure is real.
        refreshed = true;
        token = await opts.getToken({ forceRefresh: true });
        opts.log.info({ request: where }, 'The provider rejected the access token; retrying once with a fresh one.');
        continue;
      }
      const detail = `${res.status}${perr.code ? ` ${perr.code}` : ''}${perr.message ? `: ${clip(perr.message)}` : ''}`;
      if (RETRYABLE.has(res.status)) {
        const asked = parseRetryAfter(res.headers['retry-after'], opts.clock.now());
        const wait = asked ?? backoffMs(attempt, { baseMs: opts.backoffBaseMs ?? 2000, maxMs: opts.backoffMaxMs ?? 60_000, random });
        if (attempt > maxRetries || wait > maxRetryAfterMs) {
          const why = attempt > maxRetries ? `after ${attempt} attempts` : `and asked to wait ${Math.round(wait / 1000)} s`;
          throw new HttpError(res.status === 429 ? 'SOURCE_THROTTLED' : 'SOURCE_FAILED', `${where} answered ${detail} ${why}.`, {
            status: res.status,
            ...(perr.code ? { providerCode: perr.code } : {}),
          });
        }
        opts.log.warn(
          { request: where, status: res.status, provider_code: perr.code, attempt, wait_ms: wait, retry_after: asked !== undefined },
          res.status === 429 ? 'The provider is throttling requests; waiting before retrying.' : 'The provider failed a request; retrying after a pause.',
        );
        await sleep(wait);
        continue;
      }
      throw new HttpError(classifyFailure(res.status, perr.code), `${where} answered ${detail}.`, {
        status: res.status,
        ...(perr.code ? { providerCode: perr.code } : {}),
      });
    }
  }

  return {
    getJson: (url, ro) => request('GET', url, undefined, ro),
    postJson: (url, body, ro) => request('POST', url, body, ro),
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

class TimeoutError extends Error {}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  agent: http.Agent,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method, headers, agent, ...(signal ? { signal } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        const h: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, headers: h, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new TimeoutError('timeout')));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function parseBody(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function networkReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return err instanceof Error ? err.message : String(err);
}

/** Provider messages are shown to operators: one line, bounded. */
function clip(text: string): string {
  const one = text.replace(/[\r\n\t]+/g, ' ').trim();
  return one.length > 300 ? `${one.slice(0, 297)}...` : one;
}
