import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { OAuth2Client } from 'google-auth-library';
import type { AuthFactory } from '../../../connectors/google-workspace/auth.js';
import { SCOPES } from '../../../connectors/google-workspace/config.js';
import type { Clock } from '../../../src/clock.js';
import { buildDataset, gmailAt, STORY, type Dataset } from './dataset.js';

/**
 * A local, plain-http stand-in for the Google APIs Vigie reads (provider-apis §C): Reports,
 * Directory, Gmail settings and Alert Center, with Google's paging, late delivery, quota errors
 * and permission refusals. What is visible depends on the injected clock, never on real time.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  subject?: string;
  scopes?: string[];
  status: number;
}

export interface FailureRule {
  /** Which requests fail: a path prefix or a predicate. */
  match: string | ((req: { path: string; query: URLSearchParams }) => boolean);
  status: number;
  reason?: string;
  message?: string;
  retryAfter?: string;
  /** How many matching requests fail (default 1); Infinity for a lasting refusal. */
  times?: number;
}

export interface GoogleFakeOptions {
  clock: Clock;
  dataset?: Dataset;
  /** Largest page served, whatever maxResults asks (Google may return fewer). */
  pageSize?: number;
  /** Real delay before every answer, for benchmarks; tests leave it at 0. */
  latencyMs?: number;
}

export interface GoogleFake {
  /** rootUrl for every API, with a trailing slash. */
  url: string;
  dataset: Dataset;
  requests: RecordedRequest[];
  fail(rule: FailureRule): void;
  /** Lasting 403 "Not Authorized to access this resource/api" for requests under `pathPrefix`. */
  forbid(pathPrefix: string): void;
  close(): Promise<void>;
}

const TOKEN_PREFIX = 'fake.';

/** Test auth: a pre-seeded OAuth2Client per (subject, scopes); the token says who and what, so the fake can check both. */
export function fakeAuth(): AuthFactory & { issued: Array<{ subject: string; scopes: string[] }> } {
  const issued: Array<{ subject: string; scopes: string[] }> = [];
  const factory = (subject: string, scopes: string[]) => {
    issued.push({ subject, scopes: [...scopes] });
    const client = new OAuth2Client();
    const token = TOKEN_PREFIX + Buffer.from(JSON.stringify({ sub: subject, scopes })).toString('base64url');
    // expiry_date is checked by the library against the real clock, not the fake one.
    client.setCredentials({ access_token: token, expiry_date: Date.now() + 3_600_000 });
    return client;
  };
  return Object.assign(factory, { issued });
}

function readToken(header: string | undefined): { sub: string; scopes: string[] } | undefined {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m || !m[1]!.startsWith(TOKEN_PREFIX)) return undefined;
  try {
    return JSON.parse(Buffer.from(m[1]!.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8')) as { sub: string; scopes: string[] };
  } catch {
    return undefined;
  }
}

const REASON_STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 503: 'UNAVAILABLE' };

function errorBody(status: number, reason: string, message: string) {
  return { error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: REASON_STATUS[status] ?? 'UNKNOWN' } };
}

/** Page tokens are bound to their query: one carried into another window is refused, as Google does. */
function encodeToken(offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ o: offset, q: query })).toString('base64url');
}

function decodeToken(token: string, query: string): number | undefined {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o: number; q: string };
    return t.q === query && Number.isInteger(t.o) && t.o >= 0 ? t.o : undefined;
  } catch {
    return undefined;
  }
}

