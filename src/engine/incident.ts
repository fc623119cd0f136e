import { alertId, SEVERITIES, type Alert, type Evidence } from '../alerts/alert.js';
import { PROVIDERS, type VigieEvent } from '../events.js';
import type { CompiledRule } from './compile-rule.js';
import type { Finding } from './detectors/index.js';
import { mergeEvidence } from './evidence.js';
import { plainText } from './text.js';

/**
 * One ongoing incident of a (rule, group): the dedupe window that keeps the alert id stable. The
 * window opens at the event time of the first alert and lasts the rule's `dedupe`.
 */
export interface IncidentState {
  start: number;
  id: string;
  first: string;
  last: string;
  count: number;
  evidence: Evidence[];
  /** The detector's lines when the incident opened: the facts that made it fire first. */
  lines: string[];
  /** The highest severity an event of this incident raised it to, and why: it never goes down. */
  severity?: Alert['severity'];
  severity_reason?: string;
}

function minIso(a: string, b: string): string {
  return Date.parse(a) <= Date.parse(b) ? a : b;
}

function maxIso(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

/**
 * The incident after this event: same window (and id) while within `dedupe` of its start, a new
 * one otherwise. `count` is the number of events behind it: the ten failures that crossed a
 * threshold count as ten, and each later event adds the ones not seen before.
 */
export function nextIncident(
  prev: IncidentState | undefined,
  ruleId: string,
  groupKey: string,
  event: VigieEvent,
  t: number,
  dedupeMs: number,
  evidence: readonly Evidence[],
  lines: readonly string[],
): IncidentState {
  const earliest = evidence.reduce((m, e) => minIso(m, e.time), event.time);
  // Late events a little before the window still belong to it: the incident is the same.
  if (prev && t < prev.start + dedupeMs && t > prev.start - dedupeMs) {
    const known = new Set(prev.evidence.map((e) => e.event_id));
    const added = new Set(evidence.map((e) => e.event_id).filter((id) => !known.has(id)));
    return {
      ...prev,
      first: minIso(prev.first, earliest),
      last: maxIso(prev.last, event.time),
      count: prev.count + Math.max(1, added.size),
      evidence: mergeEvidence(prev.evidence, evidence),
    };
  }
  return {
    start: t,
    id: alertId(ruleId, groupKey, new Date(t).toISOString()),
    first: earliest,
    last: event.time,
    count: Math.max(1, new Set(evidence.map((e) => e.event_id)).size),
    evidence: mergeEvidence([], evidence),
    lines: lines.map((l) => plainText(l, 600)),
  };
}

const PROVIDER_KEYS = PROVIDERS.filter((p) => p !== 'vigie');

/**
 * The steps for the event's provider, filled with the alert's own values as plain text; all of
 * them, labelled, when the provider is not one the rule knows.
 */
function remediationFor(rule: CompiledRule, event: VigieEvent, values: Record<string, unknown>): string[] {
  const fill = (steps: readonly ((e: VigieEvent, v: Record<string, unknown>) => string)[] | undefined) => (steps ?? []).map((t) => t(event, values));
  if ((PROVIDER_KEYS as readonly string[]).includes(event.provider)) {
    return fill(rule.remediation[event.provider as (typeof PROVIDER_KEYS)[number]]);
  }
  return PROVIDER_KEYS.flatMap((p) => fill(rule.remediation[p]).map((step) => `${p}: ${step}`));
}

/** The rule's severity, raised by the first `escalate` entry the event matches. */
function severityFor(rule: CompiledRule, event: VigieEvent): { severity: Alert['severity']; reason?: string } {
  for (const e of rule.escalate) {
    if (e.test(event)) {
      const severity = SEVERITIES.indexOf(e.severity) > SEVERITIES.indexOf(rule.info.severity) ? e.severity : rule.info.severity;
      return e.reason ? { severity, reason: e.reason } : { severity };
    }
  }
  return { severity: rule.info.severity };
}

/** The DESIGN §6 alert for the incident, as of this event. */
export function buildAlert(rule: CompiledRule, event: VigieEvent, findings: readonly Finding[], incident: IncidentState): Alert {
  const values = Object.assign({}, ...findings.map((f) => f.values)) as Record<string, unknown>;
  const current = findings.flatMap((f) => f.lines).map((l) => plainText(l, 600));
  // The opening facts stay first; a later event adds its own facts (a threshold grown, the trip back).
  const facts = current.join('\n') === incident.lines.join('\n') ? current : [...incident.lines, ...current];
  const now = severityFor(rule, event);
  // A later, milder event of the same incident must not lower what an earlier one raised.
  const keep = incident.severity !== undefined && SEVERITIES.indexOf(incident.severity) > SEVERITIES.indexOf(now.severity);
  const raised = keep ? { severity: incident.severity!, ...(incident.severity_reason ? { reason: incident.severity_reason } : {}) } : now;
  incident.severity = raised.severity;
  if (raised.reason) incident.severity_reason = raised.reason;
  const lines = [...facts, ...rule.explain.map((tpl) => tpl(event, values))].filter((l) => l !== '');
  if (raised.reason) lines.push(`Severity ${raised.severity}: ${raised.reason}`);
  if (lines.length === 0) lines.push(`The ${event.kind} event of ${event.time} matched the rule's conditions.`);
  const aboutAccount = rule.groupBy.some((g) => g.path === 'account' || g.path === 'person');
  const alert: Alert = {
    id: incident.id,
    rule: rule.info.id,
    title: rule.info.title,
    category: rule.info.category,
    severity: raised.severity,
    status: 'firing',
    time: incident.first,
    last_time: incident.last,
    count: incident.count,
    summary: rule.summary(event, values),
    explanation: lines,
    evidence: incident.evidence,
    remediation: remediationFor(rule, event, values),
  };
  if (aboutAccount) {
    alert.account = event.account;
    if (event.person) alert.person = event.person;
  }
  alert.provider = event.provider;
  alert.source = event.source;
  return alert;
}
