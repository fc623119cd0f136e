import type { Activity, ActivityEvent, ActivityParameter } from '../../../connectors/google-workspace/activity.js';
import type { GmailSettings } from '../../../connectors/google-workspace/gmail-settings-objects.js';
import type { CenterAlert } from '../../../connectors/google-workspace/normalize-alert.js';

/**
 * A small party on Google Workspace: a week of ordinary logins, then a takeover of the campaign
 * director's account. Seeded and deterministic, shared by tests, the demo and benchmarks.
 */
export const STORY = {
  domain: 'party.example',
  customerId: 'C03pty0ex',
  admin: 'it-admin@party.example',
  target: 'chloe@party.example',
  weekStart: Date.parse('2026-03-02T00:00:00Z'),
  attackDay: Date.parse('2026-03-10T00:00:00Z'),
  end: Date.parse('2026-03-11T00:00:00Z'),
  attackerIp: '203.0.113.66',
  blockedIp: '203.0.113.67',
  attackerCountry: 'RU',
  rogueClientId: '4815162342-mailbackup.apps.googleusercontent.com',
  rogueApp: 'Mail Backup Pro',
  exfilAddress: 'chloe.backup@mail.example.net',
  /** When the attacker's Gmail changes (forwarding, filter) exist. */
  settingsChangedAt: Date.parse('2026-03-10T08:14:00Z'),
} as const;

export interface FakeUser {
  id: string;
  primaryEmail: string;
  name: { givenName: string; familyName: string; fullName: string };
  isAdmin: boolean;
  suspended: boolean;
  archived: boolean;
  orgUnitPath: string;
  creationTime: string;
}

/** An activity and the fake time from which the Reports API shows it (Google delivers late). */
export interface FakeActivity {
  activity: Activity;
  visibleAt: number;
}

export interface FakeAlert {
  alert: CenterAlert;
  visibleAt: number;
}

/** A mailbox's Gmail settings from a given time on. */
export interface GmailVersion {
  from: number;
  settings: Omit<GmailSettings, 'account'>;
}

export interface Dataset {
  users: FakeUser[];
  activities: Map<string, FakeActivity[]>;
  alerts: FakeAlert[];
  gmail: Map<string, GmailVersion[]>;
}

