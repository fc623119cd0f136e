import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipKey, type LookupIp } from './ip.js';

export interface AsnInfo {
  asn: number;
  org?: string;
}

export interface AsnTable {
  lookup(ip: LookupIp): AsnInfo | undefined;
  readonly loadMs: number;
}

/** Where `scripts/build-asn.mjs` writes the table by default: dist/asn next to the compiled code. */
export function defaultAsnDir(): string {
  // dist/src/enrich/asn.js → dist/asn; src/enrich/asn.ts (tests) → dist/asn as well.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${path.sep}dist${path.sep}`) ? path.resolve(here, '../../..') : path.resolve(here, '../..');
  return path.join(root, 'dist', 'asn');
}

interface Loaded {
  v4: Uint32Array;
  v6r: BigUint64Array;
  v6a: Uint32Array;
  names: Record<string, string>;
}

const cache = new Map<string, Loaded | null>();

function load(dir: string): Loaded | null {
  if (cache.has(dir)) return cache.get(dir)!;
  let loaded: Loaded | null = null;
  try {
    const b4 = fs.readFileSync(path.join(dir, 'asn-v4.bin'));
    const b6 = fs.readFileSync(path.join(dir, 'asn-v6.bin'));
    const n6 = b6.byteLength / 20;
    // Copies, so the typed arrays are aligned whatever offset the Buffer pool gave.
    const v4 = new Uint32Array(b4.buffer.slice(b4.byteOffset, b4.byteOffset + b4.byteLength));
    const v6r = new BigUint64Array(b6.buffer.slice(b6.byteOffset, b6.byteOffset + n6 * 16));
    const v6a = new Uint32Array(b6.buffer.slice(b6.byteOffset + n6 * 16, b6.byteOffset + b6.byteLength));
    const names = JSON.parse(fs.readFileSync(path.join(dir, 'names.json'), 'utf8')) as Record<string, string>;
    loaded = { v4, v6r, v6a, names };
  } catch {
    loaded = null; // no table built: sign-ins get no ASN, rules that need one stay quiet
  }
  cache.set(dir, loaded);
  return loaded;
}

/** The ASN table built at build time, loaded on first lookup and kept for the process. */
export function createAsnTable(dir: string): AsnTable {
  let ms = 0;
  let t: Loaded | null | undefined;
  const table = () => {
    if (t === undefined) {
      const t0 = performance.now();
      t = load(dir);
      ms += performance.now() - t0;
    }
    return t;
  };
  return {
    lookup(ip) {
      const tab = table();
      if (!tab) return undefined;
      const key = ipKey(ip);
      let asn: number | undefined;
      if (typeof key === 'number') {
        const a = tab.v4;
        let lo = 0;
        let hi = a.length / 3 - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (a[mid * 3]! <= key) lo = mid + 1;
          else hi = mid - 1;
        }
        if (hi >= 0 && key <= a[hi * 3 + 1]!) asn = a[hi * 3 + 2];
      } else {
        const r = tab.v6r;
        let lo = 0;
        let hi = tab.v6a.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          if (r[mid * 2]! <= key) lo = mid + 1;
          else hi = mid - 1;
        }
        if (hi >= 0 && key <= r[hi * 2 + 1]!) asn = tab.v6a[hi];
      }
      if (asn === undefined || asn === 0) return undefined;
      const org = tab.names[String(asn)];
      return org ? { asn, org } : { asn };
    },
    get loadMs() {
      return ms;
    },
  };
}
