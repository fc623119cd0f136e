import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { createSlackReceiver } from '../../src/receivers/slack.js';
import { createTeamsReceiver } from '../../src/receivers/teams.js';
import type { Receiver } from '../../src/receivers/receiver.js';
import { checkAdaptiveCard, checkBlockKit } from '../alerts/render-check.js';
import { makeAlert } from '../alerts/make-alert.js';
import { HOSTILE_CORPUS } from '../fixtures/hostile.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });
const T0 = Date.parse('2025-03-01T12:00:00.000Z');

let server: WebhookServer;
beforeEach(async () => {
  server = await startWebhookServer({ path: '/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX' });
});
afterEach(async () => {
  await server.close();
});

describe('slack receiver', () => {
  const slack = (locale?: 'en' | 'fr') => createSlackReceiver({ name: 'chat', url: server.url, timeoutMs: 5000, clock: fixedClock(T0), ...(locale ? { locale } : {}) });

  it('posts a Block Kit message: header with severity, who/what/when/where, explanation, evidence, numbered steps', async () => {
    const r = slack();
    expect(r).toMatchObject({ name: 'chat', type: 'slack' });
    const alert = makeAlert();
    expect(await r.send([alert], ctx())).toEqual({ status: 'ok' });
    const req = server.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req.body) as Record<string, unknown> & { blocks: Array<Record<string, any>> };
    checkBlockKit(body);
    expect(body).toMatchObject({ unfurl_links: false, unfurl_media: false, text: 'Vigie: HIGH · Unusual sign-in' });
    const [header, fields, why, evidence, steps, footer] = body.blocks;
    expect(header!.text.text).toBe('HIGH · Sign-in from two countries too far apart');
    expect(fields!.fields.map((f: { text: string }) => f.text)).toEqual([
      'Who:\nalice@party.example (alice)',
      'What:\nUnusual sign-in — login.impossible-travel',
      'When:\n2025-03-01T10:00:00.000Z → 2025-03-01T10:42:00.000Z (2 events)',
      'Where:\nmicrosoft-365 / hq-m365 — Paris, FR (192.0.2.10); Lagos, NG (198.51.100.7)',
    ]);
    expect(why!.text.text).toBe(
      'alice@party.example signed in from Paris, then from Lagos 42 minutes later.\n• Paris → Lagos is 4,700 km; 42 minutes needs 6,700 km/h.\n• Lagos was never seen for this person.',
    );
    expect(evidence!.text.text).toContain('Evidence:\n• 2025-03-01T10:00:00.000Z signin 192.0.2.10 Paris, FR (event e1)');
    expect(steps!.text.text).toBe('What to do:\n1. Revoke the sessions of alice@party.example.\n2. Reset the password and check the MFA methods.');
    // The id in the footer tells copies apart; the count says the incident keeps firing.
    expect(footer!.elements[0].text).toBe(`Alert id: ${alert.id} · still firing: 2 events so far`);
  });

  it('speaks French with organisation.locale: fr', async () => {
    await slack('fr').send([makeAlert()], ctx());
    const body = server.bodies()[0] as { text: string; blocks: Array<Record<string, any>> };
    expect(body.text).toBe('Vigie: ÉLEVÉE · Connexion inhabituelle');
    expect(body.blocks[1]!.fields[0].text).toBe('Qui\u202f:\nalice@party.example (alice)');
    expect(JSON.stringify(body)).toContain('Que faire');
  });

  it('a group of 60 alerts with 50,000-character strings stays within Block Kit limits', async () => {
    const alerts = Array.from({ length: 60 }, (_, i) =>
      makeAlert({ id: `g${i}`.padEnd(32, '0'), title: HOSTILE_CORPUS.huge, summary: HOSTILE_CORPUS.hugeMentions, explanation: Array(40).fill(HOSTILE_CORPUS.huge) }),
    );
    expect(await slack().send(alerts, ctx())).toEqual({ status: 'ok' });
    const body = server.bodies()[0] as Record<string, unknown> & { blocks: Array<Record<string, any>> };
    checkBlockKit(body);
    expect(body.blocks[0]!.text.text).toBe('Vigie: 60 alerts · HIGH');
    expect(JSON.stringify(body)).toContain('54 more alerts in this group');
  });

  it.each([
    [410, 'permanent'],
    [404, 'permanent'],
    [403, 'permanent'],
    [429, 'retryable'],
    [500, 'retryable'],
  ] as const)('HTTP %i → %s, and the hook path never shows in the reason', async (status, verdict) => {
    server.script({ status, body: `channel_is_archived ${new URL(server.url).pathname}` });
    const res = await slack().send([makeAlert()], ctx());
    expect(res.status).toBe(verdict);
    expect((res as { reason: string }).reason).not.toContain('XXXXXXXXXXXXXXXXXXXXXXXX');
  });
});

describe('teams receiver', () => {
  const teams = (locale?: 'en' | 'fr'): Receiver =>
    createTeamsReceiver({ name: 'ops', url: server.url, timeoutMs: 5000, clock: fixedClock(T0), ...(locale ? { locale } : {}) });

  it('posts an Adaptive Card 1.4 with the same content, data only in TextRuns', async () => {
    server.setDefault({ status: 202 });
    const alert = makeAlert();
    expect(await teams().send([alert], ctx())).toEqual({ status: 'ok' });
    const body = server.bodies()[0] as Record<string, unknown>;
    const { runs, textBlocks } = checkAdaptiveCard(body);
    expect(textBlocks[0]).toBe('HIGH · Unusual sign-in');
    expect(runs).toContain('Sign-in from two countries too far apart');
    expect(runs).toEqual(expect.arrayContaining(['Who: ', 'alice@party.example (alice)', '1. Revoke the sessions of alice@party.example.', `Alert id: ${alert.id} · still firing: 2 events so far`]));
    expect(textBlocks).toEqual(expect.arrayContaining(['Why', 'Evidence', 'What to do']));
  });

  it('keeps Markdown, mentions and card functions from data inert', async () => {
    const s = `${HOSTILE_CORPUS.markdownLink} ${HOSTILE_CORPUS.adaptiveDate} <at>CEO</at> **urgent**`;
    await teams().send([makeAlert({ title: s, summary: s, explanation: [s], remediation: [s] })], ctx());
    const { runs, textBlocks } = checkAdaptiveCard(server.bodies()[0] as Record<string, unknown>);
    expect(runs.some((r) => r.includes('[Open the portal](https://evil.example)'))).toBe(true);
    for (const t of textBlocks) expect(t).not.toContain('evil');
    expect(JSON.stringify(server.bodies()[0])).not.toContain('"entities"');
  });

  it('groups: a heading, three detailed alerts and one line for each of the others, in French', async () => {
    const alerts = Array.from({ length: 8 }, (_, i) => makeAlert({ id: `t${i}`.padEnd(32, '0'), severity: i === 5 ? 'critical' : 'low' }));
    await teams('fr').send(alerts, ctx());
    const { runs, textBlocks } = checkAdaptiveCard(server.bodies()[0] as Record<string, unknown>);
    expect(textBlocks[0]).toBe('Vigie : 8 alertes · CRITIQUE');
    expect(textBlocks).toContain('5 autres alertes dans ce groupe :');
    expect(runs.filter((r) => r.startsWith('• '))).toHaveLength(5 + 3 * 4);
  });
});
