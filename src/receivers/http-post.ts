import { plainText } from '../alerts/sanitize.js';
import { systemClock, type Clock } from '../clock.js';
import { VigieError } from '../errors.js';
import type { SendContext, SendResult } from './receiver.js';

/** How much of an error response we read: enough for a reason, never a whole page. */
const MAX_ERROR_BODY_BYTES = 4096;
const MAX_REASON_BODY_CHARS = 200;

/** Retry-After as seconds or an HTTP-date, in ms from `now`; undefined when absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // '-1', '1.5': neither form
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The Standard Webhooks classification of an HTTP status. */
export function classifyStatus(status: number): 'ok' | 'retryable' | 'permanent' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'retryable';
  return 'permanent';
}

export interface JsonPosterOptions {
  /** Receiver name and type, for configuration errors. */
  name: string;
  what: string;
  url: string;
  timeoutMs: number;
  /** Secrets besides the URL's own parts that an error page must never echo into a reason. */
  secrets?: Array<string | undefined>;
  fetch?: typeof fetch;
  clock?: Clock;
}

export interface JsonPoster {
  /** Scheme, host and port: how reasons name the target. */
  origin: string;
  post(body: string, headers: Record<string, string>, ctx: SendContext): Promise<SendResult>;
}

/**
 * POSTs a body and classifies the answer. Redirects are never followed (a 3xx is a permanent
 * failure). Reasons name the target by origin only: the path and query of a webhook URL are
 * often its secret (Slack, Teams, Discord).
 */
export function createJsonPoster(opts: JsonPosterOptions): JsonPoster {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new VigieError('CONFIG_INVALID', `Receiver "${opts.name}": the ${opts.what} url is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VigieError('CONFIG_INVALID', `Receiver "${opts.name}": the ${opts.what} url must start with https:// or http://.`);
  }
  const secrets = secretsOf(url, opts.secrets ?? []);
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'vigie' };
  // fetch refuses URLs with credentials; send them as Basic auth instead.
  if (url.username || url.password) {
    const user = safeDecode(url.username);
    const pass = safeDecode(url.password);
    baseHeaders.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const target = url.href;
  const origin = url.origin;
  const doFetch = opts.fetch ?? fetch;
  const clock = opts.clock ?? systemClock;

  return {
    origin,
    async post(body, extraHeaders, ctx): Promise<SendResult> {
      const headers = { ...baseHeaders, ...extraHeaders };
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout]);
      let res: Response;
      try {
        res = await doFetch(target, { method: 'POST', headers, body, redirect: 'manual', signal });
      } catch (err) {
        if (timeout.aborted) return { status: 'retryable', reason: `no answer from ${origin} within ${opts.timeoutMs} ms` };
        if (ctx.signal.aborted) return { status: 'retryable', reason: `sending to ${origin} was cancelled` };
        return { status: 'retryable', reason: `cannot reach ${origin} (${networkReason(err)})` };
      }

      const kind = classifyStatus(res.status);
      if (kind === 'ok') {
        // Free the connection; the answer's content does not matter.
        res.body?.cancel().catch(() => {});
        return { status: 'ok' };
      }
      const excerpt = await readExcerpt(res, secrets);
      const said = excerpt ? `: ${excerpt}` : '';
      if (res.status >= 300 && res.status < 400) {
        return { status: 'permanent', reason: `${origin} answered HTTP ${res.status} (a redirect; Vigie does not follow them, update the url)` };
      }
      if (kind === 'permanent') {
        const hint = res.status === 410 ? ' (the endpoint is gone)' : res.status === 401 || res.status === 403 ? ' (check the credentials or secret)' : '';
        return { status: 'permanent', reason: `${origin} answered HTTP ${res.status}${hint}${said}` };
      }
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), clock.now());
      return {
        status: 'retryable',
        reason: `${origin} answered HTTP ${res.status}${said}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    },
  };
}

/** The parts of the configuration an error page might echo back and that must not reach a log. */
function secretsOf(url: URL, extra: Array<string | undefined>): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    if (v && v.length >= 4) {
      out.add(v);
      out.add(safeDecode(v));
    }
  };
  for (const s of extra) add(s);
  add(url.password);
  add(url.search.slice(1));
  for (const v of url.searchParams.values()) add(v);
  if (url.pathname.length > 1) add(url.pathname);
  for (const seg of url.pathname.split('/')) if (seg.length >= 16) add(seg);
  // Longest first, so a value is never half-replaced by one of its own substrings.
  return [...out].sort((a, b) => b.length - a.length);
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join('[redacted]');
  return out;
}

async function readExcerpt(res: Response, secrets: string[]): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body that breaks off is still an answer; the status is what counts.
  } finally {
    reader.cancel().catch(() => {});
  }
  const raw = Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES).toString('utf8');
  return plainText(scrub(raw, secrets), MAX_REASON_BODY_CHARS);
}

function networkReason(err: unknown): string {
  // undici wraps the socket error in `cause`; its code is informative and carries no URL.
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code) return code;
  const name = err instanceof Error ? err.name : 'error';
  return plainText(name, 60);
}
