import { z } from 'zod';
import type { Evidence } from '../../alerts/alert.js';
import { eventTime } from '../event-time.js';
import type { Predicate } from '../conditions.js';
import { evidenceOf } from '../evidence.js';
import { formatDuration, formatTime } from '../text.js';
import { durationParam } from './params.js';
import { parseParams, type Detector, type Finding } from './types.js';

/** One mapping of conditions, or a list of mappings of which any may hold (checked by compileWhen). */
const step = z.custom<Record<string, unknown> | Record<string, unknown>[]>((v) => v !== undefined, { message: 'is required' });

const schema = z.strictObject({
  /** Conditions of step A (same language as `when`); a list means any of the mappings. */
  first: step,
  /** Conditions of step B. */
  then: step,
  /** B must happen at most this long after A. */
  within: durationParam,
});

export interface SequenceParams {
  first: Predicate;
  then: Predicate;
  withinMs: number;
}

interface Step {
  t: number;
  ev: Evidence;
}

/** Recent A and B events of the group; B events are kept too so that a late A still pairs up. */
export interface SequenceState {
  max: number;
  a: Step[];
  b: Step[];
}

const KEEP = 10;

function add(list: Step[], s: Step, horizon: number): Step[] {
  return [...list.filter((x) => x.t >= horizon), s].sort((x, y) => x.t - y.t).slice(-KEEP);
}

function finding(a: Step, b: Step, withinMs: number, group: string): Finding {
  const gap = formatDuration(b.t - a.t);
  const window = formatDuration(withinMs);
  const what = (s: Step) => `${s.ev.detail ?? s.ev.kind}${s.ev.ip ? ` from ${s.ev.ip}` : ''}`;
  const where = (s: Step) => [s.ev.ip, [s.ev.city, s.ev.country].filter(Boolean).join(', ')].filter(Boolean).join(' ');
  return {
    lines: [
      `For ${group}: ${what(a)} at ${formatTime(a.t)}, then ${what(b)} at ${formatTime(b.t)}, ${gap} apart (window: ${window}).`,
      // The chain step by step, for the person who has to act on it.
      `Step 1, ${formatTime(a.t)}: ${a.ev.detail ?? a.ev.kind}${where(a) ? ` (${where(a)})` : ''}.`,
      `Step 2, ${formatTime(b.t)}: ${b.ev.detail ?? b.ev.kind}${where(b) ? ` (${where(b)})` : ''}.`,
    ],
    evidence: [a.ev, b.ev],
    values: { first_time: formatTime(a.t), then_time: formatTime(b.t), gap, window },
  };
}

/** Event A then event B for the same group within a window (attack chains). */
export const sequenceDetector: Detector<SequenceParams, SequenceState> = {
  kind: 'sequence',
  values: ['first_time', 'then_time', 'gap', 'window'],
  prepare(raw, ctx) {
    const p = parseParams(schema, raw, ctx);
    if (!p) return undefined;
    const compile = (spec: Record<string, unknown> | Record<string, unknown>[], key: string): Predicate => {
      if (!Array.isArray(spec)) return ctx.compileWhen(spec, [key]).test;
      if (spec.length === 0) ctx.problem([key], 'an empty list matches nothing');
      const tests = spec.map((m, i) => ctx.compileWhen(m, [key, i]).test);
      return (e) => tests.some((t) => t(e));
    };
    return {
      first: compile(p.first, 'first'),
      then: compile(p.then, 'then'),
      withinMs: p.within,
    };
  },
  step(state, event, p, group) {
    const isA = p.first(event);
    const isB = p.then(event);
    if (!isA && !isB) return { state, expiresAt: state ? state.max + p.withinMs : null, findings: [] };
    const t = eventTime(event);
    const max = Math.max(state?.max ?? t, t);
    const horizon = max - p.withinMs;
    const cur: Step = { t, ev: evidenceOf(event) };
    let a = state?.a ?? [];
    let b = state?.b ?? [];
    const findings: Finding[] = [];
    if (isB) {
      // The latest A before this B: the tightest chain.
      const match = [...a].reverse().find((x) => x.t <= t && t - x.t <= p.withinMs && x.ev.event_id !== event.id);
      if (match) findings.push(finding(match, cur, p.withinMs, group));
    }
    if (isA && findings.length === 0) {
      // A late-delivered A whose B already arrived.
      const match = b.find((x) => x.t >= t && x.t - t <= p.withinMs && x.ev.event_id !== event.id);
      if (match) findings.push(finding(cur, match, p.withinMs, group));
    }
    if (isA) a = add(a, cur, horizon);
    if (isB) b = add(b, cur, horizon);
    return { state: { max, a, b }, expiresAt: max + p.withinMs, findings };
  },
};
