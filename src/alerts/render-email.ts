import type { Alert } from './alert.js';
import { severityLabel, texts, type Locale, type Texts } from './i18n.js';
import { alertView, compactLine, highestSeverity, type AlertView } from './render-common.js';
import { renderAlertText } from './render-text.js';
import { plainText } from './sanitize.js';

/** Alerts shown in full in one e-mail; the rest get one line each. */
const DETAILED = 20;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Escapes for HTML text and double-quoted attribute values alike. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/**
 * An account for the subject: one line, no RFC 2047 encoded-word opener (`=?`) that a mail
 * client would decode into something else, bounded.
 */
function subjectAccount(s: unknown): string {
  return plainText(s, 80).replace(/=\?/g, '= ?').replace(/\?=/g, '? =');
}

/**
 * `[Vigie] HIGH: Unusual sign-in (alice@party.example)`. Only our words plus the account: a rule
 * title or a message subject in the Subject header would let the attacker write the line the
 * reader sees first.
 */
export function emailSubject(alerts: Alert[], t: Texts): string {
  const severity = severityLabel(t, highestSeverity(alerts));
  const what = alerts.length === 1 ? alertView(alerts[0]!, t).category : t.alerts(alerts.length);
  const accounts = [...new Set(alerts.map((a) => subjectAccount(a.account)).filter(Boolean))];
  const who = accounts.length === 1 ? accounts[0]! : accounts.length > 1 ? t.accounts(accounts.length) : '';
  const subject = t.subject(severity, what, who);
  return (who ? subject : subject.replace(/ \(\)$/, '')).replace(/[\r\n]/g, ' ');
}

const STYLE = {
  body: 'font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1b1b1b;',
  h1: 'font-size:18px;margin:16px 0 4px 0;',
  sev: 'display:inline-block;padding:2px 6px;border-radius:3px;background:#b00020;color:#fff;font-size:12px;',
  label: 'padding:2px 12px 2px 0;color:#555;vertical-align:top;white-space:nowrap;',
  h2: 'font-size:14px;margin:12px 0 4px 0;',
  small: 'color:#666;font-size:12px;',
};

function htmlAlert(v: AlertView, t: Texts): string {
  const e = escapeHtml;
  const rows = ([
    [t.who, v.who],
    [t.what, v.what],
    [t.when, v.when],
    [t.where, v.where],
  ] as const)
    .filter(([, value]) => value)
    .map(([label, value]) => `<tr><td style="${STYLE.label}">${e(label)}</td><td>${e(value)}</td></tr>`)
    .join('');
  const list = (tag: 'ul' | 'ol', heading: string, items: string[], more: number) =>
    items.length
      ? `<h2 style="${STYLE.h2}">${e(heading)}</h2><${tag}>${items.map((x) => `<li>${e(x)}</li>`).join('')}</${tag}>${more ? `<p style="${STYLE.small}">${e(t.andMore(more))}</p>` : ''}`
      : '';
  const footer = [`${t.alertId}${t.colon} ${v.id}`, v.firing, v.resolved ? `${t.status}${t.colon} ${t.resolved}` : undefined].filter(Boolean).join(' · ');
  return [
    `<h1 style="${STYLE.h1}"><span style="${STYLE.sev}">${e(v.severity)}</span> ${e(v.title || v.category)}</h1>`,
    `<table role="presentation">${rows}</table>`,
    v.summary ? `<p>${e(v.summary)}</p>` : '',
    list('ul', t.why, v.explanation, v.moreExplanation),
    list('ul', t.evidence, v.evidence, v.moreEvidence),
    list('ol', t.whatToDo, v.remediation, v.moreRemediation),
    `<p style="${STYLE.small}">${e(footer)}</p>`,
  ].join('\n');
}

/**
 * The subject and both parts of an alert e-mail. The HTML is built from escaped text only: no
 * attribute, URL or style comes from data, and there are no links at all.
 */
export function renderEmail(alerts: Alert[], locale: Locale = 'en'): RenderedEmail {
  const t = texts(locale);
  const detailed = alerts.slice(0, DETAILED);
  const rest = alerts.slice(DETAILED);
  const text = [
    ...detailed.map((a) => renderAlertText(a, locale)),
    ...(rest.length ? [[t.moreAlerts(rest.length), ...rest.map((a) => `  - ${compactLine(a, t)}`)].join('\n')] : []),
    t.footer,
  ].join('\n\n');
  const views = detailed.map((a) => htmlAlert(alertView(a, t), t));
  const restHtml = rest.length
    ? `<h2 style="${STYLE.h2}">${escapeHtml(t.moreAlerts(rest.length))}</h2><ul>${rest.map((a) => `<li>${escapeHtml(compactLine(a, t))}</li>`).join('')}</ul>`
    : '';
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${locale === 'fr' ? 'fr' : 'en'}"><head><meta charset="utf-8"><title>${escapeHtml(emailSubject(alerts, t))}</title></head>`,
    `<body style="${STYLE.body}">`,
    views.join('\n<hr>\n'),
    restHtml,
    `<hr><p style="${STYLE.small}">${escapeHtml(t.footer)}</p>`,
    '</body></html>',
  ].join('\n');
  return { subject: emailSubject(alerts, t), text, html };
}
