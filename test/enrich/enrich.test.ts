import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAsnTable } from '../../src/enrich/asn.js';
import { geoIpFiles, enrichOptionsFromConfig } from '../../src/enrich/from-config.js';
import { bundledGeoIpPaths, createGeoIp, geoOf, type GeoIp } from '../../src/enrich/geoip.js';
import { createIdentity } from '../../src/enrich/identity.js';
import { createEnricher } from '../../src/enrich/index.js';
import { lookupIp } from '../../src/enrich/ip.js';
import { readAsnLists, readTorExitList } from '../../src/enrich/networks.js';
import { defaultConfig } from '../../src/config/load.js';
import type { VigieEvent } from '../../src/events.js';
import { ensureAsnTable } from '../helpers/asn-table.js';

const root = path.resolve(import.meta.dirname, '../..');
const lists = readAsnLists(path.join(root, 'rules'));

function signin(over: Partial<VigieEvent> = {}): VigieEvent {
  return { id: 't:1', kind: 'signin', time: '2025-09-01T09:00:00.000Z', provider: 'imap', source: 's', account: 'alice@party.example', outcome: 'success', details: { client: 'imap' }, ...over };
}

/** A GeoIP double: tests of the enricher's logic must not need the 134 MB database. */
function fakeGeo(map: Record<string, { country: string; city?: string; lat?: number; lon?: number }>): GeoIp & { calls: number } {
  const g = { calls: 0, loadMs: 0, lookup: (ip: { text: string }) => (g.calls++, map[ip.text] ? { ...map[ip.text]!, source: 'geoip' as const } : undefined) };
  return g;
}

describe('addresses', () => {
  it('normalises IPv4-mapped IPv6 and skips addresses no database can place', () => {
    expect(lookupIp('::ffff:8.8.8.8')?.text).toBe('8.8.8.8');
    expect(lookupIp('[2a01:e0a::1]')?.text).toBe('2a01:e0a:0:0:0:0:0:1');
    for (const ip of ['10.1.2.3', '192.168.1.1', '127.0.0.1', '100.64.0.1', '::1', 'fe80::1', 'fd00::1', '203.0.113.5', '2001:db8::1', 'garbage']) {
      expect(lookupIp(ip), ip).toBeUndefined();
    }
  });
});

