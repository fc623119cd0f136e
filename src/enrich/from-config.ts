import fs from 'node:fs';
import type { VigieConfig } from '../config/schema.js';
import { createAsnTable, defaultAsnDir } from './asn.js';
import { bundledGeoIpPaths, createGeoIp, findMaxMindCity, type GeoIpFiles } from './geoip.js';
import type { EnrichOptions } from './index.js';
import { readAsnLists, readTorExitList } from './networks.js';

/** The GeoIP files a config asks for: the user's MaxMind file (or folder), else the bundled DB-IP pair. */
export function geoIpFiles(database: string | undefined): GeoIpFiles | undefined {
  if (database) {
    const file = fs.existsSync(database) && fs.statSync(database).isDirectory() ? findMaxMindCity(database) : database;
    return file ? { v4: file, v6: file } : undefined;
  }
  return bundledGeoIpPaths();
}

/**
 * Everything `createEnricher` needs, from the config. Nothing is read from disk here but the small
 * lists: the GeoIP and ASN tables open on the first public address they are asked about.
 */
export function enrichOptionsFromConfig(
  config: Pick<VigieConfig, 'organisation' | 'identity' | 'trusted_networks' | 'enrichment'>,
  rulesDir: string,
  /** Items appended to lists by overlays (`lists: { vpn-asns: [...] }`). */
  listOverlays: Record<string, readonly string[]> = {},
): EnrichOptions {
  const e = config.enrichment;
  const opts: EnrichOptions = {
    domains: config.organisation.domains,
    identity: config.identity,
    trustedNetworks: config.trusted_networks,
    asnLists: readAsnLists(rulesDir, listOverlays),
  };
  if (e.geoip) {
    const files = geoIpFiles(e.geoip_database);
    if (files) opts.geoip = createGeoIp(files);
  }
  if (e.asn) opts.asn = createAsnTable(e.asn_dir ?? defaultAsnDir());
  if (e.tor_exit_list) opts.torExits = readTorExitList(e.tor_exit_list);
  return opts;
}
