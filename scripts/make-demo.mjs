#!/usr/bin/env node
// Writes the story `vigie demo` replays, as the providers themselves write it:
//   config/demo/microsoft-365-audit.jsonl  Office 365 Management Activity API records (UserLoggedIn,
//                                          UserLoginFailed, New-InboxRule, MailItemsAccessed)
//   config/demo/google-reports.jsonl       Admin SDK Reports API activities of the `login` application
//   config/demo/dovecot.log                a Dovecot 2.3 log as rsyslog writes it (ISO timestamps)
// Deterministic (seeded PRNG, fixed dates): running it again yields the same files byte for byte.
//
// The story: a small party, twelve people on three providers. The headquarters are on Microsoft 365
// (party.example), the youth wing on Google Workspace (youth.party.example), the Nord federation on
// its own Dovecot server (nord.party.example). Alice Martin, the party secretary, also has a youth
// wing account (a.martin@youth.party.example): config/demo/vigie.yml says both are hers. One
// ordinary week, Monday 3 to Sunday 9 March 2025: sign-ins from home, the office and phones, a few
// typos, a commute by train, harmless inbox rules, Léa setting up a new laptop that downloads her
// whole mailbox. Then on Monday 10 March someone goes after Alice: a password spray against the
// headquarters' addresses overnight, a guess at Karim's IMAP password, a burst of guesses at
// Alice's Microsoft 365 password from St Petersburg twenty minutes after she signed in to Google
// from Paris, a success, an inbox rule that forwards her mail outside and deletes it, the same
// password tried on her Google account (Google lets it in but flags it), Gmail forwarding set to the
// same outside address, her mailbox synchronised to the intruder, and Google's warning that
// government-backed attackers are after her.
//
// Times are UTC (Paris is UTC+1 in March). Addresses are real public addresses of the networks
// named, the ones the quality datasets use (test/fixtures/quality/make-quality.mjs): the
// documentation ranges have no GeoIP, and the story needs the bundled DB-IP database to place
// them. Each one is checked here against the database, so this script needs the build:
//
//   npx tsc -p tsconfig.json && node scripts/make-demo.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(root, 'config', 'demo');
const { createGeoIp, bundledGeoIpPaths, createAsnTable, defaultAsnDir } = await import(path.join(root, 'dist/src/enrich/index.js'));
const { lookupIp } = await import(path.join(root, 'dist/src/enrich/ip.js'));

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
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
const guid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const dovecotSession = () => Array.from({ length: 16 }, () => B64[Math.floor(rand() * 64)]).join('');

// ---- Addresses, each checked against the bundled GeoIP and ASN databases ----------------------
const geoip = createGeoIp(bundledGeoIpPaths());
const asnTable = createAsnTable(defaultAsnDir());
/** An address DB-IP places in `country` (and `city`, when given) with coordinates, on network `asn`. */
function addr(ip, country, city, asn) {
  const l = lookupIp(ip);
  const g = l && geoip.lookup(l);
  const a = l && asnTable.lookup(l);
  if (g?.country !== country || (city && g.city !== city) || g.lat === undefined || a?.asn !== asn) {
    throw new Error(`${ip}: expected ${city ?? '?'}, ${country} on AS${asn}; the databases say ${g?.city}, ${g?.country} on AS${a?.asn}`);
  }
  return ip;
}
const NET = {
  office: addr('80.10.202.120', 'FR', 'Paris', 3215), // the headquarters' line (Orange)
  alice: addr('176.135.173.88', 'FR', 'Paris', 5410), // Bouygues Telecom
  bob: addr('212.27.59.83', 'FR', 'Paris', 12322), // Free
  farid: addr('62.106.207.26', 'FR', 'Paris', 15557), // SFR
  chloe: addr('90.66.60.110', 'FR', 'Lyon', 3215),
  david: addr('90.73.158.54', 'FR', 'Marseille', 3215),
  helene: addr('87.91.160.72', 'FR', 'Montpellier', 5410),
  ibrahim: addr('80.12.204.240', 'FR', 'Strasbourg', 3215),
  julie: addr('213.44.60.111', 'FR', 'Nantes', 5410),
  emma: addr('81.53.158.54', 'FR', 'Rennes', 3215),
  gabriel: addr('46.35.19.198', 'FR', 'Paris', 15557),
  karim: addr('2.11.8.208', 'FR', 'Lille', 3215),
  lea: addr('81.80.249.31', 'FR', 'Lille', 3215),
  // Phones on Free Mobile, in Paris.
  phones: [addr('37.1.232.185', 'FR', 'Paris', 51207), addr('37.1.232.71', 'FR', 'Paris', 51207), addr('37.1.233.113', 'FR', 'Paris', 51207)],
  spray: addr('24.144.69.143', 'US', undefined, 14061), // a rented server (DigitalOcean)
  intruder: addr('2.16.21.59', 'RU', 'St Petersburg', 12389), // Rostelecom
};

