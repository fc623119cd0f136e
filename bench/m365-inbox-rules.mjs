#!/usr/bin/env node
// Cost of the Microsoft 365 inbox-rule snapshot: every mailbox's messageRules read through Graph
// $batch (20 per request), against the fake tenant with an artificial latency per request, some
// 429s inside batches (Retry-After in the item) and on whole requests. Wall time and requests,
// next to the theoretical minimum and to the naive way (one GET per mailbox, one after the other).
//
//   npx tsc -p tsconfig.json && node bench/m365-inbox-rules.mjs [--mailboxes 2000] [--rules 3] \
//     [--latency 50] [--batch-throttle 10] [--throttle-rate 0.02] [--naive]
//
// --naive also measures the one-GET-per-mailbox loop (takes mailboxes × latency: 100 s by default).
// The fake (test/fakes/microsoft-365) is TypeScript: it is transpiled to .tmp/bench first, so there
// is one definition of how the fake tenant behaves. Results go to docs/benchmarks.md.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createMicrosoft365Connector, microsoft365ConnectorSchema } = await import(path.join(root, 'dist/connectors/microsoft-365/index.js'));
const { createCredential, createTokenSource, GRAPH_SCOPE } = await import(path.join(root, 'dist/connectors/microsoft-365/auth.js'));
const { createHttpClient } = await import(path.join(root, 'dist/src/http/http-client.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));
const { systemClock } = await import(path.join(root, 'dist/src/clock.js'));

const { values: args } = parseArgs({
  options: {
    mailboxes: { type: 'string', default: '2000' },
    rules: { type: 'string', default: '3' },
    latency: { type: 'string', default: '50' },
    'batch-throttle': { type: 'string', default: '10' },
    'throttle-rate': { type: 'string', default: '0.02' },
    naive: { type: 'boolean', default: false },
  },
});
const MAILBOXES = Number(args.mailboxes);
const RULES = Number(args.rules);
const LATENCY = Number(args.latency);

// ---- the fake, transpiled ------------------------------------------------------------------
const ts = (await import('typescript')).default;
const tmp = path.join(root, '.tmp', 'bench', 'm365');
fs.mkdirSync(tmp, { recursive: true });
for (const f of ['server', 'tenant', 'cert', 'random']) {
  const src = fs.readFileSync(path.join(root, 'test/fakes/microsoft-365', `${f}.ts`), 'utf8');
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  fs.writeFileSync(path.join(tmp, `${f}.js`), out.outputText);
}
const { startFakeMicrosoft365 } = await import(pathToFileURL(path.join(tmp, 'server.js')).href);
const { messageRule, recipient } = await import(pathToFileURL(path.join(tmp, 'tenant.js')).href);
const { fakeGuid, seededRandom } = await import(pathToFileURL(path.join(tmp, 'random.js')).href);

const fake = await startFakeMicrosoft365({
  now: () => Date.now(),
  knobs: {
    latencyMs: LATENCY,
    usersPageSize: 999, // Graph's own maximum for $top on /users (§A.4)
    batchThrottleItems: Number(args['batch-throttle']),
    throttleRate: Number(args['throttle-rate']),
  },
});

// 2,000 mailboxes: the ten people of the fake tenant and as many more as needed, each with a few rules.
const rand = seededRandom(2000);
const users = fake.tenant.users;
for (let i = users.length; i < MAILBOXES; i++) {
  users.push({ id: fakeGuid(rand), upn: `member${String(i).padStart(4, '0')}@party.example`, name: `Member ${i}`, city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, ip: '192.0.2.200' });
}
for (const [n, u] of users.entries()) {
  for (let k = 0; k < RULES; k++) {
    const external = n % 500 === 7 && k === 0;
    fake.tenant.inboxRules.push({
      userId: u.id,
      upn: u.upn,
      from: 0,
      rule: messageRule(
        `AQAAA${n}x${k}=`,
        external ? '..' : `Rule ${k}`,
        k + 1,
        { subjectContains: [`topic ${k}`] },
        external ? { forwardTo: [recipient(`drop${n}@mail.example.net`)], markAsRead: true } : { moveToFolder: `AAMkFolder${k}=` },
      ),
    });
  }
}
const expectedRules = fake.tenant.inboxRules.length; // with the two the fake tenant had already
const userListEntries = users.length + 2; // the fake also lists an account without mailbox and a guest

// ---- the inbox-rules stream, as Vigie runs it ------------------------------------------------
const waits = [];
const cfg = {
  name: 'bench',
  ...microsoft365ConnectorSchema.parse({
    tenant_id: fake.tenantId,
    client_id: fake.clientId,
    client_secret: fake.clientSecret,
    base_urls: { login: fake.loginUrl, graph: fake.graphUrl, manage: fake.manageUrl },
    streams: ['inbox-rules'],
  }),
};
const connector = createMicrosoft365Connector(cfg, {
  baseDir: root,
  domains: ['party.example'],
  clock: systemClock,
  log: silentLogger,
  ca: fake.ca,
  sleep: (ms) => {
    waits.push(ms);
    return new Promise((r) => setTimeout(r, ms));
  },
});
const ctx = { clock: systemClock, log: silentLogger, signal: new AbortController().signal, backfillMs: 7 * 86_400_000, overlapMs: 0 };

const t0 = performance.now();
let scopes = 0;
let rules = 0;
for await (const scope of connector.streams[0].snapshot(ctx)) {
  if (scope.scope === '_access') continue;
  scopes++;
  rules += scope.objects.length;
}
const wall = performance.now() - t0;
await connector.close();
const graphReqs = fake.requests.filter((r) => r.server === 'graph');
const batches = graphReqs.filter((r) => r.path === '/v1.0/$batch').length;
const userPages = graphReqs.filter((r) => r.path.startsWith('/v1.0/users')).length;
const loginReqs = fake.requests.filter((r) => r.server === 'login').length;
if (scopes !== MAILBOXES || rules !== expectedRules) throw new Error(`read ${scopes} mailboxes and ${rules} rules, expected ${MAILBOXES} and ${expectedRules}`);

// ---- the naive way: one GET per mailbox, one after the other ---------------------------------
let naive;
if (args.naive) {
  const agent = new https.Agent({ ca: fake.ca });
  const tokens = createTokenSource({
    newCredential: () => createCredential({ tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: fake.clientSecret, authorityHost: fake.loginUrl, agent }),
    scope: GRAPH_SCOPE,
    clock: systemClock,
  });
  fake.knobs.throttleRate = 0; // the naive loop is measured without throttling: its best case
  const http = createHttpClient({ allowedOrigins: [fake.graphUrl], getToken: (o) => tokens.getToken(o), clock: systemClock, log: silentLogger, ca: fake.ca });
  await tokens.getToken();
  const before = fake.requests.length;
  const t1 = performance.now();
  for (const u of users) await http.getJson(`${fake.graphUrl}/v1.0/users/${u.id}/mailFolders/inbox/messageRules`);
  naive = { wall: performance.now() - t1, requests: fake.requests.length - before };
  http.close();
  agent.destroy();
}
await fake.close();
fs.rmSync(tmp, { recursive: true, force: true });

// ---- the floors --------------------------------------------------------------------------------
// Requests: the user list is read in pages of 999 (the $top maximum) and every mailbox's rules fit
// in one $batch item, 20 items per batch.
const minUserPages = Math.ceil(userListEntries / 999);
const minBatches = Math.ceil(MAILBOXES / 20);
// Time: user pages follow @odata.nextLink, so they are sequential (pages × latency). Batches could all
// be in flight at once (one item per mailbox per batch stays far below 4 concurrent per mailbox), so
// the bound is the global limit, 2,000 requests/s per app, each batch item counting as one request
// (§A.5, §A.6): max(latency, mailboxes / 2000 s). The per-mailbox limits (4 concurrent, 10,000
// per 10 min) do not bind: each mailbox is read once.
const GLOBAL_RPS = 2000;
const minMs = minUserPages * LATENCY + Math.max(LATENCY, (MAILBOXES / GLOBAL_RPS) * 1000);
// The stream sends one batch at a time: its own floor is every request in sequence.
const sequentialMs = (minUserPages + minBatches) * LATENCY;
const waitedMs = waits.reduce((a, b) => a + b, 0);

const fmtS = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(`Fake tenant: ${MAILBOXES.toLocaleString('en')} mailboxes, ${RULES} rules each, ${LATENCY} ms latency per request (login, users, $batch), `
  + `${args['batch-throttle']} batch items answered 429 (Retry-After 2 s), ${(Number(args['throttle-rate']) * 100).toFixed(0)} % of whole requests answered 429 (Retry-After 1 s). Node ${process.versions.node}.\n`);
console.log('| way | Graph requests | wall |');
console.log('|---|---:|---:|');
console.log(`| **inbox-rules stream, measured** ($batch of 20, up to 6 batches in flight; throttled items re-queued after their Retry-After) | **${batches + userPages}** (${userPages} user pages + ${batches} batches: ${minBatches} + ${batches - minBatches} repeated after a 429; + ${loginReqs} to the token endpoint) | **${fmtS(wall)}** (${waits.length} Retry-After waits totalling ${fmtS(waitedMs)}, overlapping the other batches) |`);
console.log(`| one batch at a time (the stream before issue 12), computed: same requests in sequence, no 429 | ${minUserPages + minBatches} | ${fmtS(sequentialMs)} |`);
console.log(`| theoretical minimum (all batches in flight at once, 2,000 req/s per app) | ${minUserPages + minBatches} (${minUserPages} + ⌈${MAILBOXES}/20⌉ = ${minBatches}) | ${fmtS(minMs)} |`);
console.log(`| naive: one GET per mailbox, sequential, no 429 | ${(MAILBOXES + minUserPages).toLocaleString('en')} | ${naive ? `${fmtS(naive.wall)} measured (${naive.requests.toLocaleString('en')} GETs; ` : ''}${fmtS(MAILBOXES * LATENCY + minUserPages * LATENCY)} computed${naive ? ')' : ''} |`);
console.log(`\nRead ${scopes.toLocaleString('en')} mailboxes, ${rules.toLocaleString('en')} rules. Peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
