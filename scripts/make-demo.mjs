#!/usr/bin/env node
// Writes config/demo/events.jsonl: the story `vigie demo` replays. Deterministic (seeded PRNG, fixed
// dates), so running it again yields the same file byte for byte. Run: node scripts/make-demo.mjs
//
// The story: a small party, twelve people on three providers (headquarters on Microsoft 365, the
// youth wing on Google Workspace, the Nord federation on its own Dovecot server). One ordinary
// week, Monday 3 to Sunday 9 March 2025: sign-ins from home, the office and phones, a few typos,
// a commute by train, harmless inbox rules. Then on Monday 10 March someone goes after Alice, the
// party secretary: a password spray against the headquarters' addresses overnight, a burst of
// guesses at Alice's password, a success from Moscow forty minutes after Alice signed in from
// Paris, and an inbox rule that forwards her mail to an outside address and hides it.
//
// Every IP address is from the documentation ranges (RFC 5737), so no real network is implicated.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const OUT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'config', 'demo', 'events.jsonl');

// mulberry32: tiny, seeded, good enough for a story.
let seed = 0x5eed2025;
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const between = (a, b) => a + Math.floor(rand() * (b - a + 1));

const CITIES = {
  Paris: { country: 'FR', city: 'Paris', lat: 48.8566, lon: 2.3522 },
  Lyon: { country: 'FR', city: 'Lyon', lat: 45.764, lon: 4.8357 },
  Marseille: { country: 'FR', city: 'Marseille', lat: 43.2965, lon: 5.3698 },
  Bordeaux: { country: 'FR', city: 'Bordeaux', lat: 44.8378, lon: -0.5792 },
  Lille: { country: 'FR', city: 'Lille', lat: 50.6292, lon: 3.0573 },
  Nantes: { country: 'FR', city: 'Nantes', lat: 47.2184, lon: -1.5536 },
  Toulouse: { country: 'FR', city: 'Toulouse', lat: 43.6047, lon: 1.4442 },
  Strasbourg: { country: 'FR', city: 'Strasbourg', lat: 48.5734, lon: 7.7521 },
  Moscow: { country: 'RU', city: 'Moscow', lat: 55.7558, lon: 37.6173 },
  Amsterdam: { country: 'NL', city: 'Amsterdam', lat: 52.3676, lon: 4.9041 },
};

const PROVIDERS = {
  m365: { provider: 'microsoft-365', source: 'hq-m365', stream: 'signins', clients: ['browser', 'desktop', 'mobile'] },
  google: { provider: 'google-workspace', source: 'youth-google', stream: 'login', clients: ['browser', 'mobile'] },
  imap: { provider: 'imap', source: 'nord-dovecot', stream: 'dovecot-log', clients: ['imap'] },
};

const HQ_OFFICE_IP = '192.0.2.10';
// Twelve people. `office` is where they work on weekdays, `home` where they sign in from evenings.
const PEOPLE = [
  { account: 'alice@party.example', on: 'm365', home: 'Paris', office: 'Paris', ip: '192.0.2.21' },
  { account: 'bob@party.example', on: 'm365', home: 'Paris', office: 'Paris', ip: '192.0.2.22' },
  { account: 'chloe@party.example', on: 'm365', home: 'Lyon', office: 'Lyon', ip: '192.0.2.23', commute: 'Paris' },
  { account: 'david@party.example', on: 'm365', home: 'Marseille', office: 'Marseille', ip: '192.0.2.24', commute: 'Paris' },
  { account: 'farid@party.example', on: 'm365', home: 'Paris', office: 'Paris', ip: '192.0.2.25' },
  { account: 'helene@party.example', on: 'm365', home: 'Toulouse', office: 'Toulouse', ip: '192.0.2.26' },
  { account: 'ibrahim@party.example', on: 'm365', home: 'Strasbourg', office: 'Strasbourg', ip: '192.0.2.27' },
  { account: 'julie@party.example', on: 'm365', home: 'Nantes', office: 'Nantes', ip: '192.0.2.28' },
  { account: 'emma@youth.party.example', on: 'google', home: 'Bordeaux', office: 'Bordeaux', ip: '198.51.100.31' },
  { account: 'gabriel@youth.party.example', on: 'google', home: 'Paris', office: 'Paris', ip: '198.51.100.32' },
  { account: 'karim@nord.party.example', on: 'imap', home: 'Lille', office: 'Lille', ip: '198.51.100.41' },
  { account: 'lea@nord.party.example', on: 'imap', home: 'Lille', office: 'Lille', ip: '198.51.100.42' },
];

