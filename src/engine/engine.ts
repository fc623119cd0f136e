import type { Alert } from '../alerts/alert.js';
import type { VigieEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { CompiledRule } from './compile-rule.js';
import type { Finding } from './detectors/index.js';
import { eventTime } from './event-time.js';
import { formatDuration } from './text.js';
import { buildAlert, nextIncident, type IncidentState } from './incident.js';
import type { Engine, EvaluateContext } from './types.js';

/**
 * What the engine keeps per (rule, group): the detector's state and the open incident. `v` changes
 * when the shape of any state changes, so that state written by another version is dropped
 * (relearned) instead of misread.
 */
interface Stored {
  v: typeof STATE_VERSION;
  d?: unknown;
  i?: IncidentState;
}
const STATE_VERSION = 1;

/** How far outside its window an exception is still mentioned in an alert it did not suppress. */
const NEAR_MISS_MS = 7 * 86_400_000;

function readStored(x: unknown): Stored | undefined {
  return typeof x === 'object' && x !== null && (x as Stored).v === STATE_VERSION ? (x as Stored) : undefined;
}

function groupValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.length) return v.map(String).sort().join(',');
  return undefined;
}

function laterExpiry(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || b === null) return null;
  if (a === undefined) return b ?? null;
  if (b === undefined) return a;
  return Math.max(a, b);
}

/**
 * What `input: alerts` rules see under `alert.*`: the alerts the other rules raised on the same
 * event (one entry per alert, lists in the same order).
 */
export interface AlertFacts {
  rules: string[];
  categories: string[];
  severities: string[];
  tags: string[];
  summaries: string[];
}

export type EventWithAlerts = VigieEvent & { alert?: AlertFacts };

function factsOf(prev: AlertFacts | undefined, alerts: readonly Alert[], tagsOf: (rule: string) => readonly string[]): AlertFacts {
  const list = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : []);
  const f: AlertFacts = {
    rules: list(prev?.rules),
    categories: list(prev?.categories),
    severities: list(prev?.severities),
    tags: list(prev?.tags),
    summaries: list(prev?.summaries),
  };
  for (const a of alerts) {
    f.rules.push(a.rule);
    f.categories.push(a.category);
    f.severities.push(a.severity);
    for (const t of tagsOf(a.rule)) if (!f.tags.includes(t)) f.tags.push(t);
    f.summaries.push(`${a.rule}: ${a.summary}`);
  }
  return f;
}

