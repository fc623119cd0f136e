import { domainOf, type VigieEvent } from '../events.js';

/** Fields of `mailbox_rule` / `mailbox_forwarding` details that hold destination addresses. */
const TARGET_FIELDS = ['forward_to', 'redirect_to', 'forward_as_attachment_to', 'to'] as const;

/** True when the address's domain is one of the organisation's own, or a sub-domain of one. */
export function isInternalAddress(address: string, domains: readonly string[]): boolean {
  const d = domainOf(address.trim());
  if (!d) return true; // a bare name (Exchange alias, local user) stays inside the organisation
  return domains.some((own) => d === own || d.endsWith(`.${own}`));
}

function addressesIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/**
 * Adds `details.external_targets` to forwarding-like events: the destinations outside
 * `organisation.domains`, lower-cased and de-duplicated.
 */
export function addExternalTargets(event: VigieEvent, domains: readonly string[]): VigieEvent {
  if (event.kind !== 'mailbox_rule' && event.kind !== 'mailbox_forwarding') return event;
  const targets = new Set<string>();
  for (const field of TARGET_FIELDS) {
    for (const a of addressesIn(event.details[field])) {
      const addr = a.trim().toLowerCase();
      if (addr && !isInternalAddress(addr, domains)) targets.add(addr);
    }
  }
  return { ...event, details: { ...event.details, external_targets: [...targets] } };
}