// ---- Calendar --------------------------------------------------------------------------------
const at = (day, hh, mm, ss = 0) => Date.parse(`2025-03-${String(day).padStart(2, '0')}T00:00:00Z`) + ((hh * 60 + mm) * 60 + ss) * 1000;
const iso = (ms) => new Date(ms).toISOString();
const TAKEOVER = 10;

// ---- Microsoft 365: Management Activity API records ------------------------------------------
const TENANT = '5b1f0c2e-6a4d-4f7e-9c3b-2d8e1a7f6c40';
const OFFICE_APP = '4765445b-32c6-49b0-83e6-1d93765276ca'; // OfficeHome
const EXCHANGE_APP = '00000002-0000-0ff1-ce00-000000000000';
const UA = {
  browser: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0',
  desktop: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18324; Pro)',
  mobile: 'Outlook-iOS/2.0',
  ropc: 'BAV2ROPC',
};
const userKeys = new Map();
const userKey = (upn) => (userKeys.has(upn) ? userKeys.get(upn) : (userKeys.set(upn, guid()), userKeys.get(upn)));
const audit = [];
const auditTime = (ms) => iso(ms).replace(/\.\d+Z$/, '');

/** A UserLoggedIn / UserLoginFailed record (Audit.AzureActiveDirectory). */
function m365Signin(upn, ms, ip, { ok = true, client = 'browser', error } = {}) {
  const id = guid();
  const [errorNumber, logonError] = ok ? ['0'] : error === 'no-such-user' ? ['50034', 'UserAccountNotFound'] : ['50126', 'InvalidUserNameOrPassword'];
  audit.push({
    CreationTime: auditTime(ms),
    Id: id,
    Operation: ok ? 'UserLoggedIn' : 'UserLoginFailed',
    OrganizationId: TENANT,
    RecordType: 15,
    ResultStatus: ok ? 'Success' : 'Failed',
    UserKey: userKey(upn),
    UserType: 0,
    Version: 1,
    Workload: 'AzureActiveDirectory',
    ClientIP: ip,
    ObjectId: EXCHANGE_APP,
    UserId: upn,
    AzureActiveDirectoryEventType: 1,
    ExtendedProperties: [
      { Name: 'ResultStatusDetail', Value: ok ? 'Redirect' : 'UserError' },
      { Name: 'UserAgent', Value: UA[client] },
      { Name: 'RequestType', Value: client === 'ropc' ? 'OAuth2:Token' : 'Login:login' },
    ],
    ModifiedProperties: [],
    Actor: [
      { ID: userKey(upn), Type: 0 },
      { ID: upn, Type: 5 },
    ],
    ActorContextId: TENANT,
    ActorIpAddress: ip,
    InterSystemsId: guid(),
    IntraSystemId: guid(),
    SupportTicketId: '',
    Target: [{ ID: EXCHANGE_APP, Type: 0 }],
    TargetContextId: TENANT,
    ApplicationId: client === 'browser' ? OFFICE_APP : EXCHANGE_APP,
    ErrorNumber: errorNumber,
    ...(logonError ? { LogonError: logonError } : {}),
  });
}

