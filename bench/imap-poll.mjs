#!/usr/bin/env node
// Cost of the IMAP mailbox stream against a private Dovecot: a first scan of a large account, an
// unchanged poll, and a poll with changes. Wall time and IMAP commands sent (counted from the
// client's own command lines).
//
//   npx tsc -p tsconfig.json && node bench/imap-poll.mjs [--messages 10000] [--sent 1000]
//
// --messages: total messages of the account, seeded as maildir files (fast); --sent of them go to
// the Sent folder, dated within the backfill, so the first scan reads all their envelopes and
// headers. The rest is split between INBOX (80 %) and Archive. Needs Dovecot (ENVIRONMENT §4) and
// root (maildir files belong to uid 5000). Results go to docs/benchmarks.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createMailboxStream } = await import(path.join(root, 'dist/connectors/imap/mailbox-stream.js'));
const { silentLogger } = await import(path.join(root, 'dist/src/log.js'));

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    sent: { type: 'string', default: '1000' },
  },
});
const TOTAL = Number(args.messages);
const SENT = Math.min(TOTAL, Number(args.sent));
const INBOX = Math.round((TOTAL - SENT) * 0.8);
const ARCHIVE = TOTAL - SENT - INBOX;
const USER = 'bench';

// The test harness's Dovecot, transpiled on the fly: one definition of how Vigie runs Dovecot.
const ts = (await import('typescript')).default;
const helperSrc = fs.readFileSync(path.join(root, 'test/helpers/dovecot.ts'), 'utf8');
const out = ts.transpileModule(helperSrc, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
const tmp = path.join(root, '.tmp', 'bench');
fs.mkdirSync(tmp, { recursive: true });
fs.writeFileSync(path.join(tmp, 'dovecot.mjs'), out.outputText);
const { startDovecot } = await import(pathToFileURL(path.join(tmp, 'dovecot.mjs')).href);

const MAIL_UID = 5000;
let serial = 0;
function message(i, folder) {
  serial++;
  const sent = folder === 'Sent';
  return [
    `From: ${sent ? 'bench@party.example' : `sender${i % 97}@elsewhere.example`}`,
    `To: ${sent ? `friend${i % 13}@party.example, partner${i % 7}@elsewhere.example` : 'bench@party.example'}`,
    ...(sent && i % 3 === 0 ? [`Bcc: drop${i % 5}@exfil.example`] : []),
    `Subject: benchmark message ${serial}`,
    `Message-ID: <bench-${serial}@party.example>`,
    `Date: ${new Date().toUTCString()}`,
    ...(sent ? ['User-Agent: Mozilla/5.0 Thunderbird/128.3.0'] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of message ${serial}. `.repeat(20),
    '',
  ].join('\r\n');
}

/** Maildir files straight into the user's folders (Maildir++: INBOX is the root, others are .Name). */
function seed(maildir, folder, count, { maxAgeMs, into = 'cur' } = {}) {
  const dir = folder === 'INBOX' ? maildir : path.join(maildir, `.${folder}`);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  if (folder !== 'INBOX') fs.writeFileSync(path.join(dir, 'maildirfolder'), '');
  const now = Date.now();
  const files = [];
  for (let i = 0; i < count; i++) {
    const body = message(i, folder);
    const t = now - Math.floor(((i + 1) / (count + 1)) * (maxAgeMs ?? 30 * 86_400_000));
    const name = `${Math.floor(t / 1000)}.M${serial}P${process.pid}.bench,S=${Buffer.byteLength(body)}${into === 'cur' ? ':2,S' : ''}`;
    const file = path.join(dir, into, name);
    fs.writeFileSync(file, body);
    // Dovecot takes a maildir message's INTERNALDATE from the file's mtime.
    fs.utimesSync(file, t / 1000, t / 1000);
    files.push(file);
  }
  return files;
}

function chownTree(p) {
  fs.chownSync(p, MAIL_UID, MAIL_UID);
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e));
}

const dovecot = await startDovecot({ users: [USER] });
try {
  const maildir = path.join(dovecot.dir, 'mail', USER, 'Maildir');
  const t0 = performance.now();
  const inboxFiles = seed(maildir, 'INBOX', INBOX);
  seed(maildir, 'Archive', ARCHIVE);
  seed(maildir, 'Sent', SENT, { maxAgeMs: 3 * 86_400_000 });
  chownTree(path.join(dovecot.dir, 'mail', USER));
  const seedMs = performance.now() - t0;
  // A real server has its index already (the users' own clients keep it): build it before measuring.
  const t1 = performance.now();
  await dovecot.doveadm(['mailbox', 'status', '-u', USER, 'messages uidnext', '*']);
  const indexMs = performance.now() - t1;

  let commands = 0;
  const stream = createMailboxStream({
    source: 'bench',
    endpoint: { host: dovecot.host, port: dovecot.imapPort, tls: false },
    accounts: [{ address: `${USER}@party.example`, loginUser: USER, password: dovecot.users[USER] }],
    domains: ['party.example'],
    onCommand: () => commands++,
  });
  const ctx = { clock: { now: () => Date.now() }, log: silentLogger, signal: new AbortController().signal, backfillMs: 7 * 86_400_000, overlapMs: 0 };

  let cursor;
  async function poll(label) {
    commands = 0;
    const start = performance.now();
    let records = 0;
    let events = 0;
    for await (const page of stream.pull(cursor, ctx)) {
      records += page.records.length;
      for (const r of page.records) events += stream.normalize(r).length;
      cursor = page.cursor;
    }
    return { label, ms: performance.now() - start, commands, events, records };
  }

  const rows = [];
  rows.push(await poll(`first scan: ${TOTAL.toLocaleString('en')} messages, ${SENT.toLocaleString('en')} of them recent in Sent`));
  rows.push(await poll('unchanged poll'));
  rows.push(await poll('unchanged poll, again'));
  // Changes: 100 new Sent messages delivered as files, 500 INBOX messages removed (an expunge to Dovecot).
  seed(maildir, 'Sent', 100, { maxAgeMs: 60_000, into: 'new' });
  chownTree(path.join(maildir, '.Sent'));
  for (const f of inboxFiles.slice(0, 500)) fs.rmSync(f);
  rows.push(await poll('poll after 100 new Sent messages and 500 INBOX expunges'));

  console.log(`Dovecot 2.3 (maildir, local), imapflow 2.10.2, Node ${process.versions.node}. Seeding ${seedMs.toFixed(0)} ms, index build ${indexMs.toFixed(0)} ms (not counted).`);
  console.log(`Folders: INBOX ${INBOX}, Archive ${ARCHIVE}, Sent ${SENT}.\n`);
  console.log('| poll | wall ms | IMAP commands | events |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.label} | ${r.ms.toFixed(0)} | ${r.commands} | ${r.events} |`);
  console.log(`\nPeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB.`);
} finally {
  await dovecot.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
}
