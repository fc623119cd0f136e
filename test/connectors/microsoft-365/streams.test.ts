import { afterEach, describe, expect, it } from 'vitest';
import { ACCESS_SCOPE } from '../../../connectors/microsoft-365/inbox-rules.js';
import { normalizeAuditRecord } from '../../../connectors/microsoft-365/normalize-audit.js';
import { fixedClock } from '../../../src/clock.js';
import type { SnapshotScope } from '../../../src/pipeline/connector.js';
import { startFakeMicrosoft365, type FakeKnobs, type FakeMicrosoft365 } from '../../fakes/microsoft-365/server.js';
import { connectorFor, ctxFor, pullAll, stream } from './setup.js';

const HOUR = 3_600_000;
const ATTACK = Date.parse('2025-03-11T09:00:00Z');
let fake: FakeMicrosoft365 | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(knobs: Partial<FakeKnobs> = {}, at = ATTACK + 12 * HOUR, over: Record<string, unknown> = {}) {
  const clock = fixedClock(at);
  fake = await startFakeMicrosoft365({ now: () => clock.now(), knobs });
  return { clock, fake, ...connectorFor(fake, clock, over) };
}

describe('microsoft-365 Graph log streams against the fake', () => {
  it('follows @odata.nextLink across pages and moves the cursor only when the window is complete', async () => {
    const { clock, fake: f, connector } = await setup({ graphPageSize: 7 });
    const s = stream(connector, 'signins', 'log');
    const { pages, events, cursor } = await pullAll(s, undefined, ctxFor(clock));
    const expected = f.tenant.signIns.filter((x) => x.visibleAt <= clock.now() && x.at >= clock.now() - 7 * 86_400_000);
    expect(pages.length).toBe(Math.ceil(expected.length / 7));
    expect(new Set(events.map((e) => e.id)).size).toBe(expected.length);
    for (const p of pages.slice(0, -1)) expect(p.cursor).toEqual({});
    expect(cursor).toEqual({ since: clock.now() });
    const moscow = events.find((e) => e.ip === '203.0.113.66' && e.outcome === 'success')!;
    expect(moscow.geo).toEqual({ country: 'RU', city: 'Moscow', lat: 55.7558, lon: 37.6173, source: 'provider' });
    expect(moscow.details).toMatchObject({ client: 'imap', legacy_auth: true, provider_risk: { level: 'medium', signals: ['unfamiliarFeatures'] } });
    // The next run re-reads only the overlap (30 min by default) behind the cursor.
    clock.advance(10 * 60_000);
    f.requests.length = 0;
    await pullAll(s, cursor, ctxFor(clock));
    const filter = new URL(f.requests.find((r) => r.path.includes('signIns'))!.path, f.graphUrl).searchParams.get('$filter');
    expect(filter).toBe(`createdDateTime ge ${new Date(clock.now() - 40 * 60_000).toISOString()} and createdDateTime le ${new Date(clock.now()).toISOString()}`);
  });

  it('refuses a paging link to another host: the token is not sent and the run fails (P16)', async () => {
    const { clock, fake: f, connector } = await setup();
    f.inject({ server: 'graph', path: /directoryAudits/, status: 200, body: { value: [], '@odata.nextLink': `${f.manageUrl}/steal?x=1` } });
    const err = (await pullAll(stream(connector, 'directory-audits', 'log'), undefined, ctxFor(clock)).catch((e: unknown) => e)) as Error & { code: string };
    expect(err.code).toBe('SOURCE_FAILED');
    expect(f.requests.some((r) => r.path.startsWith('/steal'))).toBe(false);
  });

  it('gets a fresh token when the old one is rejected in the middle of paging (P15)', async () => {
    const { clock, fake: f, connector } = await setup({ graphPageSize: 10 });
    const s = stream(connector, 'signins', 'log');
    let pages = 0;
    for await (const _p of s.pull(undefined, ctxFor(clock))) if (++pages === 2) f.revokeTokens();
    expect(pages).toBeGreaterThan(3);
    expect(f.tokensIssued.filter((t) => t.startsWith('fake-graph')).length).toBe(2);
  });

  it('retries 429 with Retry-After, and without it on Identity Protection', async () => {
    const { clock, fake: f, connector, sleeps } = await setup();
    f.inject({ server: 'graph', path: /riskDetections/, status: 429, body: { error: { code: 'TooManyRequests', message: 'slow down' } }, times: 2 });
    f.inject({ server: 'graph', path: /signIns/, status: 429, headers: { 'Retry-After': '3' }, body: { error: { code: 'TooManyRequests' } } });
    f.inject({ server: 'graph', path: /signIns/, status: 504, body: {} });
    const risk = await pullAll(stream(connector, 'risk-detections', 'log'), undefined, ctxFor(clock));
    expect(risk.events.map((e) => e.details.name)).toEqual(['entra.risk.unfamiliarFeatures']);
    expect(sleeps).toEqual([1500, 3000]); // backoff with jitter (random fixed at 0.5)
    await pullAll(stream(connector, 'signins', 'log'), undefined, ctxFor(clock));
    expect(sleeps.slice(2)).toEqual([3000, 3000]); // Retry-After, then backoff for the 504
  });

  it('without Entra P1: one monitor event naming the licence, then the stream rests until the config changes', async () => {
    const { clock, fake: f, connector, cfg } = await setup({ licence: 'basic' });
    const s = stream(connector, 'signins', 'log');
    const first = await pullAll(s, undefined, ctxFor(clock));
    expect(first.events).toHaveLength(1);
    const m = first.events[0]!;
    expect(m).toMatchObject({ kind: 'monitor', provider: 'microsoft-365', source: 'hq-m365', details: { type: 'licence_missing', stream: 'signins', provider_code: 'Authentication_RequestFromNonPremiumTenantOrB2CTenant' } });
    expect(String(m.details.description)).toContain('Microsoft Entra ID P1 or P2');
    // Next poll: no request at all.
    f.requests.length = 0;
    clock.advance(HOUR);
    const second = await pullAll(s, first.cursor, ctxFor(clock));
    expect(second.pages).toHaveLength(0);
    expect(f.requests.filter((r) => r.path.includes('signIns'))).toHaveLength(0);
    // A day later it looks again; failing again gives the same event id, which dedupe drops.
    clock.advance(25 * HOUR);
    const third = await pullAll(s, first.cursor, ctxFor(clock));
    expect(third.events.map((e) => e.id)).toEqual([m.id]);
    // A changed configuration (here: the licence was bought and the app re-created) probes at once.
    f.knobs.licence = 'premium';
    const other = connectorFor(f, clock, { client_secret: f.clientSecret, streams: ['signins', 'audit-exchange'] });
    expect(other.cfg.streams).toEqual(['signins', 'audit-exchange']);
    const fourth = await pullAll(stream(other.connector, 'signins', 'log'), third.cursor, ctxFor(clock));
    expect(fourth.events.length).toBeGreaterThan(100);
    expect(fourth.cursor).not.toHaveProperty('skipped');
    await other.connector.close?.();
    void cfg;
  });

  it('a missing permission names the permission', async () => {
    const { clock, connector } = await setup({ missingPermissions: ['AuditLog.Read.All'] });
    const { events } = await pullAll(stream(connector, 'directory-audits', 'log'), undefined, ctxFor(clock));
    expect(events[0]!.details).toMatchObject({ type: 'access_lost', provider_code: 'Authorization_RequestDenied' });
    expect(String(events[0]!.details.missing)).toContain('AuditLog.Read.All');
  });
});

