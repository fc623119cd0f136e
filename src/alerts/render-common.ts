import { severityRank, type Alert, type Severity } from './alert.js';
import { categoryLabel, severityLabel, type Texts } from './i18n.js';
import { evidenceText, originText, whenText, whoText, alertCount } from './render-text.js';
import { plainText } from './sanitize.js';

/**
 * What every chat and mail renderer shows of one alert, already sanitised into single lines.
 * The renderers only add structure; no string here can carry a line break or a control character.
 */
export interface AlertView {
  id: string;
  severity: string;
  category: string;
  rule: string;
  title: string;
  who: string;
  what: string;
  when: string;
  where: string;
  summary: string;
  explanation: string[];
  evidence: string[];
  remediation: string[];
  /** Set when the incident kept firing: our words with its count. */
  firing?: string;
  resolved: boolean;
  moreExplanation: number;
  moreEvidence: number;
  moreRemediation: number;
}

export interface ViewLimits {
  items: number;
  line: number;
  evidence: number;
}

export const DEFAULT_LIMITS: ViewLimits = { items: 10, line: 300, evidence: 5 };

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function places(alert: Alert): string {
  const seen = new Set<string>();
  for (const e of list(alert.evidence)) {
    if (!e || typeof e !== 'object') continue;
    const ev = e as Alert['evidence'][number];
    const place = [ev.city, ev.country].map((x) => plainText(x, 60)).filter(Boolean).join(', ');
    const ip = plainText(ev.ip, 60);
    const item = [place, ip && `(${ip})`].filter(Boolean).join(' ');
    if (item) seen.add(item);
    if (seen.size >= 3) break;
  }
  return [...seen].join('; ');
}

export function alertView(alert: Alert, t: Texts, limits: ViewLimits = DEFAULT_LIMITS): AlertView {
  const explanation = list(alert.explanation);
  const evidence = list(alert.evidence);
  const remediation = list(alert.remediation);
  const count = alertCount(alert);
  const where = [originText(alert), places(alert)].filter(Boolean).join(' — ');
  return {
    id: plainText(alert.id, 80),
    severity: severityLabel(t, alert.severity),
    category: categoryLabel(t, alert.category),
    rule: plainText(alert.rule, 120),
    title: plainText(alert.title, limits.line),
    who: whoText(alert),
    what: `${categoryLabel(t, alert.category)} — ${plainText(alert.rule, 120)}`,
    when: whenText(alert, t),
    where,
    summary: plainText(alert.summary, 1000),
    explanation: explanation.slice(0, limits.items).map((x) => plainText(x, limits.line)).filter(Boolean),
    evidence: evidence.slice(0, limits.evidence).map((e) => evidenceText(e as Alert['evidence'][number], t, 120)).filter(Boolean),
    remediation: remediation.slice(0, limits.items).map((x) => plainText(x, limits.line)).filter(Boolean),
    ...(count > 1 && alert.status !== 'resolved' ? { firing: t.keepsFiring(count) } : {}),
    resolved: alert.status === 'resolved',
    moreExplanation: Math.max(0, explanation.length - limits.items),
    moreEvidence: Math.max(0, evidence.length - limits.evidence),
    moreRemediation: Math.max(0, remediation.length - limits.items),
  };
}

/** The most severe level among the alerts (for subjects and headings). */
export function highestSeverity(alerts: Alert[]): Severity | undefined {
  let best: Severity | undefined;
  for (const a of alerts) {
    if (severityRank(a.severity) < 0) continue;
    if (best === undefined || severityRank(a.severity) > severityRank(best)) best = a.severity;
  }
  return best;
}

/** One line per alert for the alerts a message has no room to detail. */
export function compactLine(alert: Alert, t: Texts): string {
  const who = whoText(alert);
  return `${severityLabel(t, alert.severity)} · ${plainText(alert.title, 150)}${who ? ` (${who})` : ''} · ${t.alertId} ${plainText(alert.id, 80)}`;
}

/**
 * Cuts to at most `max` UTF-16 code units (what Slack and Teams count), never inside a surrogate
 * pair, marking the cut with an ellipsis.
 */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Joins lines, dropping whole lines that would not fit, and says how many were left out. */
export function fitLines(lines: string[], max: number, t: Texts): string {
  const full = lines.join('\n');
  if (full.length <= max) return full;
  const out: string[] = [];
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const tail = t.andMore(lines.length - i);
    if (size + line.length + 1 + tail.length > max) {
      out.push(out.length === 0 ? clip(line, max - tail.length - 1) : '', tail);
      break;
    }
    out.push(line);
    size += line.length + 1;
  }
  return clip(out.filter(Boolean).join('\n'), max);
}