const REPORT_APPS = new Set(['login', 'user_accounts', 'token', 'admin', 'takeout', 'vault', 'drive', 'gmail', 'saml', 'groups', 'mobile', 'calendar', 'chat', 'meet', 'rules']);
const GMAIL_READ_SCOPES = [SCOPES.gmailSettings, 'https://www.googleapis.com/auth/gmail.readonly', 'https://www.googleapis.com/auth/gmail.modify', 'https://mail.google.com/'];

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export async function startGoogleFake(opts: GoogleFakeOptions): Promise<GoogleFake> {
  const dataset = opts.dataset ?? buildDataset();
  const requests: RecordedRequest[] = [];
  const rules: FailureRule[] = [];
  const now = () => opts.clock.now();
  const cap = (asked: number, max: number) => Math.min(asked, max, opts.pageSize ?? max);
  const isAdmin = (email: string) => dataset.users.some((u) => u.primaryEmail === email && u.isAdmin && !u.suspended);

  function page<T>(items: T[], query: URLSearchParams, sizeParam: string, max: number, def: number, key: string): Answer | { items: T[]; next?: string } {
    const asked = query.has(sizeParam) ? Number(query.get(sizeParam)) : def;
    if (!Number.isInteger(asked) || asked < 1 || asked > max) return { status: 400, body: errorBody(400, 'invalid', `Invalid value '${query.get(sizeParam)}'. Values must be within the range: [1, ${max}]`) };
    const size = cap(asked, max);
    const token = query.get('pageToken');
    const offset = token ? decodeToken(token, key) : 0;
    if (offset === undefined) return { status: 400, body: errorBody(400, 'invalid', 'Token not found: token is either invalid or expired.') };
    const slice = items.slice(offset, offset + size);
    return { items: slice, ...(offset + size < items.length && { next: encodeToken(offset + size, key) }) };
  }

  function reports(path: string, query: URLSearchParams, tok: { sub: string; scopes: string[] }): Answer {
    const m = /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/([^/]+)$/.exec(path);
    if (!m) return { status: 404, body: errorBody(404, 'notFound', 'Not Found') };
    const userKey = decodeURIComponent(m[1]!);
    const app = decodeURIComponent(m[2]!);
    if (!tok.scopes.includes(SCOPES.reports)) return { status: 403, body: errorBody(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.') };
    if (!isAdmin(tok.sub)) return { status: 403, body: errorBody(403, 'forbidden', 'Not Authorized to access this resource/api') };
    if (!REPORT_APPS.has(app)) return { status: 400, body: errorBody(400, 'invalid', `Invalid value '${app}'`) };
    const start = query.has('startTime') ? Date.parse(query.get('startTime')!) : now() - 180 * 86_400_000;
    const end = query.has('endTime') ? Date.parse(query.get('endTime')!) : now();
    if (Number.isNaN(start) || Number.isNaN(end) || start > end) return { status: 400, body: errorBody(400, 'invalid', 'Start time and end time are not valid.') };
    if (start < now() - 180 * 86_400_000) return { status: 400, body: errorBody(400, 'invalid', 'Start date can not be earlier than 180 days ago.') };
    const items = (dataset.activities.get(app) ?? [])
      .filter((a) => a.visibleAt <= now())
      .map((a) => a.activity)
      .filter((a) => {
        const t = Date.parse(a.id!.time!);
        return t >= start && t <= end && (userKey === 'all' || a.actor?.email === userKey);
      })
      // Newest first, as Google lists them.
      .sort((x, y) => Date.parse(y.id!.time!) - Date.parse(x.id!.time!) || x.id!.uniqueQualifier!.localeCompare(y.id!.uniqueQualifier!));
    const key = `reports|${app}|${userKey}|${query.get('startTime')}|${query.get('endTime')}`;
    const p = page(items, query, 'maxResults', 1000, 1000, key);
    if ('status' in p) return p;
    return { status: 200, body: { kind: 'admin#reports#activities', etag: '"fake"', items: p.items, ...(p.next && { nextPageToken: p.next }) } };
  }

  function directory(query: URLSearchParams, tok: { sub: string; scopes: string[] }): Answer {
    if (!tok.scopes.includes(SCOPES.directory)) return { status: 403, body: errorBody(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.') };
    if (!isAdmin(tok.sub)) return { status: 403, body: errorBody(403, 'forbidden', 'Not Authorized to access this resource/api') };
    if (!query.get('customer') && !query.get('domain')) return { status: 400, body: errorBody(400, 'badRequest', 'Bad Request') };
    const users = [...dataset.users].sort((a, b) => a.primaryEmail.localeCompare(b.primaryEmail)).map((u) => ({ kind: 'admin#directory#user', ...u }));
    const p = page(users, query, 'maxResults', 500, 100, `users|${query.get('customer')}|${query.get('domain')}`);
    if ('status' in p) return p;
    return { status: 200, body: { kind: 'admin#directory#users', etag: '"fake"', users: p.items, ...(p.next && { nextPageToken: p.next }) } };
  }

  function gmail(path: string, tok: { sub: string; scopes: string[] }): Answer {
    const m = /^\/gmail\/v1\/users\/([^/]+)\/settings\/([A-Za-z]+)$/.exec(path);
    if (!m) return { status: 404, body: errorBody(404, 'notFound', 'Not Found') };
    const userId = decodeURIComponent(m[1]!);
    const user = userId === 'me' ? tok.sub : userId;
    if (!tok.scopes.some((s) => GMAIL_READ_SCOPES.includes(s))) return { status: 403, body: errorBody(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.') };
    // Gmail acts as the impersonated user only: another mailbox is refused.
    if (user !== tok.sub) return { status: 403, body: errorBody(403, 'forbidden', 'Delegation denied for ' + tok.sub) };
    const u = dataset.users.find((x) => x.primaryEmail === user);
    if (!u) return { status: 404, body: errorBody(404, 'notFound', 'Requested entity was not found.') };
    if (u.suspended) return { status: 400, body: errorBody(400, 'failedPrecondition', 'Mail service not enabled') };
    const s = gmailAt(dataset, user, now());
    if (!s) return { status: 400, body: errorBody(400, 'failedPrecondition', 'Mail service not enabled') };
    switch (m[2]) {
      case 'autoForwarding':
        return { status: 200, body: s.autoForwarding ?? { enabled: false } };
      case 'forwardingAddresses':
        return { status: 200, body: s.forwardingAddresses?.length ? { forwardingAddresses: s.forwardingAddresses } : {} };
      case 'filters':
        // Singular key, omitted when there are none (provider-apis C.2).
        return { status: 200, body: s.filters?.length ? { filter: s.filters } : {} };
      case 'delegates':
        return { status: 200, body: s.delegates?.length ? { delegates: s.delegates } : {} };
      case 'imap':
        return { status: 200, body: s.imap ?? { enabled: false } };
      case 'pop':
        return { status: 200, body: s.pop ?? { accessWindow: 'disabled' } };
      default:
        return { status: 404, body: errorBody(404, 'notFound', 'Not Found') };
    }
  }

  function alerts(query: URLSearchParams, tok: { sub: string; scopes: string[] }): Answer {
    if (!tok.scopes.includes(SCOPES.alerts)) return { status: 403, body: errorBody(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.') };
    if (!isAdmin(tok.sub)) return { status: 403, body: errorBody(403, 'forbidden', 'The caller does not have permission') };
    const cust = query.get('customerId');
    if (cust && cust.startsWith('C')) return { status: 400, body: errorBody(400, 'invalid', 'Invalid customer id') };
    const filter = query.get('filter') ?? '';
    const bounds: Array<(t: number) => boolean> = [];
    for (const m of filter.matchAll(/createTime\s*(>=|>|<=|<)\s*"([^"]+)"/g)) {
      const v = Date.parse(m[2]!);
      const op = m[1];
      bounds.push((t) => (op === '>=' ? t >= v : op === '>' ? t > v : op === '<=' ? t <= v : t < v));
    }
    const desc = !/asc/i.test(query.get('orderBy') ?? 'createTime desc');
    const items = dataset.alerts
      .filter((a) => a.visibleAt <= now())
      .map((a) => a.alert)
      .filter((a) => bounds.every((b) => b(Date.parse(a.createTime!))))
      .sort((x, y) => (desc ? -1 : 1) * (Date.parse(x.createTime!) - Date.parse(y.createTime!)));
    const p = page(items, query, 'pageSize', 1000, 100, `alerts|${filter}|${query.get('orderBy')}`);
    if ('status' in p) return p;
    return { status: 200, body: { alerts: p.items, ...(p.next && { nextPageToken: p.next }) } };
  }

  function answer(method: string, path: string, query: URLSearchParams, auth: string | undefined): Answer & { tok?: { sub: string; scopes: string[] } } {
    const tok = readToken(auth);
    if (!tok) return { status: 401, body: errorBody(401, 'authError', 'Request is missing required authentication credential.') };
    const rule = rules.find((r) => (r.times ?? 1) > 0 && (typeof r.match === 'string' ? path.startsWith(r.match) : r.match({ path, query })));
    if (rule) {
      rule.times = (rule.times ?? 1) - 1;
      return {
        tok,
        status: rule.status,
        body: errorBody(rule.status, rule.reason ?? 'backendError', rule.message ?? 'The service is currently unavailable.'),
        ...(rule.retryAfter && { headers: { 'retry-after': rule.retryAfter } }),
      };
    }
    if (method !== 'GET') return { tok, status: 405, body: errorBody(405, 'methodNotAllowed', 'Vigie reads only') };
    if (path.startsWith('/admin/reports/')) return { tok, ...reports(path, query, tok) };
    if (path === '/admin/directory/v1/users') return { tok, ...directory(query, tok) };
    if (path.startsWith('/gmail/v1/users/')) return { tok, ...gmail(path, tok) };
    if (path === '/v1beta1/alerts') return { tok, ...alerts(query, tok) };
    return { tok, status: 404, body: errorBody(404, 'notFound', 'Not Found') };
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    void (async () => {
      if (opts.latencyMs) await delay(opts.latencyMs);
      const a = answer(req.method ?? 'GET', url.pathname, url.searchParams, req.headers.authorization);
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        ...(a.tok && { subject: a.tok.sub, scopes: a.tok.scopes }),
        status: a.status,
      });
      res.writeHead(a.status, { 'content-type': 'application/json; charset=UTF-8', ...a.headers });
      res.end(JSON.stringify(a.body));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    dataset,
    requests,
    fail: (rule) => rules.push({ ...rule }),
    forbid: (prefix) => rules.push({ match: prefix, status: 403, reason: 'forbidden', message: 'Not Authorized to access this resource/api', times: Infinity }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { STORY };