/** An Exchange cmdlet record (Audit.Exchange, RecordType 1). */
function m365Cmdlet(upn, ms, ip, operation, params) {
  audit.push({
    CreationTime: auditTime(ms),
    Id: guid(),
    Operation: operation,
    OrganizationId: TENANT,
    RecordType: 1,
    ResultStatus: 'True',
    UserKey: userKey(upn),
    UserType: 0,
    Version: 1,
    Workload: 'Exchange',
    ClientIP: ip,
    ObjectId: `${upn.split('@')[0]}\\${params.find(([k]) => k === 'Name')?.[1] ?? ''}`,
    UserId: upn,
    AppId: '',
    ClientAppId: '',
    ExternalAccess: false,
    OrganizationName: 'partyexample.onmicrosoft.com',
    OriginatingServer: 'PR3P192MB0714 (15.20.8466.020)',
    Parameters: params.map(([Name, Value]) => ({ Name, Value })),
    SessionId: guid(),
  });
}

/** A MailItemsAccessed record (Audit.Exchange, RecordType 50): `Sync` downloads a whole folder. */
function m365MailItemsAccessed(upn, ms, ip, count, folder, client) {
  audit.push({
    CreationTime: auditTime(ms),
    Id: guid(),
    Operation: 'MailItemsAccessed',
    OrganizationId: TENANT,
    RecordType: 50,
    ResultStatus: 'Succeeded',
    UserKey: userKey(upn),
    UserType: 0,
    Version: 1,
    Workload: 'Exchange',
    UserId: upn,
    AppId: EXCHANGE_APP,
    ClientAppId: '',
    ClientIPAddress: ip,
    ClientInfoString: client,
    ExternalAccess: false,
    InternalLogonType: 0,
    LogonType: 0,
    LogonUserSid: `S-1-5-21-${between(1000000000, 1999999999)}-${between(1000000000, 1999999999)}-${between(1000, 9999)}`,
    MailboxGuid: guid(),
    MailboxOwnerSid: `S-1-5-21-${between(1000000000, 1999999999)}`,
    MailboxOwnerUPN: upn,
    OperationCount: count,
    OperationProperties: [
      { Name: 'MailAccessType', Value: 'Sync' },
      { Name: 'IsThrottled', Value: 'False' },
    ],
    Folders: [{ Id: `LgAAAAD${hex(24)}`, Path: folder }],
    SessionId: guid(),
  });
}

// ---- Google Workspace: Reports API activities of the `login` application -----------------------
const CUSTOMER = 'C03ap7x2k';
const reports = [];
const profileIds = new Map();
const profileId = (email) => (profileIds.has(email) ? profileIds.get(email) : (profileIds.set(email, `1${String(between(1e9, 9e9))}${between(10000000, 99999999)}`), profileIds.get(email)));
const GOOGLE_ASN = { [NET.alice]: 5410, [NET.office]: 3215, [NET.emma]: 3215, [NET.gabriel]: 15557, [NET.intruder]: 12389, ...Object.fromEntries(NET.phones.map((ip) => [ip, 51207])) };
const GOOGLE_REGION = { [NET.intruder]: 'RU' };

/** One Reports activity with one event; `ip` undefined for Google's own warnings. */
function googleActivity(email, ms, ip, type, name, parameters) {
  reports.push({
    kind: 'admin#reports#activity',
    id: { time: iso(ms), uniqueQualifier: `-${between(1e8, 9e8)}${between(1e9, 9e9)}`, applicationName: 'login', customerId: CUSTOMER },
    etag: `"${hex(27)}/${hex(27)}"`,
    actor: { callerType: 'USER', email, profileId: profileId(email) },
    ...(ip ? { ipAddress: ip, networkInfo: { ipAsn: [GOOGLE_ASN[ip]], regionCode: GOOGLE_REGION[ip] ?? 'FR' } } : {}),
    events: [{ type, name, parameters }],
  });
}
function googleLogin(email, ms, ip, { ok = true, suspicious = false } = {}) {
  const params = [
    { name: 'login_type', value: 'google_password' },
    { name: 'login_challenge_method', multiValue: ['password'] },
    { name: 'is_suspicious', boolValue: suspicious },
  ];
  if (!ok) params.push({ name: 'login_failure_type', value: 'login_failure_invalid_password' });
  googleActivity(email, ms, ip, 'login', ok ? 'login_success' : 'login_failure', params);
}

