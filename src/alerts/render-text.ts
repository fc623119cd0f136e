import type { Alert, Evidence } from './alert.js';
import { plainText } from './sanitize.js';

// A terminal block is read by a person: long lists are cut with a count rather than scrolled.
const MAX_LIST = 20;
const LINE = 300;
const SHORT = 120;

function bounded<T>(items: readonly T[] | undefined, render: (item: T, i: number) => string): string[] {
  const all = Array.isArray(items) ? items : [];
  const lines = all.slice(0, MAX_LIST).map(render);
  if (all.length > MAX_LIST) lines.push(`  … and ${all.length - MAX_LIST} more`);
  return lines;
}

function evidenceLine(e: Evidence): string {
  if (!e || typeof e !== 'object') return `  - ${plainText(e, 200)}`;
  const place = [e.city, e.country].map((x) => plainText(x, SHORT)).filter(Boolean).join(', ');
  const head = [plainText(e.time, 40), plainText(e.kind, 40), plainText(e.ip, 60), place].filter(Boolean).join(' ');
  const detail = e.detail ? ` — ${plainText(e.detail, 200)}` : '';
  return `  - ${head}${detail} (event ${plainText(e.event_id, 80)})`;
}

/**
 * A readable block for a terminal or a text email part. Every alert field goes through
 * `plainText`, so the only line breaks and the only structure are ours.
 */
export function renderAlertText(alert: Alert): string {
  const severity = plainText(alert.severity, 20).toUpperCase();
  const lines: string[] = [`[${severity}] ${plainText(alert.rule, SHORT)} — ${plainText(alert.title, LINE)}`];

  const account = plainText(alert.account, SHORT);
  const person = plainText(alert.person, SHORT);
  if (account || person) lines.push(`Who: ${account && person && person !== account ? `${account} (${person})` : account || person}`);

  const first = plainText(alert.time, 40);
  const last = plainText(alert.last_time, 40);
  const count = Number.isFinite(alert.count) ? alert.count : 1;
  const span = last && last !== first ? `${first} → ${last}` : first;
  lines.push(`When: ${span}${count > 1 ? ` (${count} events)` : ''}`);

  const origin = [plainText(alert.provider, 60), plainText(alert.source, 60)].filter(Boolean).join(' / ');
  if (origin) lines.push(`Source: ${origin}`);
  if (alert.status === 'resolved') lines.push('Status: resolved');
  const summary = plainText(alert.summary, LINE);
  if (summary) lines.push(summary);

  const why = bounded(alert.explanation, (x) => `  - ${plainText(x, LINE)}`);
  if (why.length) lines.push('Why:', ...why);
  const evidence = bounded(alert.evidence, evidenceLine);
  if (evidence.length) lines.push('Evidence:', ...evidence);
  const steps = bounded(alert.remediation, (x, i) => `  ${i + 1}. ${plainText(x, LINE)}`);
  if (steps.length) lines.push('What to do:', ...steps);

  lines.push(`Alert id: ${plainText(alert.id, 80)}`);
  return lines.join('\n');
}