const events = [];
let serial = 0;
const iso = (ms) => new Date(ms).toISOString();
const at = (day, hh, mm, ss = 0) => Date.parse(`2025-03-${String(day).padStart(2, '0')}T00:00:00Z`) + ((hh * 60 + mm) * 60 + ss) * 1000;

function idFor(p) {
  serial += 1;
  return `${p.provider}:${p.stream}:demo-${String(serial).padStart(5, '0')}`;
}

function signin(person, ms, { outcome = 'success', city, ip, client, reason } = {}) {
  const p = PROVIDERS[person.on];
  const details = { client: client ?? pick(p.clients), interactive: true, legacy_auth: false };
  if (outcome === 'failure') details.failure_reason = reason ?? 'invalid password';
  events.push({
    id: idFor(p),
    kind: 'signin',
    time: iso(ms),
    provider: p.provider,
    source: p.source,
    account: person.account,
    ip: ip ?? person.ip,
    geo: { ...CITIES[city ?? person.home] },
    outcome,
    details,
  });
}

function inboxRule(person, ms, details, ip) {
  const p = PROVIDERS[person.on];
  events.push({
    id: `${p.provider}:rules:demo-${String(++serial).padStart(5, '0')}`,
    kind: 'mailbox_rule',
    time: iso(ms),
    provider: p.provider,
    source: p.source,
    account: person.account,
    ...(ip ? { ip } : {}),
    details,
  });
}

// ---- The ordinary week: Monday 3 to Sunday 9 March, plus Monday 10 for everyone but the story.
function ordinaryDay(person, day) {
  const weekday = new Date(at(day, 12, 0)).getUTCDay();
  const weekend = weekday === 0 || weekday === 6;
  const office = person.on === 'm365' && person.office === 'Paris' ? HQ_OFFICE_IP : person.ip;
  const slots = [];
  if (!weekend) {
    // The first sign-in of the week is early Monday for everyone, so baselines start on day one.
    slots.push({ ms: at(day, 7, between(0, 55), between(0, 59)), city: person.home, ip: person.ip });
    const commuting = person.commute && (weekday === 2 || weekday === 4);
    const workCity = commuting ? person.commute : person.office;
    const workIp = commuting ? HQ_OFFICE_IP : office;
    // A train from Lyon or Marseille to Paris takes two to three and a half hours.
    slots.push({ ms: at(day, commuting ? 11 : 9, between(0, 59)), city: workCity, ip: workIp });
    if (rand() < 0.7) slots.push({ ms: at(day, 14, between(0, 59)), city: workCity, ip: workIp });
    slots.push({ ms: at(day, commuting ? 21 : 19, between(0, 59)), city: commuting ? person.commute : person.home, ip: commuting ? HQ_OFFICE_IP : person.ip });
  } else if (rand() < 0.6) {
    slots.push({ ms: at(day, between(9, 20), between(0, 59)), city: person.home, ip: person.ip });
  }
  for (const s of slots) {
    // A typo now and then: one or two failures right before the success.
    if (rand() < 0.08) {
      const typos = between(1, 2);
      for (let i = typos; i > 0; i--) signin(person, s.ms - i * 20_000, { outcome: 'failure', city: s.city, ip: s.ip });
    }
    signin(person, s.ms, { city: s.city, ip: s.ip });
  }
}

const byAccount = Object.fromEntries(PEOPLE.map((p) => [p.account.split('@')[0], p]));
for (let day = 3; day <= 10; day++) {
  for (const person of PEOPLE) {
    if (day === 10 && person === byAccount.alice) continue; // Alice's Monday is written by hand below
    ordinaryDay(person, day);
  }
}