// ---- IMAP: the Dovecot log of the Nord federation ----------------------------------------------
const dovecot = [];
const LIP = '10.20.0.5'; // the server's own address, behind the federation's router
let mpid = 3100;
const stamp = (ms) => `${iso(ms).replace('Z', '000+00:00')} mx1 dovecot[811]:`;
/** A login, and the logout that ends the session `minutes` later with its counters. */
function imapSession(user, ms, ip, minutes, bodyCount) {
  const session = dovecotSession();
  const pid = ++mpid;
  dovecot.push([ms, `${stamp(ms)} imap-login: Login: user=<${user}>, method=PLAIN, rip=${ip}, lip=${LIP}, mpid=${pid}, TLS, session=<${session}>`]);
  const end = ms + minutes * 60_000 + between(0, 59) * 1000;
  const bodyBytes = bodyCount * between(18_000, 42_000);
  const hdr = bodyCount + between(5, 60);
  dovecot.push([
    end,
    `${stamp(end)} imap(${user})<${pid}><${session}>: Logged out in=${between(400, 9000)} out=${bodyBytes + hdr * 900 + between(1000, 90000)} deleted=0 expunged=0 trashed=0 hdr_count=${hdr} hdr_bytes=${hdr * 900} body_count=${bodyCount} body_bytes=${bodyBytes}`,
  ]);
}
function imapFailure(user, ms, ip) {
  const session = dovecotSession();
  dovecot.push([ms, `${stamp(ms)} auth: passwd-file(${user},${ip},<${session}>): Password mismatch`]);
  dovecot.push([ms + 1000, `${stamp(ms + 1000)} imap-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in 2 secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=${LIP}, TLS, session=<${session}>`]);
}

// ---- The people ----------------------------------------------------------------------------------
// `home`: where they sign in mornings and evenings; `commute`: Tuesdays and Thursdays at the Paris
// headquarters (a train of two to four hours); `phone`: a Free Mobile phone at lunchtime.
const PEOPLE = [
  { name: 'alice', accounts: { m365: 'alice@party.example', google: 'a.martin@youth.party.example' }, home: NET.alice, office: NET.office, phone: NET.phones[0] },
  { name: 'bob', accounts: { m365: 'bob@party.example' }, home: NET.bob, office: NET.office, phone: NET.phones[1] },
  { name: 'chloe', accounts: { m365: 'chloe@party.example' }, home: NET.chloe, office: NET.chloe, commute: true },
  { name: 'david', accounts: { m365: 'david@party.example' }, home: NET.david, office: NET.david, commute: true },
  { name: 'farid', accounts: { m365: 'farid@party.example' }, home: NET.farid, office: NET.office, phone: NET.phones[2] },
  { name: 'helene', accounts: { m365: 'helene@party.example' }, home: NET.helene, office: NET.helene },
  { name: 'ibrahim', accounts: { m365: 'ibrahim@party.example' }, home: NET.ibrahim, office: NET.ibrahim },
  { name: 'julie', accounts: { m365: 'julie@party.example' }, home: NET.julie, office: NET.julie },
  { name: 'emma', accounts: { google: 'emma@youth.party.example' }, home: NET.emma, office: NET.emma },
  { name: 'gabriel', accounts: { google: 'gabriel@youth.party.example' }, home: NET.gabriel, office: NET.gabriel },
  { name: 'karim', accounts: { imap: 'karim@nord.party.example' }, home: NET.karim, office: NET.karim },
  { name: 'lea', accounts: { imap: 'lea@nord.party.example' }, home: NET.lea, office: NET.lea },
];
const person = Object.fromEntries(PEOPLE.map((p) => [p.name, p]));

