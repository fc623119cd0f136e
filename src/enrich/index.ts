import { parseIp } from '../engine/cidr.js';
import type { Geo, Network, VigieEvent } from '../events.js';
import { addExternalTargets } from './addresses.js';
import type { AsnTable } from './asn.js';
import type { GeoIp } from './geoip.js';
import { createIdentity, type IdentityOptions } from './identity.js';
import { lookupIp } from './ip.js';
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
  return (event) => {
    let e = addExternalTargets(event, domains);
    const person = e.person ?? personOf(e.account);
    if (person !== undefined && person !== e.person) e = { ...e, person };
    if (e.kind === 'signin') e = { ...e, details: { ...e.details, protocol: protocolOf(e.details) } };
    if (!e.ip) {
      if (e.geo && !e.geo.source) e = { ...e, geo: { ...e.geo, source: 'event' } };
      if (e.network?.asn !== undefined && e.network.as_label === undefined) e = { ...e, network: { ...e.network, as_label: `AS${e.network.asn}` } };
      return e;
    }
    const ip = lookupIp(e.ip);
    const geo = mergeGeo(e.geo, ip && geoip ? geoip.lookup(ip) : undefined);
    const net: Network = { ...e.network };
    if (ip && asnTable && net.asn === undefined) {
      const found = asnTable.lookup(ip);
      if (found) {
        net.asn = found.asn;
        if (found.org && net.org === undefined) net.org = found.org;
      }
    } else if (ip && asnTable && net.org === undefined) {
      const found = asnTable.lookup(ip);
      if (found && found.asn === net.asn && found.org) net.org = found.org;
    }
    const parsed = parseIp(e.ip);
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
    const out: VigieEvent = { ...e };
    if (geo) out.geo = geo;
    if (Object.keys(net).length) out.network = net;
    return out;
  };
}

export { createGeoIp, bundledGeoIpPaths, findMaxMindCity } from './geoip.js';
export { createAsnTable, defaultAsnDir } from './asn.js';
export { readAsnLists, readTorExitList } from './networks.js';
