#!/usr/bin/env node
// Soak test (not part of npm test): Vigie's daemon pieces run for N minutes while events keep
// arriving and the receiver keeps failing now and then. Prints alerts lost (must be 0),
// duplicates (allowed, same id), detection latency p50/p99 and RSS over time.
//
//   npm run build && node bench/soak.mjs [--minutes 60] [--rate 2] [--fail 0.2]
//
// Events are appended to a JSONL file read by the `file` connector every 2 s; each event is an
// external forwarding rule on its own account, so each must produce exactly one alert. The local
// webhook answers 500 to a share of requests and is down 30 s out of every 5 minutes.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { buildApp, readConfig } = await import(path.join(root, 'dist/src/app.js'));
const { createScheduler } = await import(path.join(root, 'dist/src/pipeline/scheduler.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));

const { values: args } = parseArgs({
  options: { minutes: { type: 'string', default: '60' }, rate: { type: 'string', default: '2' }, fail: { type: 'string', default: '0.2' } },
});
const minutes = Number(args.minutes);
const perSecond = Number(args.rate);
const failShare = Number(args.fail);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-soak-'));
const input = path.join(dir, 'events.jsonl');
fs.writeFileSync(input, '');

// The receiver: records first arrival per account, counts copies; fails on purpose.
const start = Date.now();
const firstArrival = new Map();
const copies = new Map();
let requests = 0;
let refused = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests++;
    const sinceStart = Date.now() - start;
    const down = sinceStart % 300_000 > 270_000; // 30 s out of every 5 min
    if (down || Math.random() < failShare) {
      refused++;
      res.writeHead(down ? 503 : 500).end();
      return;
    }
    for (const a of JSON.parse(Buffer.concat(chunks).toString()).alerts) {
      if (!firstArrival.has(a.account)) firstArrival.set(a.account, Date.now());
      copies.set(a.id, (copies.get(a.id) ?? 0) + 1);
    }
    res.writeHead(200).end('ok');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/hook`;

fs.writeFileSync(
  path.join(dir, 'vigie.yml'),
  `organisation: { name: Soak, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - { name: feed, type: file, paths: [./events.jsonl], schedule: "*/2 * * * * *" }
receivers:
  - { name: hook, type: webhook, url: "${url}" }
delivery: { group_wait: 1s, initial_backoff: 1s, max_backoff: 10s }
`,
);
const config = readConfig(path.join(dir, 'vigie.yml'));
const app = buildApp(config, { log: silentLogger });
const scheduler = createScheduler({ runner: app.runner, streams: app.streams(), log: silentLogger });
const deliveryAbort = new AbortController();
const delivering = app.delivery.run(deliveryAbort.signal);
scheduler.start();

const appended = new Map(); // account -> time appended
let serial = 0;
const rss = [];
const feeder = setInterval(() => {
  let lines = '';
  for (let i = 0; i < perSecond; i++) {
    serial++;
    const account = `soak${String(serial).padStart(7, '0')}@party.example`;
    appended.set(account, Date.now());
    lines += `${JSON.stringify({ id: `soak:feed:${serial}`, kind: 'mailbox_rule', time: new Date().toISOString(), provider: 'microsoft-365', source: 'feed', account, details: { change: 'created', mechanism: 'exchange_inbox_rule', rule_id: `r${serial}`, name: 'soak', forward_to: [`out${serial}@elsewhere.example`], conditions: { from: ['x@y.example'] } } })}\n`;
  }
  fs.appendFileSync(input, lines);
}, 1000);
const sampler = setInterval(() => rss.push({ minute: Math.round((Date.now() - start) / 60_000), rss_mb: Math.round(process.memoryUsage().rss / 1048576) }), 60_000);

await new Promise((r) => setTimeout(r, minutes * 60_000));
clearInterval(feeder);
// Let the last events be read and the retries drain (the receiver stops failing now).
const drainUntil = Date.now() + 120_000;
const stopFailing = () => firstArrival.size >= appended.size;
while (!stopFailing() && Date.now() < drainUntil) await new Promise((r) => setTimeout(r, 1000));
clearInterval(sampler);
await scheduler.stop();
deliveryAbort.abort();
await delivering;
await app.close();
server.close();

const latencies = [...appended].filter(([a]) => firstArrival.has(a)).map(([a, t]) => firstArrival.get(a) - t).sort((x, y) => x - y);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
const lost = [...appended.keys()].filter((a) => !firstArrival.has(a)).length;
const duplicates = [...copies.values()].reduce((n, c) => n + c - 1, 0);
console.log(
  JSON.stringify(
    {
      minutes,
      events: serial,
      alerts_received: firstArrival.size,
      alerts_lost: lost,
      duplicate_copies: duplicates,
      webhook_requests: requests,
      refused_on_purpose: refused,
      latency_ms: { p50: pct(50), p99: pct(99), max: latencies.at(-1) },
      rss_over_time: rss,
    },
    null,
    2,
  ),
);
fs.rmSync(dir, { recursive: true, force: true });
process.exitCode = lost === 0 ? 0 : 1;
