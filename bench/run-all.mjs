#!/usr/bin/env node
// `npm run bench`: runs the benchmarks one after the other (never in parallel: they would measure
// each other) and writes their results, with the machine they ran on, between the
// `<!-- bench:begin -->` and `<!-- bench:end -->` marks of docs/benchmarks.md.
//
//   npm run build && node bench/run-all.mjs [--quick] [--no-write]
//
// --quick: 200,000 events (and raw records) instead of 1,000,000 and 10,000 IMAP messages instead of 50,000 (minutes
// instead of a quarter of an hour). A benchmark that cannot run here (no Dovecot, not root) is
// recorded as such, with its error, instead of stopping the others.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } } });
const EVENTS = args.quick ? 200_000 : 1_000_000;
const ACCOUNTS = args.quick ? 1_000 : 5_000;
const IMAP_MESSAGES = args.quick ? 10_000 : 50_000;

function run(script, argv, nodeArgs = []) {
  const t0 = performance.now();
  process.stderr.write(`bench: node ${[...nodeArgs, script, ...argv].join(' ')}\n`);
  const r = spawnSync(process.execPath, [...nodeArgs, path.join(root, script), ...argv], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 0) return { ok: false, error: (r.stderr || r.stdout || `exit ${r.status}`).trim().split('\n').slice(-3).join(' '), secs };
  return { ok: true, out: r.stdout, secs };
}
const json = (r) => (r.ok ? JSON.parse(r.out) : undefined);
const n = (x) => Math.round(x).toLocaleString('en');
const failed = (r) => `Did not run here: \`${r.error.replace(/`/g, "'").slice(0, 300)}\``;

const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
const machine = `${os.cpus().length} CPUs (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}, load average ${os.loadavg()[0].toFixed(2)} at start`;
const out = [];
out.push(`Last \`npm run bench${args.quick ? ' -- --quick' : ''}\`: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Machine: ${machine}.`, '');

// 1. Engine: replay with every shipped rule and enrichment, next to the parse floor.
{
  const replay = run('bench/replay.mjs', ['--events', String(EVENTS), '--accounts', String(ACCOUNTS), '--enrich']);
  const engine = run('bench/engine.mjs', ['--events', String(EVENTS), '--accounts', String(ACCOUNTS)]);
  out.push(`### 1. Engine: ${n(EVENTS)} sign-ins, ${n(ACCOUNTS)} people, every shipped rule, enrichment on`, '');
  const r = json(replay);
  const e = json(engine);
  out.push('| what | events/s | wall | ratio to parse floor | peak RSS |', '|---|---:|---:|---:|---:|');
  if (r) {
    out.push(`| parse floor: the same JSONL read line by line and \`JSON.parse\`d, no other work | ${n(r.parse_floor_events_per_second)} | ${(r.events / r.parse_floor_events_per_second).toFixed(1)} s | 1× | — |`);
    out.push(`| **\`vigie replay\`** end to end (\`bench/replay.mjs --enrich\`: reader, validation, dedupe in SQLite, GeoIP + ASN, rules, alerts) | **${n(r.events_per_second)}** | ${r.replay_seconds} s | **${r.ratio_to_floor}×** | ${n(r.peak_rss_mb)} MB |`);
  } else out.push(`| \`vigie replay\` | — | — | — | ${failed(replay)} |`);
  if (e) out.push(`| rules engine alone (\`bench/engine.mjs\`, events in memory, no store, no enrichment) | ${n(e.events_per_second)} | ${e.seconds} s | ${r ? `${(r.parse_floor_events_per_second / e.events_per_second).toFixed(1)}×` : '—'} | ${n(e.peak_rss_mb)} MB |`);
  else out.push(`| rules engine alone | — | — | — | ${failed(engine)} |`);
  if (r) out.push('', `Alerts raised by the replay: ${r.alerts} (${Object.entries(r.alerts_by_severity ?? {}).map(([k, v]) => `${v} ${k}`).join(', ')}). GeoIP load ${r.load?.geoip_ms} ms, ASN table ${r.load?.asn_ms} ms.`);
  out.push('');
}