/** One sign-in of a person on each of their accounts, sometimes after a typo or two. */
function signInEverywhere(p, ms, ip, client) {
  for (const [provider, account] of Object.entries(p.accounts)) {
    const t = ms + (provider === 'google' ? between(60, 600) * 1000 : 0);
    const typos = rand() < 0.07 ? between(1, 2) : 0;
    for (let k = typos; k > 0; k--) {
      if (provider === 'm365') m365Signin(account, t - k * 25_000, ip, { ok: false, client });
      else if (provider === 'google') googleLogin(account, t - k * 25_000, ip, { ok: false });
      else imapFailure(account, t - k * 25_000, ip);
    }
    if (provider === 'm365') m365Signin(account, t, ip, { client });
    else if (provider === 'google') googleLogin(account, t, ip);
    else imapSession(account, t, ip, between(3, 40), between(0, 25));
  }
}

// ---- The ordinary week: Monday 3 to Sunday 9 March, and Monday 10 for everyone but Alice ---------
function ordinaryDay(p, day) {
  const weekday = new Date(at(day, 12, 0)).getUTCDay();
  if (weekday === 0 || weekday === 6) {
    if (rand() < 0.6) signInEverywhere(p, at(day, between(8, 19), between(0, 59), between(0, 59)), p.home, 'browser');
    return;
  }
  const commuting = p.commute && (weekday === 2 || weekday === 4);
  // Early every weekday morning from home, so that every baseline starts on Monday 3.
  signInEverywhere(p, at(day, 6, between(0, 55), between(0, 59)), p.home, 'browser');
  const work = commuting ? NET.office : p.office;
  signInEverywhere(p, at(day, commuting ? 10 : 8, between(0, 59), between(0, 59)), work, 'desktop');
  if (p.phone) signInEverywhere(p, at(day, 11, between(0, 59), between(0, 59)), p.phone, 'mobile');
  if (rand() < 0.7) signInEverywhere(p, at(day, 13, between(0, 59), between(0, 59)), work, 'desktop');
  // Commuters spend the night in Paris and take the first train home.
  signInEverywhere(p, at(day, commuting ? 20 : 18, between(0, 59), between(0, 59)), commuting ? NET.office : p.home, 'browser');
}
for (let day = 3; day <= TAKEOVER; day++) for (const p of PEOPLE) if (!(day === TAKEOVER && p === person.alice)) ordinaryDay(p, day);

// Ordinary mailbox changes: Bob files newsletters; Hélène forwards to Julie while Julie covers for
// her; Julie's new Outlook synchronises her mailbox at home; Léa's new laptop downloads her whole
// mailbox over IMAP at home.
m365Cmdlet('bob@party.example', at(4, 9, 12, 40), `${NET.office}:52114`, 'New-InboxRule', [
  ['Name', 'Newsletters'],
  ['From', 'newsletter@lists.party.example'],
  ['MoveToFolder', 'Newsletters'],
  ['StopProcessingRules', 'True'],
]);
m365Cmdlet('helene@party.example', at(5, 15, 40, 2), `${NET.helene}:61022`, 'New-InboxRule', [
  ['Name', 'Holiday cover'],
  ['ForwardTo', 'julie@party.example'],
]);
m365MailItemsAccessed('julie@party.example', at(6, 18, 44, 10), NET.julie, 3120, '\\Inbox', 'Client=MSExchangeRPC');
imapSession('lea@nord.party.example', at(5, 19, 2, 31), NET.lea, 47, 4830);

