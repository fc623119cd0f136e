import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrContains, parseCidr, parseIp } from '../../src/engine/cidr.js';

describe('IP addresses and CIDR ranges', () => {
  it('parses IPv4, IPv6 and mapped IPv4', () => {
    expect(parseIp('192.0.2.1')).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
    expect(parseIp('::ffff:192.0.2.1')).toEqual({ version: 4, bytes: new Uint8Array([192, 0, 2, 1]) });
    expect(parseIp('2001:db8::1')?.version).toBe(6);
    expect(parseIp('fe80::1%eth0')?.version).toBe(6);
    expect(parseIp('[2001:db8::1]')?.version).toBe(6);
    for (const bad of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', '2001:db8::1::2', 'g::1', '1:2:3:4:5:6:7:8:9', 'localhost']) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });

  it('matches ranges by prefix', () => {
    const r = parseCidr('198.51.100.248/29')!;
    expect(cidrContains(r, parseIp('198.51.100.255')!)).toBe(true);
    expect(cidrContains(r, parseIp('198.51.100.247')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!)).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db8:ffff::1')!)).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/32')!, parseIp('2001:db9::1')!)).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/32')!, parseIp('192.0.2.1')!)).toBe(false);
    expect(cidrContains(parseCidr('::ffff:192.0.2.0/120')!, parseIp('192.0.2.9')!)).toBe(true);
    expect(parseCidr('192.0.2.0/33')).toBeUndefined();
    expect(parseCidr('192.0.2.0/x')).toBeUndefined();
  });

  it('an address is inside every range built from it', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (ip, prefix) => {
        expect(cidrContains(parseCidr(`${ip}/${prefix}`)!, parseIp(ip)!)).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), fc.integer({ min: 0, max: 128 }), (ip, prefix) => {
        const addr = parseIp(ip);
        expect(addr).toBeDefined();
        const range = parseCidr(`${ip}/${addr!.version === 4 ? Math.min(prefix, 32) + 96 : prefix}`);
        expect(cidrContains(range!, addr!)).toBe(true);
      }),
    );
  });
});