/** Builds the engine over compiled rules; only enabled ones run, in id order. */
export function createEngine(rules: readonly CompiledRule[], log: Logger): Engine {
  const sorted = [...rules].sort((a, b) => a.info.id.localeCompare(b.info.id));
  const enabled = sorted.filter((r) => r.info.enabled);
  const tags = new Map(sorted.map((r) => [r.info.id, r.info.tags ?? []]));
  const tagsOf = (rule: string) => tags.get(rule) ?? [];
  const hasAlertRules = enabled.some((r) => r.input === 'alerts');
  // Rules that pin `kind` are only offered events of that kind.
  const byKind = new Map<string, CompiledRule[]>();
  const anyKind: CompiledRule[] = [];
  for (const r of enabled) {
    if (r.when.kinds) for (const k of r.when.kinds) byKind.set(k, [...(byKind.get(k) ?? []), r]);
    else anyKind.push(r);
  }
  const order = new Map(enabled.map((r, i) => [r, i]));
  const candidatesCache = new Map<string, CompiledRule[]>();
  const candidates = (kind: string): CompiledRule[] => {
    let list = candidatesCache.get(kind);
    if (!list) {
      list = [...(byKind.get(kind) ?? []), ...anyKind].sort((a, b) => order.get(a)! - order.get(b)!);
      candidatesCache.set(kind, list);
    }
    return list;
  };

  function runRule(rule: CompiledRule, event: VigieEvent, t: number, ctx: EvaluateContext): Alert | undefined {
    if (!rule.when.test(event)) return undefined;
    let nearMisses: string[] | undefined;
    for (const ex of rule.exceptions) {
      const started = ex.fromMs === undefined || t >= ex.fromMs;
      const ended = ex.untilMs !== undefined && t >= ex.untilMs;
      if (started && !ended) {
        if (ex.test(event)) return undefined;
        continue;
      }
      // An exception that would have covered this event a few days earlier or later (a trip that
      // ran over, or started early) is worth telling: the alert may be that trip.
      const gap = ended ? t - ex.untilMs! : ex.fromMs! - t;
      if (gap < NEAR_MISS_MS && ex.test(event)) {
        const when = new Date(ended ? ex.untilMs! : ex.fromMs!).toISOString();
        const what = ex.note ? `"${ex.note}"` : `at ${ex.where}`;
        const line = ended
          ? `An exception ${what} would have covered this event but ended at ${when}, ${formatDuration(gap)} before it.`
          : `An exception ${what} would cover this event but only starts at ${when}, ${formatDuration(gap)} after it.`;
        (nearMisses ??= []).push(line);
      }
    }
    let groupKey: string;
    let label: string;
    if (rule.groupBy.length === 1) {
      // Most rules group by one field: the key is the event's own string, no arrays to join.
      const g = rule.groupBy[0]!;
      const v = groupValue(g.read(event));
      if (v === undefined) return undefined; // cannot be grouped: the rule does not apply
      groupKey = v;
      label = `${g.path} ${v}`;
    } else {
      const parts: string[] = [];
      const labels: string[] = [];
      for (const g of rule.groupBy) {
        const v = groupValue(g.read(event));
        if (v === undefined) return undefined; // cannot be grouped: the rule does not apply
        parts.push(v);
        // Lines that use the label are made plain text when the alert is built.
        labels.push(`${g.path} ${v}`);
      }
      groupKey = parts.join('|');
      label = labels.join(', ');
    }
    const stored = readStored(ctx.state.get(rule.info.id, groupKey));
    const step = rule.detector.step(stored?.d, event, rule.params, label);
    const findings: Finding[] = ctx.learning ? [] : step.findings;
    let incident = stored?.i;
    let alert: Alert | undefined;
    if (findings.length) {
      const evidence = findings.flatMap((f) => f.evidence);
      const lines = findings.flatMap((f) => f.lines);
      incident = nextIncident(incident, rule.info.id, groupKey, event, t, rule.dedupeMs, evidence, lines);
      alert = buildAlert(rule, event, findings, incident);
      if (nearMisses) alert.explanation = [...alert.explanation, ...nearMisses];
    }
    const unchanged = stored !== undefined && step.state === stored.d && incident === stored.i;
    if (!unchanged && (step.state !== undefined || incident !== undefined || stored !== undefined)) {
      const value: Stored = { v: STATE_VERSION };
      if (step.state !== undefined) value.d = step.state;
      if (incident !== undefined) value.i = incident;
      const incidentEnd = incident ? incident.start + rule.dedupeMs : undefined;
      const expiresAt = laterExpiry(step.state === undefined ? undefined : step.expiresAt, incidentEnd);
      // Nothing left to remember: let the store prune the row at once.
      ctx.state.set(rule.info.id, groupKey, value, value.d === undefined && value.i === undefined ? t : expiresAt);
    }
    return alert;
  }

  return {
    rules: sorted.map((r) => r.info),
    evaluate(event, ctx) {
      const t = eventTime(event);
      const alerts: Alert[] = [];
      const run = (rule: CompiledRule, e: VigieEvent): Alert | undefined => {
        try {
          return runRule(rule, e, t, ctx);
        } catch (err) {
          // One broken rule must not blind the others.
          log.error({ err, rule: rule.info.id, event_id: event.id }, `Rule ${rule.info.id} failed on an event and was skipped for it.`);
          return undefined;
        }
      };
      const list = candidates(event.kind);
      for (const rule of list) {
        if (rule.input === 'alerts') continue;
        const alert = run(rule, event);
        if (alert) alerts.push(alert);
      }
      if (!hasAlertRules) return alerts;
      // Second pass: chains and the onboarding audit see the alerts just raised on this event (and
      // the alerts of the chain rules before them, so an exfiltration can follow a takeover).
      let current: EventWithAlerts = alerts.length ? { ...event, alert: factsOf((event as EventWithAlerts).alert, alerts, tagsOf) } : event;
      const second: Alert[] = [];
      for (const rule of list) {
        if (rule.input !== 'alerts') continue;
        const alert = run(rule, current);
        if (alert) {
          second.push(alert);
          current = { ...current, alert: factsOf(current.alert, [alert], tagsOf) };
        }
      }
      // State that predates Vigie (the first snapshot) is reported once by the rule that collects it,
      // not as one alert per finding.
      if (second.length && event.details.change === 'present') return second;
      return [...alerts, ...second];
    },
  };
}
