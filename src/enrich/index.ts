import { parseIp, type IpAddress } from '../engine/cidr.js';
import type { Geo, Network, VigieEvent } from '../events.js';
import { addExternalTargets } from './addresses.js';
import type { AsnInfo, AsnTable } from './asn.js';
import type { GeoIp } from './geoip.js';
import { createIdentity, type IdentityOptions } from './identity.js';
import { lookupIp, type LookupIp } from './ip.js';
import { createTrustedNetworks, type AsnLists } from './networks.js';

export interface EnrichOptions {
  /** The organisation's own mail domains (`organisation.domains`). */
  domains: readonly string[];
  /** `identity` in the config: accounts → person. */
  identity?: IdentityOptions;
  /** `trusted_networks` in the config: CIDRs, addresses and `AS<number>`. */
  trustedNetworks?: readonly string[];
  /** City lookups; without it only provider geo is used (rule tests, GeoIP off). */
  geoip?: GeoIp;
  /** ASN lookups; without it only a provider's ASN (Google `networkInfo`) is used. */
  asn?: AsnTable;
  /** Hosting, VPN and mobile AS numbers (rules/lists/*-asns.yml). */
  asnLists?: AsnLists;
  /** Tor exit addresses. */
  torExits?: ReadonlySet<string>;
}

export type Enricher = (event: VigieEvent) => VigieEvent;

/** Addresses whose lookups are remembered by one enricher. */
const IP_CACHE_SIZE = 50_000;

const LEGACY_CLIENTS = new Set(['imap', 'pop', 'smtp', 'activesync']);

/** Provider geo wins; GeoIP fills what it lacks (Google gives a country only) when both agree on the country. */
function mergeGeo(own: Geo | undefined, found: Geo | undefined): Geo | undefined {
  if (!own) return found;
  const geo: Geo = { ...own, source: own.source ?? 'event' };
  if (found && (!own.country || own.country === found.country)) {
    if (geo.country === undefined && found.country) geo.country = found.country;
    if (geo.city === undefined && found.city) geo.city = found.city;
    if ((geo.lat === undefined || geo.lon === undefined) && found.lat !== undefined && found.lon !== undefined) {
      geo.lat = found.lat;
      geo.lon = found.lon;
    }
  }
  return geo;
}

/** The protocol family of a sign-in, as login.legacy-protocol learns it per person. */
function protocolOf(details: Record<string, unknown>): string {
  const client = typeof details.client === 'string' ? details.client : '';
  if (LEGACY_CLIENTS.has(client)) return client;
  return details.legacy_auth === true ? 'ropc' : 'modern';
}

/** Builds the enrichment step that runs between dedupe and the rules engine. */
export function createEnricher(opts: EnrichOptions): Enricher {
  const domains = opts.domains.map((d) => d.toLowerCase());
  const personOf = createIdentity(opts.identity);
  const trusted = createTrustedNetworks(opts.trustedNetworks ?? []);
  const { geoip, asn: asnTable, asnLists, torExits } = opts;
  // The lookups depend on the address text only, and a replay or a poll sees the same few
  // addresses again and again: remember them per text (bounded; forgotten all at once when full).
  interface IpFacts {
    ip: LookupIp | undefined;
    parsed: IpAddress | undefined;
    geo?: Geo | undefined;
    geoDone?: true;
    asn?: AsnInfo | undefined;
    asnDone?: true;
  }
  const seen = new Map<string, IpFacts>();
  const factsOf = (text: string): IpFacts => {
    let f = seen.get(text);
    if (!f) {
      if (seen.size >= IP_CACHE_SIZE) seen.clear();
      f = { ip: lookupIp(text), parsed: parseIp(text) };
      seen.set(text, f);
    }
    return f;
  };
  const geoOf = (f: IpFacts, g: GeoIp): Geo | undefined => {
    if (!f.geoDone) {
      f.geo = f.ip ? g.lookup(f.ip) : undefined;
      f.geoDone = true;
    }
    // A copy: events must not share one mutable object.
    return f.geo ? { ...f.geo } : undefined;
  };
  const asnOf = (f: IpFacts, t: AsnTable): AsnInfo | undefined => {
    if (!f.asnDone) {
      f.asn = f.ip ? t.lookup(f.ip) : undefined;
      f.asnDone = true;
    }
    return f.asn;
  };
  return (event) => {
    const base = addExternalTargets(event, domains);
    // One copy of the event, whatever is added to it (same keys, same order as copying per change).
    const e: VigieEvent = { ...base };
    const person = base.person ?? personOf(base.account);
    if (person !== undefined && person !== base.person) e.person = person;
    if (e.kind === 'signin') e.details = { ...e.details, protocol: protocolOf(e.details) };
    if (!e.ip) {
      if (e.geo && !e.geo.source) e.geo = { ...e.geo, source: 'event' };
      if (e.network?.asn !== undefined && e.network.as_label === undefined) e.network = { ...e.network, as_label: `AS${e.network.asn}` };
      return e;
    }
    const facts = factsOf(e.ip);
    const ip = facts.ip;
    const geo = mergeGeo(e.geo, ip && geoip ? geoOf(facts, geoip) : undefined);
    const net: Network = { ...e.network };
    if (ip && asnTable && net.asn === undefined) {
      const found = asnOf(facts, asnTable);
      if (found) {
        net.asn = found.asn;
        if (found.org && net.org === undefined) net.org = found.org;
      }
    } else if (ip && asnTable && net.org === undefined) {
      const found = asnOf(facts, asnTable);
      if (found && found.asn === net.asn && found.org) net.org = found.org;
    }
    const parsed = facts.parsed;
    if (net.asn !== undefined && asnLists) {
      if (asnLists.hosting.has(net.asn)) net.hosting = true;
      if (asnLists.vpn.has(net.asn)) net.vpn = true;
      if (asnLists.mobile.has(net.asn)) net.mobile = true;
    }
    if (torExits && parsed && torExits.has(ip?.text ?? e.ip.trim().toLowerCase())) net.tor = true;
    if (net.tor || net.vpn) net.anonymizer = true;
    if (parsed && trusted.has(parsed, net.asn)) net.trusted = true;
    // One field that says how the sign-in hid its origin, for rules that need "Tor or VPN or hosting".
    if (!net.trusted) {
      const via = net.tor ? 'tor' : net.vpn || net.anonymizer ? 'vpn' : net.hosting ? 'hosting' : undefined;
      if (via) net.via = via;
    }
    // Templates print numbers with digit grouping; AS numbers are names, not quantities.
    if (net.asn !== undefined) net.as_label = `AS${net.asn}`;
    if (geo) e.geo = geo;
    if (Object.keys(net).length) e.network = net;
    return e;
  };
}

export { createGeoIp, bundledGeoIpPaths, findMaxMindCity } from './geoip.js';
export { createAsnTable, defaultAsnDir } from './asn.js';
export { readAsnLists, readTorExitList } from './networks.js';