// 2. Raw-format replay: O365 audit records and Google Reports activities, as section 1 (enrichment on).
{
  out.push(`### 2. Raw-format replay: ${n(EVENTS)} O365 audit records, ${n(EVENTS)} Google Reports activities`, '');
  out.push('Records from `bench/lib/synthetic-raw.mjs` (the sign-ins of section 1 told as unified audit log `UserLoggedIn`/`UserLoginFailed` records or Reports `login` activities, 1 % mailbox forwarding and inbox-rule changes), every shipped rule, GeoIP + ASN on (`bench/replay-raw.mjs --enrich`).', '');
  out.push('| format | records/s (`vigie replay`) | wall | parse floor records/s | parse + detect + `normalize` records/s | ratio to parse floor | events | alerts | peak RSS |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  const shares = [];
  for (const [fmt, label] of [['o365', 'O365 audit (`microsoft-365.management-activity`)'], ['google', 'Google Reports (`google-workspace-reports-activity`)']]) {
    const res = run('bench/replay-raw.mjs', ['--format', fmt, '--records', String(EVENTS), '--accounts', String(ACCOUNTS), '--enrich']);
    const j = json(res);
    if (j) shares.push(`${fmt === 'o365' ? 'O365' : 'Google'} ${Math.round(1e6 / j.parse_and_normalize_records_per_second - 1e6 / j.parse_floor_records_per_second)} µs of ${Math.round(1e6 / j.records_per_second)} µs (${Math.round((100 * (1 / j.parse_and_normalize_records_per_second - 1 / j.parse_floor_records_per_second)) * j.records_per_second)} %)`);
    if (j) out.push(`| ${label} | **${n(j.records_per_second)}** | ${j.replay_seconds} s | ${n(j.parse_floor_records_per_second)} | ${n(j.parse_and_normalize_records_per_second)} | ${j.ratio_to_floor}× | ${n(j.events)} | ${j.alerts} | ${n(j.peak_rss_mb)} MB |`);
    else out.push(`| ${label} | — | — | — | — | — | — | — | ${failed(res)} |`);
  }
  out.push('', `The raw records are larger than section 1\'s normalised events (a UAL sign-in is about 1.2 kB of JSON, a Reports activity about 0.6 kB), so their parse floor is lower. Shape detection and the format\'s \`normalize\` per record, out of the whole replay\'s time per record: ${shares.join('; ')}; the rest is what section 1 measures (validation, dedupe, enrichment, rules, store).`, '');
}

// 3. Microsoft 365 inbox-rule snapshot.
{
  out.push('### 3. Microsoft 365 inbox-rule snapshot: 2,000 mailboxes, fake tenant, 50 ms latency', '');
  const throttled = run('bench/m365-inbox-rules.mjs', []);
  const clean = run('bench/m365-inbox-rules.mjs', ['--batch-throttle', '0', '--throttle-rate', '0']);
  const rows = (r) => (r.ok ? r.out.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| way')) : []);
  const t = rows(throttled);
  const c = rows(clean);
  out.push('| way | Graph requests | wall |', '|---|---:|---:|');
  if (t[0]) out.push(t[0].replace('inbox-rules stream, measured**', 'inbox-rules stream, with 429s** (10 items Retry-After 2 s, 2 % of requests Retry-After 1 s)'));
  else out.push(`| inbox-rules stream, with 429s | — | ${failed(throttled)} |`);
  if (c[0]) out.push(c[0].replace('**inbox-rules stream, measured**', 'inbox-rules stream, no 429').replace(/\*\*/g, ''));
  else out.push(`| inbox-rules stream, no 429 | — | ${failed(clean)} |`);
  for (const l of t.slice(1)) out.push(l);
  out.push('', 'Ratio to the theoretical minimum: the no-429 row divided by the minimum row. With 429s the floor is the Retry-After itself: items throttled in the first batches wait 2 s before they can be asked again.', '');
}

// 4. Google Reports paging.
{
  out.push('### 4. Google Reports: 200,000 activities paged from the fake, 100 ms latency', '');
  out.push('`bench/google-reports-paging.mjs`: the connector\'s `reports-login` stream against the Google fake (`test/fakes/google-workspace`, transpiled to `.tmp/bench/google`), one day window, pages of 1,000 (Google\'s maximum) chained by `nextPageToken`, so they cannot overlap: the floor is pages × latency.', '');
  out.push('| latency | pages | wall | pages × latency | ratio | per page beyond the latency | of which the fake\'s own work | activities/s |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const lat of [100, 0]) {
    const res = run('bench/google-reports-paging.mjs', ['--activities', '200000', '--latency', String(lat)]);
    const j = json(res);
    if (j) out.push(`| ${lat} ms | ${n(j.requests)} | **${j.wall_seconds} s** | ${j.floor_seconds} s | ${j.ratio_to_floor ?? '—'}${j.ratio_to_floor ? '×' : ''} | ${j.per_page_beyond_latency_ms} ms | ${j.fake_per_page_ms} ms | ${n(j.activities_per_second)} |`);
    else out.push(`| ${lat} ms | — | — | — | — | — | — | ${failed(res)} |`);
  }
  out.push('', 'Beyond the wait, each page costs the fake\'s own work (it filters, sorts and serialises its whole 200,000-item list for every page, having no index: a cost of the fake, not of Google) and the connector\'s (HTTP, about 1 MB of JSON per page parsed by the googleapis client), both on the same 2 vCPUs. The connector\'s share is the difference of the last two columns. Only pages of different applications (one stream each) or different windows could overlap.', '');
}

// 5. IMAP.
{
  out.push(`### 5. IMAP: Dovecot account of ${n(IMAP_MESSAGES)} messages`, '');
  const imap = run('bench/imap-poll.mjs', ['--messages', String(IMAP_MESSAGES), '--sent', String(Math.round(IMAP_MESSAGES / 10))]);
  if (imap.ok) out.push(...imap.out.trim().split('\n'));
  else out.push(failed(imap));
  out.push('', 'Not measured yet: the raw imapflow fetch of the same fields for the ratio, and 10 folders (the script seeds 3: INBOX, Archive, Sent).', '');
}

// 6. Detection latency.
{
  out.push('### 6. Detection latency (event visible at the provider → alert at a webhook)', '');
  const res = run('bench/detection-latency.mjs', args.quick ? ['--passes', '40'] : ['--passes', '150']);
  if (res.ok) out.push(...res.out.trim().split('\n'));
  else out.push(failed(res));
  out.push('');
}

// 7. Memory.
{
  const mem = json(run('bench/memory.mjs', ['--people', '10000', '--events', String(args.quick ? 200_000 : 500_000)], ['--expose-gc']));
  out.push('### 7. Memory: GeoIP + ASN loaded, baselines of 10,000 people', '');
  if (mem) {
    out.push('| state | RSS (after GC) |', '|---|---:|');
    out.push(`| Node, modules loaded | ${mem.rss_start_mb} MB |`);
    out.push(`| + DB-IP city IPv4 and IPv6, ASN table (loaded in ${mem.geoip_load_ms} + ${mem.asn_load_ms} ms) | ${mem.rss_geoip_asn_mb} MB |`);
    out.push(`| + detector state of ${n(mem.people)} people (${n(mem.events)} sign-ins through every rule, ${n(mem.state_entries)} state entries) | **${mem.rss_geoip_asn_state_mb} MB** |`);
  } else out.push('`bench/memory.mjs` failed.');
  out.push('');
}

const text = out.join('\n');
if (args['no-write']) console.log(text);
else {
  const doc = path.join(root, 'docs/benchmarks.md');
  const md = fs.readFileSync(doc, 'utf8');
  const begin = '<!-- bench:begin -->';
  const end = '<!-- bench:end -->';
  const block = `${begin}\n${text}\n${end}`;
  const i = md.indexOf(begin);
  const j = md.indexOf(end);
  const next = i >= 0 && j > i ? md.slice(0, i) + block + md.slice(j + end.length) : `${md.trimEnd()}\n\n## Latest \`npm run bench\` (issue 12)\n\n${block}\n`;
  fs.writeFileSync(doc, next);
  console.log(text);
}
