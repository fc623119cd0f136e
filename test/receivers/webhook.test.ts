import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createWebhookReceiver, parseRetryAfter } from '../../src/receivers/webhook.js';
import type { SendResult } from '../../src/receivers/receiver.js';
import { makeAlert } from '../alerts/make-alert.js';
import { refusedUrl, startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const T0 = Date.parse('2025-03-01T12:00:00.000Z');
const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });

/**
 * Standard Webhooks verification written from the spec, independently of src/: what a receiving
 * service would run.
 */
function verifyStandardWebhook(secret: string, headers: Record<string, string | string[] | undefined>, body: string): boolean {
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  const sigHeader = String(headers['webhook-signature'] ?? '');
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.substring(6), 'base64') : Buffer.from(secret);
  const expected = createHmac('sha256', key).update(id + '.' + ts + '.' + body).digest();
  return sigHeader.split(' ').some((part) => {
    const [version, sig] = part.split(',');
    if (version !== 'v1' || !sig) return false;
    const got = Buffer.from(sig, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

let server: WebhookServer;
beforeEach(async () => {
  server = await startWebhookServer();
});
afterEach(async () => {
  await server.close();
});

describe('webhook receiver', () => {
  it('POSTs {"alerts":[alert]} with Standard Webhooks headers and a verifiable signature', async () => {
    const secret = 'whsec_' + Buffer.from('0123456789abcdef0123456789abcdef').toString('base64');
    const r = createWebhookReceiver({ name: 'soc', url: server.url, secret, timeoutMs: 5000, clock: fixedClock(T0) });
    expect(r).toMatchObject({ name: 'soc', type: 'webhook' });
    const alert = makeAlert();
    expect(await r.send([alert], ctx())).toEqual({ status: 'ok' });

    expect(server.requests).toHaveLength(1);
    const req = server.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['webhook-id']).toBe(alert.id);
    expect(req.headers['webhook-timestamp']).toBe(String(T0 / 1000));
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(req.body)).toEqual({ alerts: [alert] });
    expect(verifyStandardWebhook(secret, req.headers, req.body)).toBe(true);
    expect(verifyStandardWebhook(secret, req.headers, req.body.replace('alice', 'mallory'))).toBe(false);
    expect(verifyStandardWebhook('whsec_' + Buffer.from('another key').toString('base64'), req.headers, req.body)).toBe(false);
  });

  it('uses a secret without the whsec_ prefix as raw UTF-8 key bytes', async () => {
    const secret = 'correct horse battery staple';
    const r = createWebhookReceiver({ name: 'soc', url: server.url, secret, timeoutMs: 5000, clock: fixedClock(T0) });
    await r.send([makeAlert()], ctx());
    const req = server.requests[0]!;
    expect(verifyStandardWebhook(secret, req.headers, req.body)).toBe(true);
  });

  it('sends no signature without a secret, and the same id on every attempt', async () => {
    const clock = fixedClock(T0);
    const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 5000, clock });
    const alert = makeAlert();
    await r.send([alert], ctx());
    clock.advance(60_000);
    await r.send([alert], { ...ctx(), attempt: 2 });
    expect(server.requests.map((q) => q.headers['webhook-signature'])).toEqual([undefined, undefined]);
    expect(server.requests.map((q) => q.headers['webhook-id'])).toEqual([alert.id, alert.id]);
    expect(server.requests.map((q) => q.headers['webhook-timestamp'])).toEqual([String(T0 / 1000), String(T0 / 1000 + 60)]);
    expect(server.requests[0]!.body).toBe(server.requests[1]!.body);
  });

  it('sends URL credentials as Basic auth', async () => {
    const url = server.url.replace('http://', 'http://vigie:p%40ss@');
    const r = createWebhookReceiver({ name: 'soc', url, timeoutMs: 5000 });
    expect(await r.send([makeAlert()], ctx())).toEqual({ status: 'ok' });
    expect(server.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from('vigie:p@ss').toString('base64')}`);
  });

  it('rejects a URL that is not http(s)', () => {
    expect(() => createWebhookReceiver({ name: 'x', url: 'file:///etc/passwd', timeoutMs: 1 })).toThrow(/https:\/\//);
    expect(() => createWebhookReceiver({ name: 'x', url: 'not a url', timeoutMs: 1 })).toThrow(/not a valid URL/);
  });

  describe('classifies answers (Standard Webhooks table)', () => {
    const date = new Date(T0 + 120_000).toUTCString();
    it.each<[string, { status: number; headers?: Record<string, string> }, SendResult['status'], number | undefined]>([
      ['200', { status: 200 }, 'ok', undefined],
      ['204', { status: 204 }, 'ok', undefined],
      ['301 (never followed)', { status: 301, headers: { location: 'http://127.0.0.1:9/elsewhere' } }, 'permanent', undefined],
      ['400', { status: 400 }, 'permanent', undefined],
      ['401', { status: 401 }, 'permanent', undefined],
      ['403', { status: 403 }, 'permanent', undefined],
      ['404', { status: 404 }, 'permanent', undefined],
      ['408', { status: 408 }, 'retryable', undefined],
      ['410', { status: 410 }, 'permanent', undefined],
      ['429 with Retry-After seconds', { status: 429, headers: { 'retry-after': '7' } }, 'retryable', 7000],
      ['429 with Retry-After HTTP-date', { status: 429, headers: { 'retry-after': date } }, 'retryable', 120_000],
      ['429 without Retry-After', { status: 429 }, 'retryable', undefined],
      ['500', { status: 500 }, 'retryable', undefined],
      ['503 with Retry-After', { status: 503, headers: { 'retry-after': '30' } }, 'retryable', 30_000],
    ])('%s', async (_name, answer, status, retryAfterMs) => {
      server.script(answer);
      const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 5000, clock: fixedClock(T0) });
      const res = await r.send([makeAlert()], ctx());
      expect(res.status).toBe(status);
      expect(server.requests).toHaveLength(1);
      if (res.status === 'retryable') expect(res.retryAfterMs).toBe(retryAfterMs);
      if (res.status !== 'ok') expect(res.reason).toContain(`HTTP ${answer.status}`);
    });

    it('a redirect is not followed, even to a live server', async () => {
      const other = await startWebhookServer();
      try {
        server.script({ status: 302, headers: { location: other.url } });
        const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 5000 });
        const res = await r.send([makeAlert()], ctx());
        expect(res).toMatchObject({ status: 'permanent', reason: expect.stringContaining('redirect') });
        expect(other.requests).toHaveLength(0);
      } finally {
        await other.close();
      }
    });

    it('connection refused is retryable', async () => {
      const r = createWebhookReceiver({ name: 'soc', url: await refusedUrl(), timeoutMs: 5000 });
      const res = await r.send([makeAlert()], ctx());
      expect(res).toMatchObject({ status: 'retryable', reason: expect.stringContaining('ECONNREFUSED') });
    });

    it('a server that never answers times out as retryable', async () => {
      server.script({ status: 200, hang: true });
      const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 150 });
      const res = await r.send([makeAlert()], ctx());
      expect(res).toMatchObject({ status: 'retryable', reason: expect.stringContaining('within 150 ms') });
    });

    it('a cancelled send (shutdown) is retryable', async () => {
      server.script({ status: 200, hang: true });
      const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 10_000 });
      const ac = new AbortController();
      const pending = r.send([makeAlert()], { signal: ac.signal, attempt: 1 });
      setTimeout(() => ac.abort(), 50);
      expect(await pending).toMatchObject({ status: 'retryable', reason: expect.stringContaining('cancelled') });
    });
  });

  it('keeps the URL secret and the signing secret out of reasons, and bounds the body excerpt', async () => {
    const secret = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5';
    const url = server.url.replace('/hook', '/hooks/T000/B000/XyZsEcReTpAtHsEgMeNt?token=supersecret123');
    // A server that echoes everything it got, then a lot more.
    server.script({ status: 404, body: `Not found: POST ${new URL(url).pathname}${new URL(url).search} key=${secret} ` + 'x'.repeat(10_000) });
    const r = createWebhookReceiver({ name: 'soc', url, secret, timeoutMs: 5000 });
    const res = await r.send([makeAlert()], ctx());
    expect(res.status).toBe('permanent');
    const reason = (res as { reason: string }).reason;
    expect(reason).toContain(new URL(url).origin);
    expect(reason).not.toMatch(/supersecret123|XyZsEcReTpAtHsEgMeNt|c2VjcmV0LXNpZ25pbmcta2V5|token=/);
    expect(reason.length).toBeLessThan(300);
    expect(reason).not.toContain('\n');
  });

  it('sanitises the error body into one line', async () => {
    server.script({ status: 500, body: 'boom\r\n\x1b[2J{"level":30}\u202e' });
    const r = createWebhookReceiver({ name: 'soc', url: server.url, timeoutMs: 5000 });
    const res = await r.send([makeAlert()], ctx());
    expect(res).toMatchObject({ status: 'retryable', reason: expect.stringMatching(/HTTP 500: boom {"level":30}$/) });
  });
});

describe('parseRetryAfter', () => {
  it.each<[string | null, number | undefined]>([
    ['3', 3000],
    ['0', 0],
    ['86400', 86_400_000],
    ['-1', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined],
    [new Date(T0 + 3_000).toUTCString(), 3000],
    [new Date(T0 - 60_000).toUTCString(), 0],
  ])('%s → %s', (value, ms) => {
    expect(parseRetryAfter(value, T0)).toBe(ms);
  });
});
