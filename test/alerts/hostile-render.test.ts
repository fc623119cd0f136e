import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { createDeliveryWorker } from '../../src/alerts/delivery.js';
import { renderEmail } from '../../src/alerts/render-email.js';
import { renderSlack } from '../../src/alerts/render-slack.js';
import { renderTeams } from '../../src/alerts/render-teams.js';
import { renderAlertText } from '../../src/alerts/render-text.js';
import { fixedClock } from '../../src/clock.js';
import { createLogger } from '../../src/log.js';
import type { Receiver } from '../../src/receivers/receiver.js';
import { Store } from '../../src/store/store.js';
import { HOSTILE_CORPUS } from '../fixtures/hostile.js';
import { makeAlert } from './make-alert.js';
import { FORBIDDEN, checkAdaptiveCard, checkBlockKit, checkEmailHtml } from './render-check.js';

/** The string in every field an attacker can reach. */
function everywhere(s: string, over: Partial<Alert> = {}): Alert {
  return makeAlert({
    rule: s,
    title: s,
    account: s,
    person: s,
    provider: s,
    source: s,
    summary: s,
    time: s,
    last_time: s,
    explanation: [s, s],
    evidence: [{ event_id: s, time: s, kind: s, ip: s, country: s, city: s, detail: s }],
    remediation: [s],
    ...over,
  });
}

/** The same shape with harmless text: how many lines our own structure makes. */
const benign = makeAlert({ person: 'someone-else', count: 2 });
const lineCount = (s: string) => s.split('\n').length;
const slackNewlines = (m: object) => JSON.stringify(m).split('\\n').length;

function checkAll(alert: Alert): void {
  // Text (terminal, e-mail text part)
  for (const locale of ['en', 'fr'] as const) {
    const text = renderAlertText(alert, locale);
    expect(text).not.toMatch(FORBIDDEN);
    expect(lineCount(text)).toBeLessThanOrEqual(lineCount(renderAlertText(benign, locale)));
  }
  // Slack
  const slack = renderSlack([alert]);
  checkBlockKit(slack as unknown as Record<string, unknown>);
  expect(slackNewlines(slack)).toBeLessThanOrEqual(slackNewlines(renderSlack([benign])));
  // Teams
  checkAdaptiveCard(renderTeams([alert]) as unknown as Record<string, unknown>);
  // E-mail
  const mail = renderEmail([alert]);
  expect(mail.subject).not.toMatch(/[\r\n]/);
  expect(mail.subject).not.toMatch(FORBIDDEN);
  expect(mail.subject).not.toContain('=?');
  expect(mail.subject.length).toBeLessThan(160);
  checkEmailHtml(mail.html);
  expect(mail.text).not.toMatch(FORBIDDEN);
}

describe('hostile strings through every renderer', () => {
  it.each(Object.entries(HOSTILE_CORPUS))('%s: no mention, link, markup, header or extra line', (_name, s) => {
    checkAll(everywhere(s));
  });

  it('a group of many hostile alerts stays within every platform limit', () => {
    const alerts = Object.values(HOSTILE_CORPUS).map((s, i) => everywhere(s, { id: `h${i}`.padEnd(32, '0') }));
    checkBlockKit(renderSlack(alerts) as unknown as Record<string, unknown>);
    checkAdaptiveCard(renderTeams(alerts) as unknown as Record<string, unknown>);
    const mail = renderEmail(alerts);
    checkEmailHtml(mail.html);
    expect(mail.subject).toMatch(new RegExp(`^\\[Vigie\\] HIGH: ${alerts.length} alerts \\(\\d+ accounts\\)$`));
  });

  it('the Slack mention and link strings appear only as plain_text, verbatim', () => {
    const slack = renderSlack([everywhere(HOSTILE_CORPUS.slackLink)]);
    const header = slack.blocks[0]!;
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: `HIGH · ${HOSTILE_CORPUS.slackLink}`, emoji: false } });
  });

  it('HTML strings are escaped text in the e-mail, never elements', () => {
    const mail = renderEmail([everywhere(HOSTILE_CORPUS.script)]);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).not.toContain('<script>');
  });

  it('CR/LF and encoded words cannot shape the subject', () => {
    expect(renderEmail([makeAlert({ account: HOSTILE_CORPUS.subjectBcc })]).subject).toBe('[Vigie] HIGH: Unusual sign-in (Alert Bcc: attacker@evil.example)');
    expect(renderEmail([makeAlert({ account: HOSTILE_CORPUS.encodedWord })]).subject).not.toContain('=?');
    // The title and summary (rule and attacker text) never reach the subject.
    expect(renderEmail([makeAlert({ title: 'URGENT: wire money', summary: 'x' })]).subject).not.toContain('URGENT');
  });

  it('property: arbitrary Unicode in every field never escapes its text object', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 400 }),
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom('<', '>', '&', '!', '@', '*', '_', '~', '`', '[', ']', '(', ')', '{', '}', '\n', '\r', '\x1b', '\u2028', '\u202e', '=?', '|', '#', ' ', 'a', '\ud800'), maxLength: 200 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        checkAll(everywhere(s));
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile strings through the delivery log', () => {
  it('every record is one JSON line without control characters, whatever the receivers say', async () => {
    const clock = fixedClock('2025-03-01T12:00:00Z');
    const store = Store.open({ path: ':memory:', clock });
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    const values = Object.values(HOSTILE_CORPUS);
    let i = 0;
    const liar: Receiver = {
      name: 'liar',
      type: 'test',
      send: async () => (i++ % 2 ? { status: 'permanent', reason: values[i % values.length]! } : { status: 'retryable', reason: values[i % values.length]! }),
    };
    const quiet: Receiver = { name: 'quiet', type: 'test', send: async () => ({ status: 'ok' }) };
    const worker = createDeliveryWorker({ store, receivers: new Map([['liar', liar], ['quiet', quiet]]), clock, log, retryBudgetMs: 3_600_000, initialBackoffMs: 1000, maxBackoffMs: 60_000, random: () => 0.5 });
    values.forEach((s, n) => {
      const a = everywhere(s, { id: `l${n}`.padEnd(32, '0'), title: 'TITLE-MARKER', summary: 'SUMMARY-MARKER' });
      store.upsertAlert(a);
      store.enqueue(a.id, 'liar');
    });
    for (let k = 0; k < 200 && store.outboxCounts().pending > 0; k++) {
      await worker.deliverDue();
      clock.advance(60_000);
    }
    store.close();
    expect(lines.length).toBeGreaterThan(values.length);
    for (const chunk of lines) {
      const records = chunk.split('\n').filter(Boolean);
      expect(records).toHaveLength(1);
      expect(() => JSON.parse(records[0]!)).not.toThrow();
      expect(records[0]).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u2028\u2029]/);
    }
    // The alerts' own text never reaches the log.
    expect(lines.join('')).not.toMatch(/TITLE-MARKER|SUMMARY-MARKER/);
  });
});
