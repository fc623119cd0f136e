import type { Alert, Evidence } from './alert.js';
import { severityLabel, texts, type Locale, type Texts } from './i18n.js';
import { plainText } from './sanitize.js';

// A terminal block is read by a person: long lists are cut with a count rather than scrolled.
const MAX_LIST = 20;
const LINE = 300;
const SHORT = 120;

function bounded<T>(t: Texts, items: readonly T[] | undefined, render: (item: T, i: number) => string): string[] {
  const all = Array.isArray(items) ? items : [];
  const lines = all.slice(0, MAX_LIST).map(render);
  if (all.length > MAX_LIST) lines.push(`  ${t.andMore(all.length - MAX_LIST)}`);
  return lines;
}

/** One evidence item as one line of sanitised text (shared by the text, Slack, Teams and e-mail renderers). */
export function evidenceText(e: Evidence, t: Texts = texts('en'), detailLen = 200): string {
  if (!e || typeof e !== 'object') return plainText(e, detailLen);
  const place = [e.city, e.country].map((x) => plainText(x, SHORT)).filter(Boolean).join(', ');
  const head = [plainText(e.time, 40), plainText(e.kind, 40), plainText(e.ip, 60), place].filter(Boolean).join(' ');
  const detail = e.detail ? ` — ${plainText(e.detail, detailLen)}` : '';
  return `${head}${detail} (${t.event} ${plainText(e.event_id, 80)})`;
}

/** `account (person)`, or whichever of the two the alert has; sanitised. */
export function whoText(alert: Alert): string {
  const account = plainText(alert.account, SHORT);
  const person = plainText(alert.person, SHORT);
  return account && person && person !== account ? `${account} (${person})` : account || person;
}

/** `first → last (n events)`; sanitised. */
export function whenText(alert: Alert, t: Texts = texts('en')): string {
  const first = plainText(alert.time, 40);
  const last = plainText(alert.last_time, 40);
  const count = alertCount(alert);
  const span = last && last !== first ? `${first} → ${last}` : first;
  return `${span}${count > 1 ? ` (${t.events(count)})` : ''}`;
}

/** `provider / source`; sanitised. */
export function originText(alert: Alert): string {
  return [plainText(alert.provider, 60), plainText(alert.source, 60)].filter(Boolean).join(' / ');
}

export function alertCount(alert: Alert): number {
  return Number.isFinite(alert.count) && alert.count > 0 ? Math.floor(alert.count) : 1;
}

/**
 * A readable block for a terminal or a text email part. Every alert field goes through
 * `plainText`, so the only line breaks and the only structure are ours.
 */
export function renderAlertText(alert: Alert, locale: Locale = 'en'): string {
  const t = texts(locale);
  const lines: string[] = [`[${severityLabel(t, alert.severity)}] ${plainText(alert.rule, SHORT)} — ${plainText(alert.title, LINE)}`];

  const who = whoText(alert);
  if (who) lines.push(`${t.who}${t.colon} ${who}`);
  lines.push(`${t.when}${t.colon} ${whenText(alert, t)}`);
  const origin = originText(alert);
  if (origin) lines.push(`${t.source}${t.colon} ${origin}`);
  if (alert.status === 'resolved') lines.push(`${t.status}${t.colon} ${t.resolved}`);
  const summary = plainText(alert.summary, LINE);
  if (summary) lines.push(summary);

  const why = bounded(t, alert.explanation, (x) => `  - ${plainText(x, LINE)}`);
  if (why.length) lines.push(`${t.why}${t.colon}`, ...why);
  const evidence = bounded(t, alert.evidence, (e) => `  - ${evidenceText(e, t)}`);
  if (evidence.length) lines.push(`${t.evidence}${t.colon}`, ...evidence);
  const steps = bounded(t, alert.remediation, (x, i) => `  ${i + 1}. ${plainText(x, LINE)}`);
  if (steps.length) lines.push(`${t.whatToDo}${t.colon}`, ...steps);

  lines.push(`${t.alertId}${t.colon} ${plainText(alert.id, 80)}`);
  return lines.join('\n');
}
