import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../../src/clock.js';
import { createHttpClient } from '../../../src/http/http-client.js';
import { parseRetryAfter } from '../../../src/http/retry-after.js';
import { createLogger } from '../../../src/log.js';

type Reply = { status: number; headers?: Record<string, string>; body?: unknown; hang?: boolean };
let script: Reply[] = [];
const seen: Array<{ url: string; auth?: string }> = [];
let server: http.Server;
let trap: http.Server;
let trapHits = 0;
let origin = '';
let trapOrigin = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', ...(req.headers.authorization ? { auth: req.headers.authorization } : {}) });
    const r = script.shift() ?? { status: 200, body: { ok: true } };
    if (r.hang) return;
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body === undefined ? '' : JSON.stringify(r.body));
  });
  trap = http.createServer((_req, res) => {
    trapHits++;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  trapOrigin = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
  trap.close();
});

function client(over: Partial<Parameters<typeof createHttpClient>[0]> = {}) {
  const waits: number[] = [];
  const logged: string[] = [];
  let n = 0;
  const log = createLogger({ level: 'debug', destination: { write: (s: string) => void logged.push(s) } });
  const c = createHttpClient({
    allowedOrigins: [origin],
    getToken: async (o) => `secret-token-${o?.forceRefresh ? 'fresh' : 'first'}-${++n}`,
    sleep: async (ms) => void waits.push(ms),
    clock: fixedClock('2025-03-11T12:00:00Z'),
    log,
    random: () => 0.5,
    timeoutMs: 200,
    maxRetries: 3,
    ...over,
  });
  return { c, waits, logged };
}

describe('src/http client', () => {
  it('refuses a link to another host and never sends it the token (P16)', async () => {
    const { c } = client();
    const err = (await c.getJson(`${trapOrigin}/steal`).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('SOURCE_FAILED');
    expect(err.message).toContain('not one of the provider');
    expect(trapHits).toBe(0);
    c.close();
  });

  it('honours Retry-After in seconds and as an HTTP date, then succeeds', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests' } } },
      { status: 503, headers: { 'retry-after': 'Tue, 11 Mar 2025 12:00:30 GMT' } },
      { status: 200, body: { value: [1] } },
    ];
    const { c, waits } = client();
    const res = await c.getJson<{ value: number[] }>(`${origin}/a`);
    expect(res.body.value).toEqual([1]);
    expect(waits).toEqual([7000, 30_000]);
    c.close();
  });

  it('backs off exponentially when a 429 has no Retry-After (Identity Protection, AF429), and gives up with SOURCE_THROTTLED', async () => {
    script = [1, 2, 3, 4].map(() => ({ status: 429, body: { error: { code: 'AF429', message: 'Too many requests.' } } }));
    const { c, waits } = client();
    const err = (await c.getJson(`${origin}/b`).catch((e: unknown) => e)) as Error & { code: string; providerCode: string };
    expect(err.code).toBe('SOURCE_THROTTLED');
    expect(err.providerCode).toBe('AF429');
    expect(waits).toEqual([1500, 3000, 6000]);
    c.close();
  });

  it('refreshes the token once on 401, then the failure is an authorization error', async () => {
    script = [{ status: 401 }, { status: 200, body: {} }];
    const { c } = client();
    seen.length = 0;
    await c.getJson(`${origin}/c`);
    expect(seen.map((s) => s.auth)).toEqual(['Bearer secret-token-first-1', 'Bearer secret-token-fresh-2']);
    script = [{ status: 401 }, { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'expired' } } }];
    const err = (await c.getJson(`${origin}/c`).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('SOURCE_UNAUTHORIZED');
    c.close();
  });

  it('classifies 403: a missing licence apart from a missing permission, with the provider code', async () => {
    script = [
      { status: 403, body: { error: { code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', message: "Neither tenant is B2C or tenant doesn't have premium license" } } },
      { status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges.' } } },
    ];
    const { c, waits } = client();
    const a = (await c.getJson(`${origin}/d`).catch((e: unknown) => e)) as Error & { code: string; providerCode: string; status: number };
    const b = (await c.getJson(`${origin}/d`).catch((e: unknown) => e)) as Error & { code: string; providerCode: string };
    expect([a.code, a.providerCode, a.status]).toEqual(['SOURCE_LICENCE', 'Authentication_RequestFromNonPremiumTenantOrB2CTenant', 403]);
    expect([b.code, b.providerCode]).toEqual(['SOURCE_UNAUTHORIZED', 'Authorization_RequestDenied']);
    expect(waits).toEqual([]);
    c.close();
  });

  it('retries a request that gets no answer in time', async () => {
    script = [{ status: 200, hang: true }, { status: 200, body: { late: false } }];
    const { c, waits } = client();
    const res = await c.getJson<{ late: boolean }>(`${origin}/e`);
    expect(res.body.late).toBe(false);
    expect(waits).toHaveLength(1);
    c.close();
  });

  it('never puts the token in an error or a log line', async () => {
    script = [500, 500, 500, 500].map((status) => ({ status, body: { error: { code: 'InternalServerError', message: 'boom' } } }));
    const { c, logged } = client();
    const err = (await c.getJson(`${origin}/f?x=1`).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('500 InternalServerError');
    expect(`${err.message}${JSON.stringify(err)}${logged.join('')}`).not.toContain('secret-token');
    expect(logged.length).toBeGreaterThan(0);
    c.close();
  });

  it('parses Retry-After', () => {
    const now = Date.parse('2025-03-11T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 11 Mar 2025 12:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