describe('enricher without databases (rule tests)', () => {
  it('keeps event geo, adds the protocol and the AS label, and needs no GeoIP', () => {
    const e = createEnricher({ domains: ['party.example'] })(signin({ ip: '203.0.113.9', geo: { country: 'FR' }, network: { asn: 3215 } }));
    expect(e.geo).toEqual({ country: 'FR', source: 'event' });
    expect(e.network).toEqual({ asn: 3215, as_label: 'AS3215' });
    expect(e.details.protocol).toBe('imap');
  });

  it('provider geo wins; GeoIP fills coordinates only when the countries agree', () => {
    const geoip = fakeGeo({ '81.2.69.160': { country: 'GB', city: 'London', lat: 51.5, lon: -0.09 } });
    const enrich = createEnricher({ domains: [], geoip });
    expect(enrich(signin({ ip: '81.2.69.160', geo: { country: 'GB', source: 'provider' } })).geo).toEqual({ country: 'GB', city: 'London', lat: 51.5, lon: -0.09, source: 'provider' });
    expect(enrich(signin({ ip: '81.2.69.160', geo: { country: 'FR', source: 'provider' } })).geo).toEqual({ country: 'FR', source: 'provider' });
    expect(enrich(signin({ ip: '81.2.69.160' })).geo).toEqual({ country: 'GB', city: 'London', lat: 51.5, lon: -0.09, source: 'geoip' });
    expect(enrich(signin({ ip: '10.0.0.1' })).geo).toBeUndefined();
  });

  it('maps people across providers: explicit entries first, then the local part', () => {
    const who = createIdentity({ match: 'local_part', people: [{ name: 'marie', accounts: ['Marie.Dupont@party.example', 'mdupont@jeunes.party.example'] }] });
    expect(who('mdupont@jeunes.party.example')).toBe('marie');
    expect(who('marie.dupont@party.example')).toBe('marie');
    expect(who('alice@nord.party.example')).toBe('alice');
    expect(createIdentity({})('alice@party.example')).toBeUndefined();
    const e = createEnricher({ domains: [], identity: { match: 'local_part' } })(signin());
    expect(e.person).toBe('alice');
  });

  it('classifies VPN, hosting, mobile, Tor and trusted networks', () => {
    const tor = new Set(['185.220.101.1']);
    const enrich = createEnricher({ domains: [], asnLists: lists, torExits: tor, trustedNetworks: ['198.51.100.0/24', 'AS64500'] });
    expect(enrich(signin({ ip: '203.0.113.1', network: { asn: 136787 } })).network).toMatchObject({ vpn: true, anonymizer: true, via: 'vpn' });
    expect(enrich(signin({ ip: '203.0.113.1', network: { asn: 16509 } })).network).toMatchObject({ hosting: true, via: 'hosting' });
    expect(enrich(signin({ ip: '203.0.113.1', network: { asn: 51207 } })).network).toMatchObject({ mobile: true });
    expect(enrich(signin({ ip: '185.220.101.1' })).network).toMatchObject({ tor: true, anonymizer: true, via: 'tor' });
    expect(enrich(signin({ ip: '198.51.100.7', network: { asn: 16509 } })).network).toMatchObject({ trusted: true, hosting: true });
    expect(enrich(signin({ ip: '198.51.100.7', network: { asn: 16509 } })).network?.via).toBeUndefined();
    expect(enrich(signin({ ip: '192.0.2.1', network: { asn: 64500 } })).network).toMatchObject({ trusted: true });
  });

  it('reads Tor exit lists in both common formats', () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-tor-')), 'exits.txt');
    fs.writeFileSync(f, '# list\n185.220.101.1\nExitNode ABC\nExitAddress 185.220.101.2 2025-01-01 00:00:00\n');
    expect([...readTorExitList(f)]).toEqual(['185.220.101.1', '185.220.101.2']);
  });

  it('reads MaxMind City records as well as DB-IP flat ones', () => {
    expect(geoOf({ country: { iso_code: 'fr' }, city: { names: { en: 'Lyon' } }, location: { latitude: 45.75, longitude: 4.85 } })).toEqual({ source: 'geoip', country: 'FR', city: 'Lyon', lat: 45.75, lon: 4.85 });
    expect(geoOf(null)).toBeUndefined();
  });

  it('a missing GeoIP file leaves sign-ins without geo instead of failing', () => {
    const g = createGeoIp({ v4: '/nonexistent.mmdb' });
    expect(g.lookup(lookupIp('8.8.8.8')!)).toBeUndefined();
    expect(geoIpFiles('/nonexistent-dir-or-file')).toEqual({ v4: '/nonexistent-dir-or-file', v6: '/nonexistent-dir-or-file' });
  });

  it('config: GeoIP on by default and lazily opened; off when the config says so', () => {
    const config = defaultConfig();
    expect(config.enrichment).toEqual({ geoip: true, asn: true });
    const on = enrichOptionsFromConfig(config, path.join(root, 'rules'));
    expect(on.geoip?.loadMs).toBe(0); // nothing opened until an address asks
    const off = enrichOptionsFromConfig({ ...config, enrichment: { geoip: false, asn: false } }, path.join(root, 'rules'));
    expect(off.geoip).toBeUndefined();
    expect(off.asn).toBeUndefined();
  });
});

describe('bundled DB-IP and the built ASN table', () => {
  beforeAll(async () => {
    await ensureAsnTable();
  }, 30_000);

  it('answers the verified examples of ENVIRONMENT §8', () => {
    const geo = createGeoIp(bundledGeoIpPaths()!);
    const asn = createAsnTable(path.join(root, 'dist/asn'));
    expect(geo.lookup(lookupIp('8.8.8.8')!)).toMatchObject({ country: 'US', city: 'Mountain View' });
    expect(geo.lookup(lookupIp('::ffff:81.2.69.160')!)).toMatchObject({ country: 'GB', city: 'London' });
    expect(geo.lookup(lookupIp('2a01:e0a::1')!)).toMatchObject({ country: 'FR' });
    expect(asn.lookup(lookupIp('8.8.8.8')!)).toEqual({ asn: 15169, org: 'Google LLC' });
    expect(asn.lookup(lookupIp('81.2.69.160')!)).toEqual({ asn: 20712, org: 'Andrews & Arnold Ltd' });
    expect(asn.lookup(lookupIp('2a01:e0a::1')!)).toEqual({ asn: 12322, org: 'Free SAS' });
  });

  it('an IMAP login with only an address gets country, coordinates, AS and class', () => {
    const enrich = createEnricher({ domains: [], geoip: createGeoIp(bundledGeoIpPaths()!), asn: createAsnTable(path.join(root, 'dist/asn')), asnLists: lists });
    const e = enrich(signin({ ip: '::ffff:2a01:e0a::1'.replace('::ffff:', '') }));
    expect(e.geo).toMatchObject({ country: 'FR', source: 'geoip' });
    expect(e.network).toMatchObject({ asn: 12322, org: 'Free SAS' });
  });
});
