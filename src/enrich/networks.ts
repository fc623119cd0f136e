import fs from 'node:fs';
import path from 'node:path';
import { cidrContains, parseCidr, type CidrRange, type IpAddress } from '../engine/cidr.js';
import { loadListFiles } from '../engine/lists.js';

/** AS numbers from the shipped (and appended) lists: `16509` or `AS16509`. */
export function asnNumbers(items: Iterable<string | number>): Set<number> {
  const out = new Set<number>();
  for (const i of items) {
    const m = /^\s*(?:as)?(\d{1,10})\s*$/i.exec(String(i));
    if (m) out.add(Number(m[1]));
  }
  return out;
}

export interface AsnLists {
  hosting: ReadonlySet<number>;
  vpn: ReadonlySet<number>;
  mobile: ReadonlySet<number>;
}

/** Reads rules/lists/{hosting,vpn,mobile}-asns.yml (plus items appended by overlays, when given). */
export function readAsnLists(rulesDir: string, extra: Record<string, readonly string[]> = {}): AsnLists {
  const { lists } = loadListFiles(path.join(rulesDir, 'lists'));
  const of = (name: string) => asnNumbers([...(lists.get(name)?.items ?? []), ...(extra[name] ?? [])]);
  return { hosting: of('hosting-asns'), vpn: of('vpn-asns'), mobile: of('mobile-asns') };
}

/** A Tor exit list as the Tor Project publishes it (one address per line; `ExitAddress <ip> ...` lines also work). */
export function readTorExitList(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const t = line.replace(/#.*/, '').trim();
    if (!t) continue;
    const parts = t.split(/\s+/);
    const ip = parts[0] === 'ExitAddress' ? parts[1] : parts.length === 1 ? parts[0] : undefined;
    if (ip) out.add(ip.toLowerCase());
  }
  return out;
}

export interface TrustedNetworks {
  has(ip: IpAddress | undefined, asn: number | undefined): boolean;
}

/** Office and party-VPN networks: CIDRs or addresses, and `AS64500` for a whole network. */
export function createTrustedNetworks(items: readonly string[]): TrustedNetworks {
  const ranges: CidrRange[] = [];
  const asns = new Set<number>();
  for (const item of items) {
    if (/^\s*as\d+\s*$/i.test(item)) asns.add(Number(item.trim().slice(2)));
    else {
      const r = parseCidr(item.trim());
      if (r) ranges.push(r);
    }
  }
  return {
    has: (ip, asn) => (asn !== undefined && asns.has(asn)) || (ip !== undefined && ranges.some((r) => cidrContains(r, ip))),
  };
}
