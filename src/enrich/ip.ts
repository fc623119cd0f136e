import { parseIp, type IpAddress } from '../engine/cidr.js';

/** A parsed address in the forms the lookups want: IPv4-mapped IPv6 is already plain IPv4 (the DBs miss it otherwise). */
export interface LookupIp extends IpAddress {
  /** Canonical text for the mmdb reader. */
  text: string;
}

function v6Text(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':');
}

/** Parses and normalises; undefined for garbage and for addresses no database can place (private, loopback, link-local...). */
export function lookupIp(text: string | undefined): LookupIp | undefined {
  if (!text) return undefined;
  const ip = parseIp(text);
  if (!ip || !isPublic(ip)) return undefined;
  const t = ip.version === 4 ? ip.bytes.join('.') : v6Text(ip.bytes);
  return { ...ip, text: t };
}

/**
 * False for addresses no database can place: private, carrier-grade NAT, loopback, link-local,
 * multicast, and the documentation ranges (RFC 5737, RFC 3849) that fixtures use, so that tests
 * with those never open the GeoIP files.
 */
export function isPublic(ip: IpAddress): boolean {
  const b = ip.bytes;
  if (ip.version === 4) {
    const [a, c] = [b[0]!, b[1]!];
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 172 && c >= 16 && c <= 31) return false;
    if (a === 192 && c === 168) return false;
    if (a === 169 && c === 254) return false;
    if (a === 100 && c >= 64 && c <= 127) return false; // carrier-grade NAT
    const d = b[2]!;
    if ((a === 192 && c === 0 && d === 2) || (a === 198 && c === 51 && d === 100) || (a === 203 && c === 0 && d === 113)) return false;
    return true;
  }
  if (b.every((x, i) => (i === 15 ? x <= 1 : x === 0))) return false; // :: and ::1
  const first = b[0]!;
  if ((first & 0xfe) === 0xfc) return false; // unique local
  if (first === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // link-local
  if (first === 0xff) return false;
  if (first === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return false; // 2001:db8::/32
  return true;
}

/** The address as a 32-bit number (IPv4) or the upper 64 bits (IPv6), as the ASN table keys them. */
export function ipKey(ip: IpAddress): number | bigint {
  const b = ip.bytes;
  if (ip.version === 4) return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(b[i]!);
  return n;
}
