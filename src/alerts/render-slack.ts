import type { Alert } from './alert.js';
import { texts, type Locale, type Texts } from './i18n.js';
import { alertView, clip, compactLine, fitLines, highestSeverity, type AlertView } from './render-common.js';
import { severityLabel } from './i18n.js';

/** Block Kit limits (api.slack.com/reference/block-kit). */
export const SLACK_LIMITS = { blocks: 50, header: 150, sectionText: 3000, fields: 10, fieldText: 2000, contextElements: 10 } as const;

/** Alerts shown in full in one message (7 blocks each); the rest get one line each. */
const DETAILED = 6;

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji: false;
}

export type SlackBlock =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text: PlainText }
  | { type: 'section'; fields: PlainText[] }
  | { type: 'context'; elements: PlainText[] }
  | { type: 'divider' };

export interface SlackMessage {
  /** Notification fallback; Slack reads it as mrkdwn, so it holds only our own words. */
  text: string;
  blocks: SlackBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

/**
 * Every string is a `plain_text` object: Slack shows it as typed, so no mention (`<!channel>`),
 * link (`<url|label>`), or formatting (`*`, `_`, `~`, backticks) can come from data (P19).
 * `emoji: false` keeps `:shortcodes:` in data as typed too.
 */
function plain(text: string, max: number): PlainText {
  // Slack rejects an empty text object.
  return { type: 'plain_text', text: clip(text, max) || '-', emoji: false };
}

function alertBlocks(v: AlertView, t: Texts): SlackBlock[] {
  const c = t.colon;
  const blocks: SlackBlock[] = [{ type: 'header', text: plain(`${v.severity} · ${v.title || v.category}`, SLACK_LIMITS.header) }];
  const fields: Array<[string, string]> = [
    [t.who, v.who],
    [t.what, v.what],
    [t.when, v.when],
    [t.where, v.where],
  ];
  blocks.push({
    type: 'section',
    fields: fields.filter(([, value]) => value).map(([label, value]) => plain(`${label}${c}\n${value}`, SLACK_LIMITS.fieldText)),
  });
  const why = [v.summary, ...v.explanation.map((x) => `• ${x}`)].filter(Boolean);
  if (v.moreExplanation) why.push(t.andMore(v.moreExplanation));
  if (why.length) blocks.push({ type: 'section', text: plain(fitLines(why, SLACK_LIMITS.sectionText, t), SLACK_LIMITS.sectionText) });
  if (v.evidence.length) {
    const lines = [`${t.evidence}${c}`, ...v.evidence.map((x) => `• ${x}`)];
    if (v.moreEvidence) lines.push(t.andMore(v.moreEvidence));
    blocks.push({ type: 'section', text: plain(fitLines(lines, SLACK_LIMITS.sectionText, t), SLACK_LIMITS.sectionText) });
  }
  if (v.remediation.length) {
    const lines = [`${t.whatToDo}${c}`, ...v.remediation.map((x, i) => `${i + 1}. ${x}`)];
    if (v.moreRemediation) lines.push(t.andMore(v.moreRemediation));
    blocks.push({ type: 'section', text: plain(fitLines(lines, SLACK_LIMITS.sectionText, t), SLACK_LIMITS.sectionText) });
  }
  // The alert id in the footer is the key that tells copies apart (P2).
  const footer = [`${t.alertId}${c} ${v.id}`, v.firing, v.resolved ? `${t.status}${c} ${t.resolved}` : undefined].filter(Boolean).join(' · ');
  blocks.push({ type: 'context', elements: [plain(footer, SLACK_LIMITS.sectionText)] });
  return blocks;
}

/** A Block Kit message for one or more alerts, within Slack's limits whatever the alerts hold. */
export function renderSlack(alerts: Alert[], locale: Locale = 'en'): SlackMessage {
  const t = texts(locale);
  const blocks: SlackBlock[] = [];
  const top = highestSeverity(alerts);
  if (alerts.length > 1) blocks.push({ type: 'header', text: plain(`${t.groupHeading(alerts.length)} · ${severityLabel(t, top)}`, SLACK_LIMITS.header) });
  alerts.slice(0, DETAILED).forEach((a, i) => {
    if (i > 0) blocks.push({ type: 'divider' });
    blocks.push(...alertBlocks(alertView(a, t), t));
  });
  if (alerts.length > DETAILED) {
    const rest = alerts.slice(DETAILED);
    blocks.push({ type: 'divider' });
    blocks.push({
      type: 'section',
      text: plain(fitLines([t.moreAlerts(rest.length), ...rest.map((a) => `• ${compactLine(a, t)}`)], SLACK_LIMITS.sectionText, t), SLACK_LIMITS.sectionText),
    });
  }
  const text = alerts.length === 1 ? `Vigie: ${severityLabel(t, top)} · ${alertView(alerts[0]!, t).category}` : `${t.groupHeading(alerts.length)} · ${severityLabel(t, top)}`;
  return { text: slackSafeOwnWords(text), blocks: blocks.slice(0, SLACK_LIMITS.blocks), unfurl_links: false, unfurl_media: false };
}

/**
 * The fallback `text` is mrkdwn. It holds only our words, but a severity read from a damaged row
 * is data: escape the three control characters and drop formatting marks anyway.
 */
export function slackSafeOwnWords(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/[*_~`]/g, '');
}
