#!/usr/bin/env node
// Resident memory with GeoIP (both DB-IP files) and the ASN table loaded, and detector state
// (baselines) for 10,000 people built by running their sign-ins through every shipped rule.
//
//   npm run build && node --expose-gc bench/memory.mjs [--people 10000] [--events 300000]
//
// Prints JSON; bench/run-all.mjs puts it in docs/benchmarks.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { syntheticSignins } from './lib/synthetic-signins.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadEngine, createMemoryState } = await import(path.join(root, 'dist/src/engine/index.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));
const en = await import(path.join(root, 'dist/src/enrich/index.js'));
const { lookupIp } = await import(path.join(root, 'dist/src/enrich/ip.js'));

const { values: args } = parseArgs({ options: { people: { type: 'string', default: '10000' }, events: { type: 'string', default: '300000' } } });
const mb = () => {
  globalThis.gc?.();
  return Math.round(process.memoryUsage().rss / 2 ** 20);
};
const start = mb();
const geo = en.createGeoIp(en.bundledGeoIpPaths());
const asn = en.createAsnTable(en.defaultAsnDir());
geo.lookup(lookupIp('8.8.8.8'));
geo.lookup(lookupIp('2a01:e0a::1'));
asn.lookup(lookupIp('8.8.8.8'));
const withLookups = mb();
const engine = loadEngine({ rulesDir: path.join(root, 'rules'), overlays: [], clock: { now: () => Date.now() }, log: silentLogger });
const state = createMemoryState();
const people = new Set();
for (const e of syntheticSignins({ total: Number(args.events), accounts: Number(args.people) })) {
  people.add(e.account);
  engine.evaluate(e, { state, learning: false });
}
const withState = mb();
console.log(JSON.stringify({
  rss_start_mb: start,
  rss_geoip_asn_mb: withLookups,
  rss_geoip_asn_state_mb: withState,
  geoip_load_ms: Math.round(geo.loadMs),
  asn_load_ms: Math.round(asn.loadMs),
  people: people.size,
  events: Number(args.events),
  state_entries: state.size,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  gc_exposed: typeof globalThis.gc === 'function',
}, null, 2));
