/**
 * IP addresses and CIDR ranges, parsed once at load. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`,
 * common in Dovecot and proxy logs) are treated as the IPv4 address so one range covers both.
 */

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface CidrRange {
  text: string;
  version: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(input: string): Uint8Array | undefined {
  let s = input;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function isMappedV4(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

export function parseIp(text: string): IpAddress | undefined {
  const s = text.trim();
  if (s.includes(':')) {
    const v6 = parseIpv6(s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s);
    if (!v6) return undefined;
    return isMappedV4(v6) ? { version: 4, bytes: v6.slice(12) } : { version: 6, bytes: v6 };
  }
  const v4 = parseIpv4(s);
  return v4 ? { version: 4, bytes: v4 } : undefined;
}

/** `203.0.113.0/24`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  const ip = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!ip) return undefined;
  const max = ip.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    // A mapped IPv4 range written in IPv6 form keeps its meaning over the IPv4 part.
    if (text.includes(':') && ip.version === 4) prefix -= 96;
    if (prefix < 0 || prefix > max) return undefined;
  }
  return { text: text.trim(), version: ip.version, bytes: ip.bytes, prefix };
}

export function cidrContains(range: CidrRange, ip: IpAddress): boolean {
  if (range.version !== ip.version) return false;
  const full = range.prefix >> 3;
  for (let i = 0; i < full; i++) if (range.bytes[i] !== ip.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((range.bytes[full]! ^ ip.bytes[full]!) & mask) === 0;
}
