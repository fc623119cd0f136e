import type { Alert } from './alert.js';
import { severityLabel, texts, type Locale, type Texts } from './i18n.js';
import { alertView, clip, compactLine, highestSeverity, type AlertView } from './render-common.js';

export const ADAPTIVE_CARD_VERSION = '1.4';
export const ADAPTIVE_CARD_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';

/** Alerts shown in full in one card; Teams refuses messages above about 28 KB. */
const DETAILED = 3;
const MAX_TEXT = 2000;

interface TextRun {
  type: 'TextRun';
  text: string;
  weight?: 'Bolder';
  size?: 'Large' | 'Medium';
  isSubtle?: boolean;
  color?: 'Attention' | 'Warning' | 'Good' | 'Accent';
}

export type CardElement =
  | { type: 'TextBlock'; text: string; wrap: true; weight?: 'Bolder'; size?: 'Medium' | 'Large'; color?: TextRun['color']; isSubtle?: boolean; spacing?: 'Medium' }
  | { type: 'RichTextBlock'; inlines: TextRun[] }
  | { type: 'Container'; items: CardElement[]; separator?: boolean; spacing?: 'Large' };

export interface TeamsMessage {
  type: 'message';
  attachments: Array<{
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: { $schema: string; type: 'AdaptiveCard'; version: string; body: CardElement[]; msteams: { width: 'Full' } };
  }>;
}

/**
 * TextBlocks read Markdown (bold, italics, lists, `[links](url)`): backslash-escape every
 * character Markdown gives a meaning to. Only our own words go into TextBlocks; data goes in
 * TextRuns, which the schema renders without Markdown.
 */
export function escapeTeamsMarkdown(s: string): string {
  return s
    .replace(/[\\`*_{}[\]()#|<>~]/g, '\\$&')
    .replace(/^(\s*)([-+]|\d+\.)(?=\s)/gm, (_m, space: string, marker: string) => `${space}${marker.replace(/([-+.])/, '\\$1')}`);
}

/**
 * Data in a TextRun: no Markdown there, but Adaptive Cards expand `{{DATE(...)}}`/`{{TIME(...)}}`
 * in text, so a pair of braces from data is broken up.
 */
function dataText(s: string): string {
  return clip(s, MAX_TEXT).replace(/\{\{/g, '{\u00a0{').replace(/\}\}/g, '}\u00a0}');
}

function ours(text: string, extra: Partial<Omit<Extract<CardElement, { type: 'TextBlock' }>, 'type' | 'text' | 'wrap'>> = {}): CardElement {
  return { type: 'TextBlock', text: escapeTeamsMarkdown(text), wrap: true, ...extra };
}

function line(...runs: TextRun[]): CardElement {
  return { type: 'RichTextBlock', inlines: runs.filter((r) => r.text !== '') };
}

function run(text: string, style: Omit<TextRun, 'type' | 'text'> = {}): TextRun {
  return { type: 'TextRun', text: dataText(text), ...style };
}

function colour(severity: string): TextRun['color'] {
  return severity === 'critical' || severity === 'high' ? 'Attention' : severity === 'medium' ? 'Warning' : 'Accent';
}

function alertItems(a: Alert, v: AlertView, t: Texts): CardElement[] {
  const c = t.colon;
  const items: CardElement[] = [
    ours(`${v.severity} · ${v.category}`, { weight: 'Bolder', color: colour(String(a.severity)) }),
    line(run(v.title || v.rule, { weight: 'Bolder', size: 'Large' })),
  ];
  for (const [label, value] of [
    [t.who, v.who],
    [t.what, v.what],
    [t.when, v.when],
    [t.where, v.where],
  ] as const) {
    if (value) items.push(line(run(`${label}${c} `, { weight: 'Bolder' }), run(value)));
  }
  if (v.summary) items.push(line(run(v.summary)));
  const section = (heading: string, lines: string[], more: number) => {
    if (!lines.length) return;
    items.push(ours(heading, { weight: 'Bolder', spacing: 'Medium' }));
    for (const l of lines) items.push(line(run(l)));
    if (more) items.push(line(run(t.andMore(more), { isSubtle: true })));
  };
  section(t.why, v.explanation.map((x) => `• ${x}`), v.moreExplanation);
  section(t.evidence, v.evidence.map((x) => `• ${x}`), v.moreEvidence);
  section(t.whatToDo, v.remediation.map((x, i) => `${i + 1}. ${x}`), v.moreRemediation);
  const footer = [`${t.alertId}${c} ${v.id}`, v.firing, v.resolved ? `${t.status}${c} ${t.resolved}` : undefined].filter(Boolean).join(' · ');
  items.push(line(run(footer, { isSubtle: true })));
  return items;
}

/** A Teams message (incoming webhook or Workflows "post to a channel") holding one Adaptive Card. */
export function renderTeams(alerts: Alert[], locale: Locale = 'en'): TeamsMessage {
  const t = texts(locale);
  const body: CardElement[] = [];
  if (alerts.length > 1) body.push(ours(`${t.groupHeading(alerts.length)} · ${severityLabel(t, highestSeverity(alerts))}`, { size: 'Large', weight: 'Bolder' }));
  alerts.slice(0, DETAILED).forEach((a, i) => {
    body.push({ type: 'Container', items: alertItems(a, alertView(a, t), t), ...(i > 0 || alerts.length > 1 ? { separator: true, spacing: 'Large' as const } : {}) });
  });
  if (alerts.length > DETAILED) {
    const rest = alerts.slice(DETAILED);
    const items: CardElement[] = [ours(t.moreAlerts(rest.length), { weight: 'Bolder' })];
    for (const a of rest.slice(0, 30)) items.push(line(run(`• ${compactLine(a, t)}`)));
    if (rest.length > 30) items.push(line(run(t.andMore(rest.length - 30), { isSubtle: true })));
    body.push({ type: 'Container', items, separator: true, spacing: 'Large' });
  }
  body.push(ours(t.footer, { isSubtle: true, size: 'Medium' }));
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: { $schema: ADAPTIVE_CARD_SCHEMA, type: 'AdaptiveCard', version: ADAPTIVE_CARD_VERSION, body, msteams: { width: 'Full' } },
      },
    ],
  };
}
