import { describe, expect, it } from 'vitest';
import type { CenterAlert } from '../../../connectors/google-workspace/normalize-alert.js';
import { GOOGLE_WORKSPACE_SCOPES } from '../../../connectors/google-workspace/index.js';
import type { VigieError } from '../../../src/errors.js';
import type { LogStream, StateStream } from '../../../src/pipeline/connector.js';
import { DAY, HOUR, pullAll, setup, snapshotAll, STORY } from './setup.js';

describe('Gmail settings state stream', () => {
  it('is off unless gmail_settings is on', async () => {
    const t = await setup({ config: { gmail_settings: false } });
    expect(t.connector.streams.some((s) => s.name === 'gmail-settings')).toBe(false);
  });

  it('reads every active user as that user, and reports forwarding, hiding filters, delegates and IMAP', async () => {
    const t = await setup({ at: STORY.attackDay + 12 * HOUR, fake: { pageSize: 3 } });
    const scopes = await snapshotAll(t.stream('gmail-settings') as StateStream, t.ctx());
    const active = t.fake.dataset.users.filter((u) => !u.suspended).map((u) => u.primaryEmail).sort();
    expect(scopes.map((s) => s.scope)).toEqual(active);
    const keys = Object.fromEntries(scopes.map((s) => [s.scope, s.objects.map((o) => o.key)]));
    expect(keys[STORY.target]).toEqual(['auto-forwarding', 'filter:ANe1BmhQ5xYz', 'mail-protocols']);
    expect(keys['alice@party.example']).toEqual(['delegate:bruno@party.example', 'mail-protocols']);
    expect(keys['emma@party.example']).toEqual(['filter:ANe1Bnews01', 'mail-protocols']);
    const filter = scopes.find((s) => s.scope === STORY.target)!.objects[1]!.event;
    expect(filter).toMatchObject({ kind: 'mailbox_rule', time: new Date(STORY.attackDay + 12 * HOUR).toISOString(), details: { mechanism: 'gmail_filter', forward_to: [STORY.exfilAddress], delete: true } });

    const gmailCalls = t.fake.requests.filter((r) => r.path.startsWith('/gmail/'));
    expect(gmailCalls).toHaveLength(active.length * 6);
    for (const r of gmailCalls) {
      expect(r.path).toContain(`/users/${encodeURIComponent(r.subject!)}/settings/`);
      expect(r.scopes).toEqual([GOOGLE_WORKSPACE_SCOPES.gmailSettings]);
    }
    const dir = t.fake.requests.filter((r) => r.path === '/admin/directory/v1/users');
    expect(dir.length).toBe(4);
    expect(dir[0]).toMatchObject({ subject: STORY.admin, scopes: [GOOGLE_WORKSPACE_SCOPES.directory], query: { customer: 'my_customer', maxResults: '500' } });
  });

  it('before the attack the target mailbox only has IMAP on', async () => {
    const t = await setup({ at: STORY.attackDay });
    const scopes = await snapshotAll(t.stream('gmail-settings') as StateStream, t.ctx());
    expect(scopes.find((s) => s.scope === STORY.target)!.objects.map((o) => o.key)).toEqual(['mail-protocols']);
  });

  it('skips a mailbox without Gmail, leaving its previous snapshot alone', async () => {
    const t = await setup();
    t.fake.fail({ match: '/gmail/v1/users/bruno%40party.example/settings/filters', status: 400, reason: 'failedPrecondition', message: 'Mail service not enabled' });
    const scopes = await snapshotAll(t.stream('gmail-settings') as StateStream, t.ctx());
    expect(scopes.map((s) => s.scope)).not.toContain('bruno@party.example');
    expect(scopes).toHaveLength(9);
  });

  it('backs off on Gmail quota errors', async () => {
    const t = await setup();
    t.fake.fail({ match: '/gmail/v1/users/chloe%40party.example/settings/delegates', status: 429, reason: 'userRateLimitExceeded', times: 2 });
    const scopes = await snapshotAll(t.stream('gmail-settings') as StateStream, t.ctx());
    expect(scopes).toHaveLength(10);
    expect(t.sleeps).toEqual([5_000, 10_000]);
  });

  it('fails the run naming the missing delegated scope when Gmail refuses', async () => {
    const t = await setup();
    t.fake.forbid('/gmail/');
    await expect(snapshotAll(t.stream('gmail-settings') as StateStream, t.ctx())).rejects.toMatchObject({
      code: 'SOURCE_UNAUTHORIZED',
      message: expect.stringContaining(GOOGLE_WORKSPACE_SCOPES.gmailSettings),
    });
  });
});

describe('Alert Center log stream', () => {
  it('lists alerts by createTime window, oldest first, paging; the cursor moves after the last page', async () => {
    const t = await setup({ fake: { pageSize: 1 } });
    const stream = t.stream('alert-center') as LogStream<CenterAlert>;
    const { pages, error } = await pullAll(stream, undefined, t.ctx());
    expect(error).toBeUndefined();
    expect(pages.map((p) => p.records.map((a) => a.type))).toEqual([['User reported phishing'], ['Government attack warning'], ['Suspicious login']]);
    expect(pages.map((p) => p.cursor)).toEqual([undefined, undefined, { end: new Date(STORY.end).toISOString() }]);
    const req = t.fake.requests[0]!;
    expect(req).toMatchObject({ path: '/v1beta1/alerts', subject: STORY.admin, scopes: [GOOGLE_WORKSPACE_SCOPES.alerts] });
    expect(req.query).toEqual({
      filter: `createTime >= "${new Date(STORY.end - 10 * DAY).toISOString()}" AND createTime < "${new Date(STORY.end).toISOString()}"`,
      orderBy: 'createTime asc',
      pageSize: '100',
    });
    const events = pages.flatMap((p) => p.records.flatMap((r) => stream.normalize(r)));
    expect(events.map((e) => [e.account, e.details.name])).toEqual([
      ['emma@party.example', 'google.alert.user_reported_phishing'],
      [STORY.target, 'google.gov_attack_warning'],
      [STORY.target, 'google.suspicious_login'],
    ]);
    expect(events[2]!.ip).toBe(STORY.blockedIp);
  });

  it('sends the customer id without its C, and re-reads the overlap', async () => {
    const t = await setup({ config: { customer: STORY.customerId } });
    const stream = t.stream('alert-center') as LogStream;
    await pullAll(stream, { end: new Date(STORY.end - HOUR).toISOString() }, t.ctx());
    expect(t.fake.requests[0]!.query.customerId).toBe('03pty0ex');
    expect(t.fake.requests[0]!.query.filter).toContain(`createTime >= "${new Date(STORY.end - 4 * HOUR).toISOString()}"`);
  });

  it('a refusal becomes a monitor event naming the Alert Center privilege', async () => {
    const t = await setup();
    t.fake.forbid('/v1beta1/alerts');
    const stream = t.stream('alert-center') as LogStream;
    const { pages, error } = await pullAll(stream, undefined, t.ctx());
    expect((error as VigieError).code).toBe('SOURCE_UNAUTHORIZED');
    const [e] = stream.normalize(pages[0]!.records[0]);
    expect(e).toMatchObject({ kind: 'monitor', details: { type: 'access_lost', stream: 'alert-center' } });
    expect(e!.details.missing).toContain('Alert Center');
    expect(e!.details.missing).toContain(GOOGLE_WORKSPACE_SCOPES.alerts);
  });
});