// Harmless mailbox rules: the first snapshot finds Karim's Sieve redirect to a colleague; Bob files
// newsletters; Hélène forwards to Julie while Julie covers for her; Emma's filter copies Gabriel.
inboxRule(byAccount.karim, at(3, 6, 0), {
  change: 'present', mechanism: 'sieve', rule_id: 'karim:roundcube:1', name: 'secretariat', enabled: true,
  redirect_to: ['lea@nord.party.example'],
});
inboxRule(byAccount.bob, at(4, 10, 12), {
  change: 'created', mechanism: 'exchange_inbox_rule', rule_id: 'bob-1', name: 'Newsletters', enabled: true,
  move_to_folder: 'Newsletters', conditions: { from_contains: ['newsletter'] },
}, HQ_OFFICE_IP);
inboxRule(byAccount.helene, at(5, 16, 40), {
  change: 'created', mechanism: 'exchange_inbox_rule', rule_id: 'helene-1', name: 'Holiday cover', enabled: true,
  forward_to: ['julie@party.example'],
}, '192.0.2.26');
inboxRule(byAccount.emma, at(6, 18, 5), {
  change: 'created', mechanism: 'gmail_filter', rule_id: 'emma-1', name: 'Events', enabled: true,
  forward_to: ['gabriel@youth.party.example'], conditions: { subject_contains: ['event'] },
}, '198.51.100.31');

// ---- Monday 10 March: the takeover.
const alice = byAccount.alice;
const SPRAY_IP = '198.51.100.23'; // a rented server in Amsterdam
const ATTACKER_IP = '203.0.113.66'; // Moscow

// 02:11: a password spray against the headquarters' addresses found on the party website.
const sprayTargets = [
  ...PEOPLE.filter((p) => p.on === 'm365').map((p) => p.account),
  'contact@party.example',
  'presse@party.example',
  'tresorerie@party.example',
  'secretariat@party.example',
];
sprayTargets.forEach((account, i) => {
  const p = PROVIDERS.m365;
  events.push({
    id: idFor(p), kind: 'signin', time: iso(at(10, 2, 11 + 2 * i, 7)), provider: p.provider, source: p.source, account,
    ip: SPRAY_IP, geo: { ...CITIES.Amsterdam }, outcome: 'failure',
    details: { client: 'other', interactive: true, legacy_auth: true, failure_reason: PEOPLE.some((x) => x.account === account) ? 'invalid password' : 'user not found' },
  });
});

// 08:52: Alice signs in from home in Paris, as every morning.
signin(alice, at(10, 8, 52, 14), { city: 'Paris', ip: alice.ip, client: 'browser' });
// 09:14–09:20: twelve guesses at Alice's password from Moscow, thirty seconds apart.
for (let i = 0; i < 12; i++) signin(alice, at(10, 9, 14, i * 30), { outcome: 'failure', city: 'Moscow', ip: ATTACKER_IP, client: 'browser' });
// 09:32: one works.
signin(alice, at(10, 9, 32, 14), { city: 'Moscow', ip: ATTACKER_IP, client: 'browser' });
// 09:38: the intruder makes sure they keep reading Alice's mail after she changes her password.
inboxRule(alice, at(10, 9, 38, 2), {
  change: 'created', mechanism: 'exchange_inbox_rule', rule_id: 'alice-7', name: '.', enabled: true,
  forward_to: ['alice.martin.archive@mailbox.example'], delete: true, mark_as_read: true, stop_processing: true,
  conditions: {},
}, ATTACKER_IP);
// 10:05: Alice, at the office, signs in again: Moscow to Paris in half an hour.
signin(alice, at(10, 10, 5, 51), { city: 'Paris', ip: HQ_OFFICE_IP, client: 'desktop' });
signin(alice, at(10, 14, 20, 3), { city: 'Paris', ip: HQ_OFFICE_IP, client: 'desktop' });

events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.id < b.id ? -1 : 1));
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
console.log(`Wrote ${events.length} events to ${path.relative(process.cwd(), OUT)}.`);
