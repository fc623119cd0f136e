#!/usr/bin/env node
// Throughput of `vigie replay` on raw provider exports (issue 12, item 2): synthetic Microsoft 365
// unified audit log records or Google Reports activities (bench/lib/synthetic-raw.mjs) as JSONL,
// recognised by shape and normalised by the connector's format, then reader, dedupe, enrichment,
// every shipped rule and the SQLite store, as `vigie replay` runs.
//
//   npm run build && node bench/replay-raw.mjs --format o365|google [--records 1000000] [--accounts 5000] [--enrich]
//
// --enrich: GeoIP (bundled DB-IP) and the ASN table on, as bench/replay.mjs --enrich (the records
// carry public addresses; Google's also carry networkInfo.regionCode). Prints JSON: records/s, the
// parse floor, the format's normalize alone, wall time, peak RSS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { syntheticGoogleActivities, syntheticO365Audit } from './lib/synthetic-raw.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { replay } = await import(path.join(root, 'dist/src/replay.js'));
const { defaultConfig } = await import(path.join(root, 'dist/src/config/load.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));
const { formatRegistry } = await import(path.join(root, 'dist/src/app.js'));
const { detectRecordFormat } = await import(path.join(root, 'dist/src/pipeline/formats.js'));

const { values: args } = parseArgs({
  options: {
    format: { type: 'string', default: 'o365' },
    records: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '5000' },
    enrich: { type: 'boolean', default: false },
  },
});
if (!['o365', 'google'].includes(args.format)) throw new Error('--format o365|google');
const total = Number(args.records);
const accounts = Number(args.accounts);
const gen = args.format === 'o365' ? syntheticO365Audit : syntheticGoogleActivities;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-raw-'));
const input = path.join(dir, `${args.format}.jsonl`);
const out = fs.createWriteStream(input);
let buf = '';
for (const r of gen({ total, accounts })) {
  buf += `${JSON.stringify(r)}\n`;
  if (buf.length > 1 << 20) {
    if (!out.write(buf)) await new Promise((res) => out.once('drain', res));
    buf = '';
  }
}
out.end(buf);
await new Promise((res) => out.once('finish', res));
const bytes = fs.statSync(input).size;

// Floor: read and JSON.parse. Then the same plus shape detection and the format's normalize.
async function pass(fn) {
  const t0 = process.hrtime.bigint();
  let n = 0;
  for await (const line of createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity })) {
    if (!line) continue;
    fn(JSON.parse(line));
    n++;
  }
  return { n, secs: Number(process.hrtime.bigint() - t0) / 1e9 };
}
const floor = await pass(() => {});
const formats = formatRegistry();
const formatNames = new Set();
let normalized = 0;
const norm = await pass((rec) => {
  const f = detectRecordFormat(formats, rec);
  if (!f) return;
  formatNames.add(f.name);
  normalized += f.normalize(rec, 'bench').length;
});

const base = defaultConfig({ organisation: { name: 'Bench', domains: ['party.example'], locale: 'en', sensitive_mailboxes: [] } });
const config = { ...base, enrichment: { ...base.enrichment, geoip: args.enrich, asn: args.enrich } };
const t0 = process.hrtime.bigint();
const { summary } = await replay({ inputs: [input], config, notify: false, clock: { now: () => Date.now() }, log: silentLogger });
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
fs.rmSync(dir, { recursive: true, force: true });

console.log(
  JSON.stringify(
    {
      format: args.format,
      formats: [...formatNames],
      records: summary.records,
      events: summary.events,
      skipped: summary.skipped,
      duplicates: summary.duplicates,
      input_mb: Math.round(bytes / 2 ** 20),
      replay_seconds: Number(secs.toFixed(2)),
      records_per_second: Math.round(summary.records / secs),
      parse_floor_records_per_second: Math.round(floor.n / floor.secs),
      parse_and_normalize_records_per_second: Math.round(norm.n / norm.secs),
      normalized_events: normalized,
      ratio_to_floor: Number((secs / floor.secs).toFixed(1)),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      enrich: args.enrich,
      alerts: summary.alerts,
      alerts_by_severity: summary.bySeverity,
      node: process.version,
      cpus: os.cpus().length,
    },
    null,
    2,
  ),
);