// ---- Monday 10 March: the takeover ---------------------------------------------------------------
const alice = person.alice;
// 02:11–02:33: a password spray from a rented server against the headquarters' addresses found on
// the party website, a minute or two apart, with a password-only client.
const sprayTargets = [...PEOPLE.filter((p) => p.accounts.m365).map((p) => p.accounts.m365), 'contact@party.example', 'presse@party.example', 'tresorerie@party.example', 'secretariat@party.example'];
sprayTargets.forEach((upn, i) => {
  const known = PEOPLE.some((p) => p.accounts.m365 === upn);
  m365Signin(upn, at(TAKEOVER, 2, 11 + 2 * i, between(0, 59)), NET.spray, { ok: false, client: 'ropc', error: known ? 'password' : 'no-such-user' });
});
// 03:05–03:10: fifteen guesses at Karim's IMAP password from St Petersburg; Dovecot holds.
for (let k = 0; k < 15; k++) imapFailure('karim@nord.party.example', at(TAKEOVER, 3, 5, k * 20), NET.intruder);
// 06:52: Alice reads her youth wing mail at home in Paris (Google).
googleLogin(alice.accounts.google, at(TAKEOVER, 6, 52, 40), NET.alice);
// 07:14–07:19: twelve guesses at Alice's Microsoft 365 password from St Petersburg. 07:32: one works.
for (let k = 0; k < 12; k++) m365Signin(alice.accounts.m365, at(TAKEOVER, 7, 14, k * 30), NET.intruder, { ok: false, client: 'browser' });
m365Signin(alice.accounts.m365, at(TAKEOVER, 7, 32, 14), NET.intruder, { client: 'browser' });
// 07:38: the intruder makes sure they keep reading Alice's mail after she changes her password, and
// that she does not see the replies.
m365Cmdlet(alice.accounts.m365, at(TAKEOVER, 7, 38, 2), `${NET.intruder}:51234`, 'New-InboxRule', [
  ['Name', '.'],
  ['ForwardTo', 'alice.martin.archive@mailbox.example'],
  ['DeleteMessage', 'True'],
  ['MarkAsRead', 'True'],
  ['StopProcessingRules', 'True'],
]);
// 07:50: the same password on her youth wing account: Google lets it in but flags it; 07:53 Gmail
// forwards everything to the same outside address.
googleLogin(alice.accounts.google, at(TAKEOVER, 7, 50, 31), NET.intruder, { suspicious: true });
googleActivity(alice.accounts.google, at(TAKEOVER, 7, 53, 6), NET.intruder, 'email_forwarding_change', 'email_forwarding_out_of_domain', [
  { name: 'email_forwarding_destination_address', value: 'alice.martin.archive@mailbox.example' },
]);
// 08:05: Alice, at the office, signs in again: St Petersburg to Paris in a quarter of an hour.
m365Signin(alice.accounts.m365, at(TAKEOVER, 8, 5, 51), NET.office, { client: 'desktop' });
googleLogin(alice.accounts.google, at(TAKEOVER, 8, 7, 12), NET.office);
// 08:10–08:16: the intruder's mail client synchronises her folders.
[
  ['\\Inbox', 2412],
  ['\\Sent Items', 1380],
  ['\\Bureau national', 655],
].forEach(([folder, count], i) => m365MailItemsAccessed(alice.accounts.m365, at(TAKEOVER, 8, 10 + 3 * i, 20), NET.intruder, count, folder, 'Client=REST;Client=RESTSystem;;eM Client'));
// 11:40: Google warns that government-backed attackers may be trying to take over her account.
googleActivity(alice.accounts.google, at(TAKEOVER, 11, 40, 0), undefined, 'account_warning', 'gov_attack_warning', [
  { name: 'affected_email_address', value: alice.accounts.google },
]);
m365Signin(alice.accounts.m365, at(TAKEOVER, 13, 20, 3), NET.office, { client: 'desktop' });

// ---- Write, in time order ------------------------------------------------------------------------
const byTime = (t) => (a, b) => (t(a) < t(b) ? -1 : t(a) > t(b) ? 1 : 0);
audit.sort(byTime((r) => r.CreationTime));
reports.sort(byTime((r) => r.id.time));
dovecot.sort((a, b) => a[0] - b[0]);
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const files = {
  'microsoft-365-audit.jsonl': jsonl(audit),
  'google-reports.jsonl': jsonl(reports),
  'dovecot.log': dovecot.map(([, line]) => line).join('\n') + '\n',
};
fs.mkdirSync(OUT, { recursive: true });
for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(OUT, name), text);
console.log(`Wrote ${audit.length} audit records, ${reports.length} Reports activities and ${dovecot.length} Dovecot log lines to ${path.relative(process.cwd(), OUT)}/.`);
