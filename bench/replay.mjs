#!/usr/bin/env node
// Throughput of `vigie replay` end to end: 1,000,000 synthetic sign-ins as JSONL through the file
// reader, dedupe, enrichment, every shipped rule, and the SQLite store (in memory, as replay runs).
//
//   npm run build && node bench/replay.mjs [--events 1000000] [--accounts 5000] [--enrich]
//
// --enrich: sign-ins carry real public addresses and no geo, so GeoIP (bundled DB-IP) and the ASN
// table answer every one; without it both are off (the events carry their geo).
//
// Prints events/s, wall time and peak RSS; the figures go to docs/benchmarks.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { syntheticSignins } from './lib/synthetic-signins.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { replay } = await import(path.join(root, 'dist/src/replay.js'));
const { defaultConfig } = await import(path.join(root, 'dist/src/config/load.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));

const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '1000000' }, accounts: { type: 'string', default: '5000' }, enrich: { type: 'boolean', default: false } },
});
// Each account gets a fixed public address spread over the IPv4 space (private ranges skipped).
function publicIp(k) {
  let x = Math.imul(k + 1, 2654435761) >>> 0;
  let a = 1 + (x % 223);
  if (a === 10 || a === 127 || a === 172 || a === 192 || a === 100 || a === 169) a += 1;
  return `${a}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${1 + ((x >>> 24) % 254)}`;
}
const total = Number(args.events);
const accounts = Number(args.accounts);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-'));
const input = path.join(dir, 'signins.jsonl');
const out = fs.createWriteStream(input);
let buf = '';
for (const e of syntheticSignins({ total, accounts })) {
  if (args.enrich) {
    e.ip = publicIp(Number(e.account.replace(/\D/g, '')) * 7 + (e.geo.country === 'FR' ? 0 : 3));
    delete e.geo;
  }
  buf += `${JSON.stringify(e)}\n`;
  if (buf.length > 1 << 20) {
    if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
    buf = '';
  }
}
out.end(buf);
await new Promise((r) => out.once('finish', r));
const bytes = fs.statSync(input).size;

// The floor: the same file read line by line and JSON.parse'd, with no other work.
const { createInterface } = await import('node:readline');
let t0 = process.hrtime.bigint();
let parsed = 0;
for await (const line of createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity })) {
  if (line) {
    JSON.parse(line);
    parsed++;
  }
}
const floorSecs = Number(process.hrtime.bigint() - t0) / 1e9;

const base = defaultConfig({ organisation: { name: 'Bench', domains: ['party.example'], locale: 'en', sensitive_mailboxes: [] } });
const config = { ...base, enrichment: { ...base.enrichment, geoip: args.enrich, asn: args.enrich } };
// Start-up cost of the lookups, measured on their own: open both DB-IP files and the ASN table.
let load;
if (args.enrich) {
  const en = await import(path.join(root, 'dist/src/enrich/index.js'));
  const { lookupIp } = await import(path.join(root, 'dist/src/enrich/ip.js'));
  const geo = en.createGeoIp(en.bundledGeoIpPaths());
  const asn = en.createAsnTable(en.defaultAsnDir());
  geo.lookup(lookupIp('8.8.8.8'));
  geo.lookup(lookupIp('2a01:e0a::1'));
  asn.lookup(lookupIp('8.8.8.8'));
  load = { geoip_ms: Math.round(geo.loadMs), asn_ms: Math.round(asn.loadMs), rss_after_load_mb: Math.round(process.memoryUsage().rss / 2 ** 20) };
}
t0 = process.hrtime.bigint();
const { summary } = await replay({ inputs: [input], config, notify: false, clock: { now: () => Date.now() }, log: silentLogger });
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
fs.rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify(
    {
      events: summary.events,
      input_mb: Math.round(bytes / 2 ** 20),
      replay_seconds: Number(secs.toFixed(2)),
      events_per_second: Math.round(summary.events / secs),
      parse_floor_events_per_second: Math.round(parsed / floorSecs),
      ratio_to_floor: Number((secs / floorSecs).toFixed(1)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      enrich: args.enrich,
      ...(load ? { load } : {}),
      alerts: summary.alerts,
      alerts_by_severity: summary.bySeverity,
      node: process.version,
      cpus: os.cpus().length,
    },
    null,
    2,
  ),
);