/** mulberry32: small, seeded, the same on every machine. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const PEOPLE: Array<{ user: string; given: string; family: string; country: string; asn: number; admin?: boolean }> = [
  { user: 'it-admin', given: 'Ida', family: 'Admin', country: 'FR', asn: 64500, admin: true },
  { user: 'alice', given: 'Alice', family: 'Martin', country: 'FR', asn: 64500 },
  { user: 'bruno', given: 'Bruno', family: 'Peeters', country: 'BE', asn: 64501 },
  { user: 'chloe', given: 'Chloé', family: 'Durand', country: 'FR', asn: 64500 },
  { user: 'david', given: 'David', family: 'Leroy', country: 'FR', asn: 64500 },
  { user: 'emma', given: 'Emma', family: 'Moreau', country: 'FR', asn: 64502 },
  { user: 'farid', given: 'Farid', family: 'Benali', country: 'FR', asn: 64500 },
  { user: 'gaelle', given: 'Gaëlle', family: 'Roux', country: 'FR', asn: 64502 },
  { user: 'hugo', given: 'Hugo', family: 'Fournier', country: 'FR', asn: 64500 },
  { user: 'ines', given: 'Inès', family: 'Garcia', country: 'FR', asn: 64500 },
];

type Param = [string, string | boolean | string[]];

function param([name, v]: Param): ActivityParameter {
  if (typeof v === 'boolean') return { name, boolValue: v };
  if (Array.isArray(v)) return { name, multiValue: v };
  return { name, value: v };
}

export function buildDataset(seed = 20260302): Dataset {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const qualifier = () => {
    const hi = BigInt(Math.floor(rnd() * 2 ** 31)) * (rnd() < 0.5 ? -1n : 1n);
    return (hi * 4294967296n + BigInt(Math.floor(rnd() * 2 ** 32))).toString();
  };
  const activities = new Map<string, FakeActivity[]>();
  const add = (
    app: string,
    time: number,
    actor: string,
    ev: { type: string; name: string; params?: Param[] }[],
    where: { ip?: string; country?: string; asn?: number } = {},
    lagMs = 0,
  ) => {
    const events: ActivityEvent[] = ev.map((e) => ({ type: e.type, name: e.name, parameters: (e.params ?? []).map(param) }));
    const activity: Activity = {
      kind: 'admin#reports#activity',
      id: { time: new Date(time).toISOString(), uniqueQualifier: qualifier(), applicationName: app, customerId: STORY.customerId },
      actor: { callerType: 'USER', email: actor, profileId: String(100000000000000 + actor.length * 7919) },
      ...(where.ip && { ipAddress: where.ip }),
      ...(where.country && { networkInfo: { ipAsn: [where.asn ?? 64500], regionCode: where.country } }),
      events,
    };
    const list = activities.get(app) ?? [];
    list.push({ activity, visibleAt: time + lagMs });
    activities.set(app, list);
  };

  const users: FakeUser[] = PEOPLE.map((p, i) => ({
    id: `1100000000000000${String(i).padStart(5, '0')}`,
    primaryEmail: `${p.user}@${STORY.domain}`,
    name: { givenName: p.given, familyName: p.family, fullName: `${p.given} ${p.family}` },
    isAdmin: !!p.admin,
    suspended: false,
    archived: false,
    orgUnitPath: p.admin ? '/IT' : '/Campaign',
    creationTime: '2024-01-15T09:00:00.000Z',
  }));
  users.push({
    id: '110000000000000000099',
    primaryEmail: `old-intern@${STORY.domain}`,
    name: { givenName: 'Old', familyName: 'Intern', fullName: 'Old Intern' },
    isAdmin: false,
    suspended: true,
    archived: false,
    orgUnitPath: '/Campaign',
    creationTime: '2023-06-01T09:00:00.000Z',
  });

  // The ordinary week: each person signs in a few times a day from home or the office.
  const success = (methods: string[]) => [{ type: 'login', name: 'login_success', params: [['login_type', 'google_password'], ['login_challenge_method', methods], ['is_suspicious', false]] as Param[] }];
  for (let day = 0; day < 8; day++) {
    const weekend = day === 5 || day === 6;
    PEOPLE.forEach((p, i) => {
      const email = `${p.user}@${STORY.domain}`;
      const n = weekend ? int(0, 1) : int(1, 3);
      for (let k = 0; k < n; k++) {
        const t = STORY.weekStart + day * DAY + int(7, 19) * HOUR + int(0, 59) * MIN + int(0, 59) * 1000;
        const ip = rnd() < 0.5 ? `198.51.100.${10 + i}` : p.country === 'BE' ? '192.0.2.20' : '192.0.2.10';
        if (rnd() < 0.08) {
          add('login', t - 2 * MIN, email, [{ type: 'login', name: 'login_failure', params: [['login_type', 'google_password'], ['login_challenge_method', ['password']], ['login_failure_type', 'login_failure_invalid_password']] }], { ip, country: p.country, asn: p.asn }, int(1, 30) * MIN);
        }
        add('login', t, email, success(['password', 'google_prompt']), { ip, country: p.country, asn: p.asn }, int(1, 30) * MIN);
      }
    });
  }
  const w = STORY.weekStart;
  add('token', w + DAY + 10 * HOUR, `alice@${STORY.domain}`, [{ type: 'auth', name: 'authorize', params: [['client_id', '1357913579-zoom.apps.googleusercontent.com'], ['app_name', 'Zoom'], ['scope', ['https://www.googleapis.com/auth/calendar.readonly', 'openid']]] }], { ip: '198.51.100.11' }, 2 * HOUR);
  add('token', w + 3 * DAY + 15 * HOUR, `emma@${STORY.domain}`, [{ type: 'auth', name: 'authorize', params: [['client_id', '2468024680-canva.apps.googleusercontent.com'], ['app_name', 'Canva'], ['scope', ['https://www.googleapis.com/auth/drive.file', 'email']]] }], { ip: '198.51.100.15' }, 90 * MIN);
  add('admin', w + 2 * DAY + 9 * HOUR, STORY.admin, [{ type: 'USER_SETTINGS', name: 'CREATE_USER', params: [['USER_EMAIL', `ines@${STORY.domain}`]] }], { ip: '192.0.2.10' }, 3 * MIN);
  add('user_accounts', w + 4 * DAY + 11 * HOUR, `david@${STORY.domain}`, [{ type: 'password_change', name: 'password_edit' }], { ip: '198.51.100.14', country: 'FR' }, 10 * MIN);

  // The takeover of the campaign director's account.
  const a = STORY.attackDay;
  const target = STORY.target;
  const attacker = { ip: STORY.attackerIp, country: STORY.attackerCountry, asn: 64666 };
  add('login', a + 6 * HOUR + 12 * MIN, target, [{ type: 'attack_warning', name: 'gov_attack_warning' }], {}, 10 * MIN);
  add('login', a + 7 * HOUR + 55 * MIN, target, [{ type: 'account_warning', name: 'suspicious_login', params: [['affected_email_address', target], ['login_timestamp', String((a + 7 * HOUR + 55 * MIN) * 1000)]] }], { ip: STORY.blockedIp, country: STORY.attackerCountry, asn: 64666 }, 15 * MIN);
  add('login', a + 8 * HOUR + 2 * MIN, target, [{ type: 'login', name: 'login_success', params: [['login_type', 'google_password'], ['login_challenge_method', ['password', 'google_prompt']], ['is_suspicious', true]] }], attacker, 20 * MIN);
  // Token events are the laggiest: this one shows up two and a half hours late.
  add('token', a + 8 * HOUR + 10 * MIN, target, [{ type: 'auth', name: 'authorize', params: [['client_id', STORY.rogueClientId], ['app_name', STORY.rogueApp], ['scope', ['https://mail.google.com/', 'openid', 'https://www.googleapis.com/auth/userinfo.email']], ['client_type', 'WEB']] }], attacker, 150 * MIN);
  add('user_accounts', a + 8 * HOUR + 15 * MIN, target, [{ type: 'email_forwarding_change', name: 'email_forwarding_out_of_domain', params: [['email_forwarding_destination_address', STORY.exfilAddress]] }], attacker, 15 * MIN);
  add('user_accounts', a + 8 * HOUR + 16 * MIN, target, [{ type: 'recovery_info_change', name: 'recovery_phone_edit' }], attacker, 15 * MIN);
  const takeoutParams = (extra: Param[]): Param[] => [['USER_EMAIL', target], ['TAKEOUT_ID', 'tk-7f3a'], ['INITIATED_BY', 'USER'], ['PRODUCTS_REQUESTED', ['Mail', 'Drive', 'Contacts']], ['TAKEOUT_DESTINATION', 'EMAIL'], ...extra];
  add('takeout', a + 8 * HOUR + 20 * MIN, target, [{ type: 'USER_TAKEOUT', name: 'STARTED_USER_TAKEOUT', params: takeoutParams([]) }], attacker, 5 * MIN);
  add('takeout', a + 9 * HOUR + 40 * MIN, target, [{ type: 'USER_TAKEOUT', name: 'COMPLETED_USER_TAKEOUT', params: takeoutParams([['TAKEOUT_STATUS', 'COMPLETED']]) }], attacker, 2 * HOUR);
  add('takeout', a + 10 * HOUR + 5 * MIN, target, [{ type: 'USER_TAKEOUT', name: 'DOWNLOADED_USER_TAKEOUT', params: takeoutParams([]) }], attacker, 10 * MIN);

  const alerts: FakeAlert[] = [];
  const alert = (id: string, type: string, source: string, start: number, created: number, data: Record<string, unknown>, severity: string) =>
    alerts.push({
      visibleAt: created,
      alert: {
        customerId: STORY.customerId.replace(/^C/, ''),
        alertId: id,
        createTime: new Date(created).toISOString(),
        startTime: new Date(start).toISOString(),
        type,
        source,
        data,
        metadata: { status: 'NOT_STARTED', severity },
      },
    });
  alert('0c1d2e3f-0001-4a5b-8c9d-aa0000000001', 'User reported phishing', 'Gmail phishing', w + 3 * DAY + 14 * HOUR, w + 3 * DAY + 14 * HOUR + 20 * MIN, { '@type': 'type.googleapis.com/google.apps.alertcenter.type.MailPhishing', messages: [{ recipient: `emma@${STORY.domain}` }] }, 'MEDIUM');
  alert('0c1d2e3f-0002-4a5b-8c9d-aa0000000002', 'Government attack warning', 'Google identity', a + 6 * HOUR + 12 * MIN, a + 6 * HOUR + 30 * MIN, { '@type': 'type.googleapis.com/google.apps.alertcenter.type.StateSponsoredAttack', email: target }, 'HIGH');
  alert('0c1d2e3f-0003-4a5b-8c9d-aa0000000003', 'Suspicious login', 'Google identity', a + 7 * HOUR + 55 * MIN, a + 8 * HOUR + 30 * MIN, { '@type': 'type.googleapis.com/google.apps.alertcenter.type.AccountWarning', email: target, loginDetails: { loginTime: new Date(a + 7 * HOUR + 55 * MIN).toISOString(), ipAddress: STORY.blockedIp } }, 'HIGH');

  const plain: GmailVersion['settings'] = {
    autoForwarding: { enabled: false },
    forwardingAddresses: [],
    filters: [],
    delegates: [],
    imap: { enabled: true, autoExpunge: true, expungeBehavior: 'archive' },
    pop: { accessWindow: 'disabled', disposition: 'leaveInInbox' },
  };
  const gmail = new Map<string, GmailVersion[]>();
  for (const u of users) gmail.set(u.primaryEmail, [{ from: 0, settings: plain }]);
  gmail.set(`alice@${STORY.domain}`, [{ from: 0, settings: { ...plain, delegates: [{ delegateEmail: `bruno@${STORY.domain}`, verificationStatus: 'accepted' }] } }]);
  gmail.set(`emma@${STORY.domain}`, [
    {
      from: 0,
      settings: {
        ...plain,
        filters: [
          { id: 'ANe1Bnews01', criteria: { from: 'newsletter@news.example.org' }, action: { addLabelIds: ['Label_12'], removeLabelIds: ['INBOX'] } },
          { id: 'ANe1Blabel2', criteria: { from: 'press@party.example' }, action: { addLabelIds: ['Label_13'] } },
        ],
      },
    },
  ]);
  gmail.set(target, [
    { from: 0, settings: plain },
    {
      from: STORY.settingsChangedAt,
      settings: {
        ...plain,
        autoForwarding: { enabled: true, emailAddress: STORY.exfilAddress, disposition: 'archive' },
        forwardingAddresses: [{ forwardingEmail: STORY.exfilAddress, verificationStatus: 'accepted' }],
        filters: [
          {
            id: 'ANe1BmhQ5xYz',
            criteria: { query: 'security OR password OR "sign-in" OR google', from: '' },
            action: { addLabelIds: ['TRASH'], removeLabelIds: ['INBOX', 'UNREAD'], forward: STORY.exfilAddress },
          },
        ],
      },
    },
  ]);
  return { users, activities, alerts, gmail };
}

/** The mailbox's settings as they are at fake time `now`. */
export function gmailAt(dataset: Dataset, email: string, now: number): GmailVersion['settings'] | undefined {
  const versions = dataset.gmail.get(email);
  if (!versions) return undefined;
  return [...versions].reverse().find((v) => v.from <= now)?.settings;
}

/** Every raw record of the story (activities, then alerts), what an export for `vigie replay` would hold. */
export function storyRecords(dataset: Dataset): Array<Activity | CenterAlert> {
  const acts = [...dataset.activities.values()].flat().map((a) => a.activity);
  acts.sort((x, y) => Date.parse(x.id!.time!) - Date.parse(y.id!.time!));
  return [...acts, ...dataset.alerts.map((a) => a.alert)];
}
