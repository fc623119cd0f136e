import type { Alert } from '../alerts/alert.js';
import type { VigieEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { CompiledRule } from './compile-rule.js';
import type { Finding } from './detectors/index.js';
import { eventTime } from './event-time.js';
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

/** Builds the engine over compiled rules; only enabled ones run, in id order. */
export function createEngine(rules: readonly CompiledRule[], log: Logger): Engine {
  const sorted = [...rules].sort((a, b) => a.info.id.localeCompare(b.info.id));
  const enabled = sorted.filter((r) => r.info.enabled);
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
    for (const ex of rule.exceptions) {
      if ((ex.untilMs === undefined || t < ex.untilMs) && ex.test(event)) return undefined;
    }
    const parts: string[] = [];
    const labels: string[] = [];
    for (const g of rule.groupBy) {
      const v = groupValue(g.read(event));
      if (v === undefined) return undefined; // cannot be grouped: the rule does not apply
      parts.push(v);
      // Lines that use the label are made plain text when the alert is built.
      labels.push(`${g.path} ${v}`);
    }
    const groupKey = parts.join('|');
    const stored = readStored(ctx.state.get(rule.info.id, groupKey));
    const step = rule.detector.step(stored?.d, event, rule.params, labels.join(', '));
    const findings: Finding[] = ctx.learning ? [] : step.findings;
    let incident = stored?.i;
    let alert: Alert | undefined;
    if (findings.length) {
      const evidence = findings.flatMap((f) => f.evidence);
      const lines = findings.flatMap((f) => f.lines);
      incident = nextIncident(incident, rule.info.id, groupKey, event, t, rule.dedupeMs, evidence, lines);
      alert = buildAlert(rule, event, findings, incident);
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
      for (const rule of candidates(event.kind)) {
        try {
          const alert = runRule(rule, event, t, ctx);
          if (alert) alerts.push(alert);
        } catch (err) {
          // One broken rule must not blind the others.
          log.error({ err, rule: rule.info.id, event_id: event.id }, `Rule ${rule.info.id} failed on an event and was skipped for it.`);
        }
      }
      return alerts;
    },
  };
}
