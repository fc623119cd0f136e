import { describe, expect, it } from 'vitest';
import type { Activity } from '../../../connectors/google-workspace/activity.js';
import { GOOGLE_WORKSPACE_SCOPES } from '../../../connectors/google-workspace/index.js';
import { VigieError } from '../../../src/errors.js';
import type { LogStream } from '../../../src/pipeline/connector.js';
import { DAY, HOUR, pullAll, setup, STORY } from './setup.js';

const REPORTS = '/admin/reports/v1/activity/users/all/applications/';
const quals = (pages: { records: unknown[] }[]) => pages.flatMap((p) => (p.records as Activity[]).map((a) => a.id!.uniqueQualifier!));
const visible = (t: Awaited<ReturnType<typeof setup>>, app: string) =>
  (t.fake.dataset.activities.get(app) ?? []).filter((a) => a.visibleAt <= t.clock.now()).map((a) => a.activity.id!.uniqueQualifier!);

describe('Reports API log streams', () => {
  it('reads a backfill a day at a time, pages with maxResults 1000, and commits a window only after its last page', async () => {
    const t = await setup({ fake: { pageSize: 5 } });
    const stream = t.stream('reports-login') as LogStream;
    const { pages, error } = await pullAll(stream, undefined, t.ctx());
    expect(error).toBeUndefined();
    expect(quals(pages).sort()).toEqual(visible(t, 'login').sort());
    const reqs = t.fake.requests.filter((r) => r.path === `${REPORTS}login`);
    expect(reqs.every((r) => r.query.maxResults === '1000' && r.query.userKey === undefined)).toBe(true);
    expect(reqs.filter((r) => r.query.pageToken).length).toBeGreaterThan(10);
    // A page token is only ever sent with the window it came from.
    reqs.forEach((r, i) => {
      if (r.query.pageToken) expect([r.query.startTime, r.query.endTime]).toEqual([reqs[i - 1]!.query.startTime, reqs[i - 1]!.query.endTime]);
    });
    expect(new Set(reqs.map((r) => r.query.startTime)).size).toBe(10);
    // The cursor moves once per window, to that window's end; pages inside a window keep the last one.
    const ends = pages.map((p) => (p.cursor as { end?: string } | undefined)?.end);
    const moves = ends.filter((e, i) => e !== (i === 0 ? undefined : ends[i - 1]));
    expect(moves).toEqual([...new Set(reqs.map((r) => r.query.endTime))]);
    expect(ends.at(-1)).toBe(new Date(STORY.end).toISOString());
    expect(pages.length).toBeGreaterThan(moves.length);
  });

  it('re-reads the overlap: late and out-of-order events are found on the next run, with the same ids', async () => {
    const t1 = STORY.attackDay + 8.5 * HOUR;
    const t = await setup({ at: t1 });
    const token = t.stream('reports-token') as LogStream<Activity>;
    const first = await pullAll(token, undefined, t.ctx());
    const c1 = first.pages.at(-1)!.cursor;
    expect(c1).toEqual({ end: new Date(t1).toISOString() });
    const rogue = (a: Activity) => JSON.stringify(a).includes(STORY.rogueClientId);
    // Google logged the 08:10 consent only at 10:40.
    expect(first.pages.flatMap((p) => p.records).some(rogue)).toBe(false);

    t.clock.set(STORY.attackDay + 11 * HOUR);
    const withoutOverlap = await pullAll(token, c1, t.ctx({ overlapMs: 0 }));
    expect(withoutOverlap.pages.flatMap((p) => p.records).some(rogue)).toBe(false);
    const second = await pullAll(token, c1, t.ctx());
    const found = second.pages.flatMap((p) => p.records).filter(rogue);
    expect(found).toHaveLength(1);
    expect(second.pages[0] && t.fake.requests.at(-1)!.query.startTime).toBe(new Date(t1 - 3 * HOUR).toISOString());
    const [consent] = token.normalize(found[0]!);
    expect(consent).toMatchObject({ kind: 'app_consent', id: expect.stringMatching(/^google-workspace:token:2026-03-10T08:10:00.000Z:/), details: { scopes: expect.arrayContaining(['https://mail.google.com/']) } });

    // The same activity re-read in the next overlap normalizes to the same id: dedupe absorbs it.
    t.clock.set(STORY.attackDay + 12 * HOUR);
    const third = await pullAll(token, second.pages.at(-1)!.cursor, t.ctx());
    const again = third.pages.flatMap((p) => p.records).filter(rogue);
    expect(token.normalize(again[0]!)[0]!.id).toBe(consent!.id);
  });

  it('a Takeout completion logged two hours late is still read', async () => {
    const t = await setup({ at: STORY.attackDay + 11 * HOUR });
    const takeout = t.stream('reports-takeout') as LogStream<Activity>;
    const names = (pages: { records: Activity[] }[]) => pages.flatMap((p) => p.records.map((a) => a.events![0]!.name));
    const first = await pullAll(takeout, undefined, t.ctx());
    expect(names(first.pages).sort()).toEqual(['DOWNLOADED_USER_TAKEOUT', 'STARTED_USER_TAKEOUT']);
    t.clock.set(STORY.attackDay + 13 * HOUR);
    const second = await pullAll(takeout, first.pages.at(-1)!.cursor, t.ctx());
    expect(names(second.pages)).toContain('COMPLETED_USER_TAKEOUT');
  });

  it('backs off on 429, 503 and 403 rateLimitExceeded, honouring Retry-After', async () => {
    const t = await setup();
    t.fake.fail({ match: `${REPORTS}login`, status: 429, reason: 'rateLimitExceeded', retryAfter: '7', times: 2 });
    t.fake.fail({ match: `${REPORTS}login`, status: 503, reason: 'backendError' });
    t.fake.fail({ match: `${REPORTS}login`, status: 403, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' });
    const { pages, error } = await pullAll(t.stream('reports-login') as LogStream, undefined, t.ctx({ backfillMs: DAY }));
    expect(error).toBeUndefined();
    expect(t.sleeps).toEqual([7_000, 10_000, 20_000, 40_000]);
    expect(pages.flatMap((p) => p.records).length).toBeGreaterThan(0);
    expect(t.fake.requests.map((r) => r.status)).toEqual([429, 429, 503, 403, 200]);
  });

  it('gives up after six attempts with SOURCE_THROTTLED, having committed nothing of the window', async () => {
    const t = await setup();
    t.fake.fail({ match: `${REPORTS}login`, status: 503, times: 6 });
    const { pages, error } = await pullAll(t.stream('reports-login') as LogStream, undefined, t.ctx({ backfillMs: DAY }));
    expect(pages).toEqual([]);
    expect(error).toBeInstanceOf(VigieError);
    expect((error as VigieError).code).toBe('SOURCE_THROTTLED');
    expect(t.sleeps).toEqual([5_000, 10_000, 20_000, 40_000, 60_000]);
  });

  it('turns any other 403 into a monitor event naming the missing privilege, without retrying', async () => {
    const t = await setup();
    t.fake.forbid(`${REPORTS}admin`);
    const stream = t.stream('reports-admin') as LogStream;
    const { pages, error } = await pullAll(stream, { end: '2026-03-10T00:00:00.000Z' }, t.ctx());
    expect((error as VigieError).code).toBe('SOURCE_UNAUTHORIZED');
    expect(t.sleeps).toEqual([]);
    expect(pages).toHaveLength(1);
    expect(pages[0]!.cursor).toEqual({ end: '2026-03-10T00:00:00.000Z' });
    const [event] = stream.normalize(pages[0]!.records[0]);
    expect(event).toMatchObject({
      kind: 'monitor',
      source: 'party-google',
      time: new Date(STORY.end).toISOString(),
      details: { type: 'access_lost', stream: 'reports-admin', status: 403, reason: 'forbidden' },
    });
    expect(event!.details.missing).toContain('"Reports" admin privilege');
    expect(event!.details.missing).toContain(GOOGLE_WORKSPACE_SCOPES.reports);
    expect(event!.details.missing).toContain(STORY.admin);
    expect(event!.id).toBe('google-workspace:reports-admin:access_lost:403:forbidden:2026-03-11');
  });

  it('an impersonated user without admin rights is refused the same way', async () => {
    const t = await setup({ config: { admin_subject: 'alice@party.example' } });
    const { error, pages } = await pullAll(t.stream('reports-login') as LogStream, undefined, t.ctx());
    expect((error as VigieError).code).toBe('SOURCE_UNAUTHORIZED');
    expect((error as Error).message).toContain('alice@party.example');
    expect(pages).toHaveLength(1);
  });

  it('a window that fails mid-paging restarts from its start on the next run, never with its page token', async () => {
    const t = await setup({ fake: { pageSize: 4 } });
    const stream = t.stream('reports-login') as LogStream;
    t.fake.fail({ match: ({ path, query }) => path === `${REPORTS}login` && query.get('startTime') === '2026-03-04T00:00:00.000Z' && query.has('pageToken'), status: 503, times: 6 });
    const first = await pullAll(stream, undefined, t.ctx());
    expect((first.error as VigieError).code).toBe('SOURCE_THROTTLED');
    const resumeFrom = first.pages.at(-1)!.cursor;
    expect(resumeFrom).toEqual({ end: '2026-03-04T00:00:00.000Z' });
    const before = t.fake.requests.length;
    const second = await pullAll(stream, resumeFrom, t.ctx());
    expect(second.error).toBeUndefined();
    const retried = t.fake.requests.slice(before);
    expect(retried[0]!.query).toMatchObject({ startTime: '2026-03-03T21:00:00.000Z' });
    expect(retried[0]!.query.pageToken).toBeUndefined();
    expect(retried.every((r) => r.status === 200)).toBe(true);
    expect(new Set([...quals(first.pages), ...quals(second.pages)])).toEqual(new Set(visible(t, 'login')));
  });

  it('asks for the narrowest scope, as the admin, with one client per subject and scopes', async () => {
    const t = await setup();
    for (let i = 0; i < 2; i++) {
      await pullAll(t.stream('reports-login') as LogStream, undefined, t.ctx({ backfillMs: DAY }));
      await pullAll(t.stream('reports-token') as LogStream, undefined, t.ctx({ backfillMs: DAY }));
    }
    expect(t.auth.issued).toEqual([{ subject: STORY.admin, scopes: [GOOGLE_WORKSPACE_SCOPES.reports] }]);
    expect(t.fake.requests.every((r) => r.subject === STORY.admin)).toBe(true);
  });

  it('has one stream per configured application', async () => {
    const t = await setup({ config: { applications: ['login', 'saml', 'login'], alert_center: false, gmail_settings: false } });
    expect(t.connector.streams.map((s) => s.name)).toEqual(['reports-login', 'reports-saml']);
    const d = await setup();
    expect(d.connector.streams.map((s) => s.name)).toEqual([
      'reports-login',
      'reports-user_accounts',
      'reports-token',
      'reports-admin',
      'reports-takeout',
      'reports-vault',
      'alert-center',
      'gmail-settings',
    ]);
  });
});
