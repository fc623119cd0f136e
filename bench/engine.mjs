#!/usr/bin/env node
// Replay throughput of the rules engine: synthetic sign-ins through all shipped rules.
//
//   npx tsc -p tsconfig.json && node bench/engine.mjs [--events 1000000] [--accounts 5000] [--serialize]
//
// --serialize stores detector state as JSON text, as the SQLite store does (without SQLite's own
// cost). Prints events/s and peak RSS; results go to docs/benchmarks.md.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SYNTHETIC_START, syntheticSignins, syntheticStep } from './lib/synthetic-signins.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { loadEngine, createMemoryState } = await import(path.join(root, 'dist/src/engine/index.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    accounts: { type: 'string', default: '5000' },
    serialize: { type: 'boolean', default: false },
  },
});
const TOTAL = Number(args.events);
const ACCOUNTS = Number(args.accounts);

const START = SYNTHETIC_START;
const STEP = syntheticStep(TOTAL);
const events = () => syntheticSignins({ total: TOTAL, accounts: ACCOUNTS });

const engine = loadEngine({ rulesDir: path.join(root, 'rules'), overlays: [], clock: { now: () => Date.now() }, log: silentLogger });
const state = createMemoryState({ serialize: args.serialize });
const byRule = {};
const ids = new Set();
let count = 0;
let lastT = START;
const t0 = process.hrtime.bigint();
for (const e of events()) {
  lastT = Math.max(lastT, Date.parse(e.time));
  for (const a of engine.evaluate(e, { state, learning: false })) {
    ids.add(a.id);
    byRule[a.rule] = (byRule[a.rule] ?? 0) + 1;
  }
  count++;
  // A long-running store prunes expired state; do the same once per simulated day.
  if (count % Math.max(1, Math.round(86_400_000 / STEP)) === 0) state.prune(lastT);
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const rssMb = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({
  events: count,
  accounts: ACCOUNTS,
  serialize: args.serialize,
  seconds: Number(secs.toFixed(2)),
  events_per_second: Math.round(count / secs),
  peak_rss_mb: Math.round(rssMb),
  state_entries: state.size,
  distinct_alerts: ids.size,
  alert_updates_by_rule: byRule,
  node: process.version,
}, null, 2));
