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

let seed = 42;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const CITIES = [
  ['FR', 'Paris', 48.8566, 2.3522], ['FR', 'Lyon', 45.764, 4.8357], ['FR', 'Marseille', 43.2965, 5.3698],
  ['FR', 'Lille', 50.6292, 3.0573], ['BE', 'Brussels', 50.8503, 4.3517], ['DE', 'Berlin', 52.52, 13.405],
  ['ES', 'Madrid', 40.4168, -3.7038], ['IT', 'Rome', 41.9028, 12.4964],
];
const FAR = [['RU', 'Moscow', 55.7558, 37.6173], ['US', 'New York', 40.7128, -74.006], ['BR', 'São Paulo', -23.55, -46.63]];
const homes = Array.from({ length: ACCOUNTS }, () => CITIES[Math.floor(rand() * CITIES.length)]);
const START = Date.parse('2025-01-01T00:00:00Z');
const STEP = Math.round((30 * 86_400_000) / TOTAL); // a month of event time

// Mostly ordinary sign-ins; a few typos, a brute-force burst, sprays, far-away successes.
function* events() {
  let i = 0;
  let t = START;
  while (i < TOTAL) {
    t += STEP;
    const r = rand();
    const a = Math.floor(rand() * ACCOUNTS);
    const account = `user${a}@party.example`;
    if (r < 0.0005 && i + 12 < TOTAL) {
      for (let k = 0; k < 12; k++, i++) yield signin(`203.0.113.${k}`, account, t + k * 20_000, 'failure', FAR[0]);
      continue;
    }
    if (r < 0.001 && i + 15 < TOTAL) {
      for (let k = 0; k < 15; k++, i++) yield signin('198.51.100.23', `user${(a + k * 7) % ACCOUNTS}@party.example`, t + k * 30_000, 'failure', FAR[1]);
      continue;
    }
    const far = r < 0.0015;
    const outcome = rand() < 0.03 ? 'failure' : 'success';
    const place = far ? FAR[Math.floor(rand() * FAR.length)] : homes[a];
    i++;
    yield signin(`192.0.2.${a % 250}`, account, t, outcome, place);
  }
}

let n = 0;
function signin(ip, account, time, outcome, [country, city, lat, lon]) {
  n++;
  return {
    id: `bench:${n}`, kind: 'signin', time: new Date(time).toISOString(), provider: 'microsoft-365', source: 'bench',
    account, ip, geo: { country, city, lat, lon, source: 'event' }, outcome,
    details: { client: 'browser', interactive: true },
  };
}

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
