#!/usr/bin/env node
// Google Reports paging (issue 12, item 4): the connector's `reports-login` stream reads N
// activities from the Google fake (test/fakes/google-workspace, transpiled to .tmp/bench/google)
// with an artificial latency before every answer. Pages are a sequential `nextPageToken` chain of
// at most 1,000 activities (Google's maximum), so the floor is pages × latency.
//
//   npx tsc -p tsconfig.json && node bench/google-reports-paging.mjs [--activities 200000] [--latency 100]
//
// Prints JSON: wall, pages, the pages × latency floor, and what is left (the fake's own filtering and
// sorting of its list per page, HTTP, JSON, the googleapis client). Run with --latency 0 to see that rest alone.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadGoogleFake } from './lib/google-fake.mjs';
import { syntheticGoogleActivities } from './lib/synthetic-raw.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { reportsStream } = await import(path.join(root, 'dist/connectors/google-workspace/reports-stream.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));

const { values: args } = parseArgs({ options: { activities: { type: 'string', default: '200000' }, latency: { type: 'string', default: '100' } } });
const N = Number(args.activities);
const LATENCY = Number(args.latency);

const { startGoogleFake, fakeAuth, STORY, buildDataset } = await loadGoogleFake(root);

// N login activities over the last 12 hours (one day window of the stream), visible at once.
const now0 = Date.now();
const dataset = buildDataset();
const step = (12 * 3_600_000) / N;
const list = [];
let i = 0;
for (const a of syntheticGoogleActivities({ total: N, accounts: 1000 })) {
  a.id.time = new Date(now0 - 12 * 3_600_000 + i * step).toISOString();
  a.id.applicationName = 'login';
  list.push({ activity: a, visibleAt: 0 });
  i++;
}
// Stored newest first, the order the fake serves them in, so its per-page sort is one linear pass.
list.reverse();
dataset.activities.set('login', list);

// Time the fake spends on each answer (its own filtering, sorting and JSON, plus the latency it
// waits), so that its cost is told apart from the connector's.
const serverMs = [];
const createServer = http.createServer;
http.createServer = (handler) =>
  createServer((req, res) => {
    const t = performance.now();
    res.on('finish', () => serverMs.push(performance.now() - t));
    handler(req, res);
  });
const fake = await startGoogleFake({ clock: { now: () => Date.now() }, dataset, latencyMs: LATENCY });
const stream = reportsStream('login', { source: 'bench', adminSubject: STORY.admin, customer: 'my_customer', rootUrl: fake.url, auth: fakeAuth(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
const ctx = { clock: { now: () => Date.now() }, log: silentLogger, signal: new AbortController().signal, backfillMs: 20 * 3_600_000, overlapMs: 0 };

const t0 = performance.now();
let records = 0;
let pages = 0;
for await (const page of stream.pull(undefined, ctx)) {
  records += page.records.length;
  pages++;
}
const secs = (performance.now() - t0) / 1000;
const requests = fake.requests.filter((r) => r.path.includes('/activity/')).length;
await fake.close();
const floor = (requests * LATENCY) / 1000;
console.log(
  JSON.stringify(
    {
      activities: records,
      pages,
      requests,
      latency_ms: LATENCY,
      wall_seconds: Number(secs.toFixed(2)),
      floor_seconds: Number(floor.toFixed(2)),
      ratio_to_floor: floor ? Number((secs / floor).toFixed(2)) : null,
      fake_per_page_ms: Math.round(serverMs.reduce((a, b) => a + b, 0) / Math.max(1, serverMs.length) - LATENCY),
      per_page_beyond_latency_ms: Math.round(((secs - floor) * 1000) / Math.max(1, requests)),
      activities_per_second: Math.round(records / secs),
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    },
    null,
    2,
  ),
);
