import type { VigieEvent } from '../events.js';
import { addExternalTargets } from './addresses.js';

export interface EnrichOptions {
  /** The organisation's own mail domains (`organisation.domains`). */
  domains: readonly string[];
}

export type Enricher = (event: VigieEvent) => VigieEvent;

/** Builds the enrichment step that runs between dedupe and the rules engine. */
export function createEnricher(opts: EnrichOptions): Enricher {
  const domains = opts.domains.map((d) => d.toLowerCase());
  return (event) => {
    let e = addExternalTargets(event, domains);
    if (e.geo && !e.geo.source) e = { ...e, geo: { ...e.geo, source: 'event' } };
    return e;
  };
}
