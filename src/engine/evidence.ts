import type { Evidence } from '../alerts/alert.js';
import type { VigieEvent } from '../events.js';
import { plainText, valueText } from './text.js';

/** At most this many events are kept as evidence on one alert (the latest ones). */
export const MAX_EVIDENCE = 10;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A short plain-text description of what the event was, by kind. */
function detailOf(e: VigieEvent): string | undefined {
  // An event seen by a chain or audit rule is described by the alerts it raised.
  const facts = (e as { alert?: { summaries?: unknown } }).alert;
  if (facts && Array.isArray(facts.summaries) && facts.summaries.length) return facts.summaries.map(String).join('; ');
  const d = e.details;
  switch (e.kind) {
    case 'signin': {
      const bits = [e.outcome === 'success' ? 'successful sign-in' : e.outcome === 'failure' ? 'failed sign-in' : 'sign-in'];
      if (str(d.client)) bits.push(`client ${d.client as string}`);
      if (str(d.failure_reason)) bits.push(`reason: ${d.failure_reason as string}`);
      return bits.join(', ');
    }
    case 'mailbox_rule': {
      const name = str(d.name) ? `"${d.name as string}"` : '(unnamed)';
      const targets = Array.isArray(d.external_targets) && d.external_targets.length ? ` forwarding to ${valueText(d.external_targets)}` : '';
      return `${str(d.change) ?? 'changed'} rule ${name}${targets}`;
    }
    case 'mailbox_forwarding': {
      const to = Array.isArray(d.to) && d.to.length ? ` to ${valueText(d.to)}` : '';
      return `${str(d.change) ?? 'changed'} forwarding${to}`;
    }
    default: {
      const what = str(d.change) ?? str(d.action) ?? str(d.name) ?? str(d.method);
      return what ? `${e.kind}: ${what}` : e.kind;
    }
  }
}

export function evidenceOf(e: VigieEvent): Evidence {
  const ev: Evidence = { event_id: e.id, time: e.time, kind: e.kind };
  if (e.ip) ev.ip = plainText(e.ip, 64);
  if (e.geo?.country) ev.country = plainText(e.geo.country, 64);
  if (e.geo?.city) ev.city = plainText(e.geo.city, 100);
  const detail = detailOf(e);
  if (detail) ev.detail = plainText(detail, 200);
  return ev;
}

/** Union by event id, oldest first, keeping the latest `MAX_EVIDENCE`. */
export function mergeEvidence(a: readonly Evidence[], b: readonly Evidence[]): Evidence[] {
  const byId = new Map<string, Evidence>();
  for (const ev of a) byId.set(ev.event_id, ev);
  for (const ev of b) byId.set(ev.event_id, ev);
  // Each time parsed once, not once per comparison (same stable order).
  const timed: { t: number; ev: Evidence }[] = [];
  for (const ev of byId.values()) timed.push({ t: Date.parse(ev.time), ev });
  timed.sort((x, y) => x.t - y.t);
  const out: Evidence[] = [];
  for (let i = Math.max(0, timed.length - MAX_EVIDENCE); i < timed.length; i++) out.push(timed[i]!.ev);
  return out;
}