describe('microsoft-365 Management Activity streams against the fake', () => {
  /** Every event the fake tenant's Exchange audit records should give once visible. */
  function expectedExchangeIds(f: FakeMicrosoft365): Set<string> {
    return new Set(
      f.tenant.audit.filter((a) => a.contentType === 'Audit.Exchange').flatMap((a) => normalizeAuditRecord(a.item, { source: 'hq-m365' }).map((e) => e.id)),
    );
  }

  it('finds every record despite late, delayed-listing and out-of-order blobs, fetching each blob once', async () => {
    const { clock, fake: f, connector } = await setup({ listingDelayRate: 0.5, contentPageSize: 3 }, ATTACK - HOUR);
    const s = stream(connector, 'audit-exchange', 'log');
    const ids = new Set<string>();
    let cursor: unknown;
    let dupes = 0;
    for (const at of [ATTACK - HOUR, ATTACK + HOUR, ATTACK + 3 * HOUR, ATTACK + 6 * HOUR, ATTACK + 14 * HOUR]) {
      clock.set(at);
      const r = await pullAll(s, cursor, ctxFor(clock, { backfillMs: 7 * 86_400_000 }));
      for (const e of r.events) ids.has(e.id) ? dupes++ : ids.add(e.id);
      cursor = r.cursor;
    }
    const expected = expectedExchangeIds(f);
    // The first run looks back 7 days, the API limit; everything after that point arrives.
    const firstStart = ATTACK - HOUR - 7 * 86_400_000 + 10 * 60_000;
    const reachable = [...expected].filter((id) => {
      const a = f.tenant.audit.find((x) => normalizeAuditRecord(x.item, { source: 'hq-m365' }).some((e) => e.id === id))!;
      return a.visibleAt >= firstStart;
    });
    expect(reachable.length).toBeGreaterThan(8);
    for (const id of reachable) expect(ids.has(id), id).toBe(true);
    // Repeated records (another key order) came back as the same ids; the runner's dedupe absorbs them.
    expect(dupes).toBeGreaterThan(0);
    const blobs = f.requests.filter((r) => r.path.includes('/activity/feed/audit/')).map((r) => r.path);
    expect(new Set(blobs).size).toBe(blobs.length);
    // Paging through NextPageUri happened, and every listing window was at most 24 h.
    const listings = f.requests.filter((r) => r.path.includes('subscriptions/content'));
    expect(listings.some((r) => r.path.includes('nextPage='))).toBe(true);
    for (const l of listings) {
      const u = new URL(l.path, f.manageUrl);
      expect(Date.parse(`${u.searchParams.get('endTime')}Z`) - Date.parse(`${u.searchParams.get('startTime')}Z`)).toBeLessThanOrEqual(86_400_000);
    }
    // The subscription was started once.
    expect(f.requests.filter((r) => r.path.includes('subscriptions/start'))).toHaveLength(1);
  });

  it('lists on whole seconds: a run a few ms past a 24 h boundary sends no empty window (AF20055)', async () => {
    const now = ATTACK + 12 * HOUR + 700;
    const { clock, fake: f, connector } = await setup({}, now);
    // The last run ended 24 h and 300 ms ago: with the 24 h overlap, two full days and 300 ms to list.
    await pullAll(stream(connector, 'audit-exchange', 'log'), { until: now - 86_400_000 - 300, done: {} }, ctxFor(clock));
    const windows = f.requests
      .filter((r) => r.path.includes('subscriptions/content') && !r.path.includes('nextPage='))
      .map((r) => new URL(r.path, f.manageUrl).searchParams)
      .map((q) => [Date.parse(`${q.get('startTime')}Z`), Date.parse(`${q.get('endTime')}Z`)] as const);
    expect(windows).toHaveLength(2);
    for (const [start, end] of windows) expect(end).toBeGreaterThan(start);
    expect(windows.at(-1)![1]).toBe(Math.floor(now / 1000) * 1000);
  });

  it('keeps going through AF429 throttling and tolerates an already-enabled subscription', async () => {
    const { clock, fake: f, connector, sleeps } = await setup({ throttleRate: 0.3 });
    await pullAll(stream(connector, 'audit-general', 'log'), undefined, ctxFor(clock));
    const again = connectorFor(f, clock);
    const r = await pullAll(stream(again.connector, 'audit-azure-ad', 'log'), undefined, ctxFor(clock));
    const r2 = await pullAll(stream(connectorFor(f, clock).connector, 'audit-azure-ad', 'log'), undefined, ctxFor(clock));
    expect(sleeps.length + again.sleeps.length).toBeGreaterThan(0);
    expect(r.events.filter((e) => e.kind === 'signin').length).toBeGreaterThan(100);
    expect(r2.events.length).toBe(r.events.length);
    await again.connector.close?.();
  });

  it('without ActivityFeed.Read: a monitor event for the audit path, while Graph keeps working', async () => {
    const { clock, connector } = await setup({ missingPermissions: ['ActivityFeed.Read'] });
    const audit = await pullAll(stream(connector, 'audit-exchange', 'log'), undefined, ctxFor(clock));
    expect(audit.events).toHaveLength(1);
    expect(audit.events[0]!.details).toMatchObject({ type: 'access_lost', provider_code: 'AF10001' });
    expect(String(audit.events[0]!.details.missing)).toContain('ActivityFeed.Read');
    const graph = await pullAll(stream(connector, 'signins', 'log'), undefined, ctxFor(clock));
    expect(graph.events.length).toBeGreaterThan(100);
  });

  it('an expired blob is a data gap event, not a stopped stream', async () => {
    const { clock, fake: f, connector } = await setup();
    f.inject({ server: 'manage', path: /\/activity\/feed\/audit\//, status: 400, body: { error: { code: 'AF20051', message: 'Content requested with the key has already expired.' } } });
    const r = await pullAll(stream(connector, 'audit-exchange', 'log'), undefined, ctxFor(clock));
    const gaps = r.events.filter((e) => e.kind === 'monitor');
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.details.type).toBe('data_gap');
    expect(r.events.length).toBeGreaterThan(1);
  });
});

describe('microsoft-365 inbox rules snapshot against the fake', () => {
  async function snapshot(s: ReturnType<typeof stream<'state'>>, clock: ReturnType<typeof fixedClock>): Promise<SnapshotScope[]> {
    const out: SnapshotScope[] = [];
    for await (const sc of s.snapshot(ctxFor(clock))) out.push(sc);
    return out;
  }

  it('reads every mailbox in $batch requests, re-queues items throttled inside a batch, and skips guests and accounts without mail', async () => {
    const { clock, fake: f, connector, sleeps } = await setup({ batchThrottleItems: 3 });
    const scopes = await snapshot(stream(connector, 'inbox-rules', 'state'), clock);
    const mailboxes = scopes.filter((s) => s.scope !== ACCESS_SCOPE).map((s) => s.scope).sort();
    expect(mailboxes).toEqual(f.tenant.users.map((u) => u.upn).sort());
    expect(sleeps).toEqual([2000]);
    expect(f.requests.filter((r) => r.path === '/v1.0/$batch')).toHaveLength(2);
    const claire = scopes.find((s) => s.scope === 'claire.dubois@party.example')!;
    expect(claire.objects).toHaveLength(1);
    expect(claire.objects[0]!.event.details).toMatchObject({ rule_id: 'AQAAAClaire1=', forward_to: ['claire.archive@mail.example.net'], delete: true, mark_as_read: true });
    // Users were listed through their nextLinks.
    expect(f.requests.filter((r) => r.path.startsWith('/v1.0/users')).length).toBeGreaterThan(1);
  });

  it('honours the mailbox selection', async () => {
    const { clock, connector } = await setup({}, ATTACK + 12 * HOUR, { mailboxes: { exclude: ['claire.dubois@party.example'] } });
    const scopes = await snapshot(stream(connector, 'inbox-rules', 'state'), clock);
    expect(scopes.map((s) => s.scope)).not.toContain('claire.dubois@party.example');
    expect(scopes).toHaveLength(10);
  });

  it('without MailboxSettings.Read: one monitor object in the access scope, mailboxes left as they were', async () => {
    const { clock, fake: f, connector } = await setup({ missingPermissions: ['MailboxSettings.Read'] });
    const s = stream(connector, 'inbox-rules', 'state');
    const scopes = await snapshot(s, clock);
    expect(scopes).toHaveLength(1);
    expect(scopes[0]!.scope).toBe(ACCESS_SCOPE);
    expect(scopes[0]!.objects[0]!.event).toMatchObject({ kind: 'monitor', details: { type: 'access_lost', stream: 'inbox-rules' } });
    expect(String(scopes[0]!.objects[0]!.event.details.missing)).toContain('MailboxSettings.Read');
    // Resting: the next run repeats the same object without asking Graph.
    f.requests.length = 0;
    const again = await snapshot(s, clock);
    expect(again).toEqual(scopes);
    expect(f.requests).toHaveLength(0);
  });
});
