import { fakeGuid, pick, seededRandom } from './random.js';

/**
 * A small party's Microsoft 365 tenant: ten people at party.example, a week of ordinary sign-ins
 * and audit records, then a takeover (password spray, a legacy-auth success from abroad, a
 * forwarding inbox rule, mailbox forwarding, a mail sync burst, an app consent, an eDiscovery
 * export). Seeded and deterministic. Shapes follow shared/reference/provider-apis.md §A and §B.
 */
export interface FakeTenantOptions {
  seed?: number;
  /** Start of the ordinary week (UTC). */
  start?: string;
  /** When the takeover starts; default start + 8 d + 9 h (a Tuesday morning). */
  attackAt?: string;
  /** Minutes between a sign-in and its appearance in Graph. */
  signInLatencyMin?: number;
  /** Share of audit records that only become available hours late (in later blobs). */
  lateRecordRate?: number;
  lateHours?: number;
}

export interface FakeUser {
  id: string;
  upn: string;
  name: string;
  city: string;
  country: string;
  lat: number;
  lon: number;
  ip: string;
}

export interface Timed<T> {
  /** When it happened. */
  at: number;
  /** When the provider starts serving it. */
  visibleAt: number;
  item: T;
}

export type ContentType = 'Audit.AzureActiveDirectory' | 'Audit.Exchange' | 'Audit.General';

export interface AuditItem extends Timed<Record<string, unknown>> {
  contentType: ContentType;
}

export interface InboxRuleState {
  userId: string;
  upn: string;
  from: number;
  until?: number;
  rule: Record<string, unknown>;
}

export interface FakeTenant {
  tenantId: string;
  domain: string;
  users: FakeUser[];
  signIns: Timed<Record<string, unknown>>[];
  directoryAudits: Timed<Record<string, unknown>>[];
  riskDetections: Timed<Record<string, unknown>>[];
  audit: AuditItem[];
  inboxRules: InboxRuleState[];
  attack: { victim: FakeUser; ip: string; at: number; ruleTarget: string; mailboxTarget: string; appName: string };
}

export const TENANT_ID = '6f1d3b2a-9e40-4c55-8a71-0b2d4e6f8a90';
const EXCHANGE_APP = '00000002-0000-0ff1-ce00-000000000000';
const OFFICE_APP = '4765445b-32c6-49b0-83e6-1d93765276ca';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';
const ATTACKER_IP = '203.0.113.66';
const MOSCOW = { city: 'Moscow', country: 'RU', lat: 55.7558, lon: 37.6173 };

const PEOPLE: Array<[string, string, string, number, number]> = [
  ['alice.martin', 'Alice Martin', 'Paris', 48.8566, 2.3522],
  ['bruno.leroy', 'Bruno Leroy', 'Paris', 48.8566, 2.3522],
  ['claire.dubois', 'Claire Dubois', 'Lyon', 45.764, 4.8357],
  ['david.moreau', 'David Moreau', 'Paris', 48.8566, 2.3522],
  ['emma.petit', 'Emma Petit', 'Marseille', 43.2965, 5.3698],
  ['felix.roux', 'Félix Roux', 'Paris', 48.8566, 2.3522],
  ['gaelle.fournier', 'Gaëlle Fournier', 'Lille', 50.6292, 3.0573],
  ['hugo.girard', 'Hugo Girard', 'Paris', 48.8566, 2.3522],
  ['ines.bonnet', 'Inès Bonnet', 'Lyon', 45.764, 4.8357],
  ['jules.lambert', 'Jules Lambert', 'Paris', 48.8566, 2.3522],
];

/** `CreationTime` of the Management Activity API: UTC without a zone (§0). */
export function ualTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Graph timestamps carry 7 fractional digits. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

export function buildFakeTenant(opts: FakeTenantOptions = {}): FakeTenant {
  const rand = seededRandom(opts.seed ?? 42);
  const start = Date.parse(opts.start ?? '2025-03-03T00:00:00Z');
  const attackAt = opts.attackAt ? Date.parse(opts.attackAt) : start + 8 * 86_400_000 + 9 * 3_600_000;
  const signInLag = (opts.signInLatencyMin ?? 5) * 60_000;
  const lateRate = opts.lateRecordRate ?? 0.1;
  const lateMs = (opts.lateHours ?? 5) * 3_600_000;
  const domain = 'party.example';
  const users: FakeUser[] = PEOPLE.map(([alias, name, city, lat, lon], i) => ({
    id: fakeGuid(rand),
    upn: `${alias}@${domain}`,
    name,
    city,
    country: 'FR',
    lat,
    lon,
    ip: `192.0.2.${10 + i}`,
  }));
  const admin = users[0]!;
  const victim = users[2]!;
  const t: FakeTenant = {
    tenantId: TENANT_ID,
    domain,
    users,
    signIns: [],
    directoryAudits: [],
    riskDetections: [],
    audit: [],
    inboxRules: [],
    attack: { victim, ip: ATTACKER_IP, at: attackAt, ruleTarget: 'claire.archive@mail.example.net', mailboxTarget: 'claire.backup@mail.example.net', appName: 'Inbox Helper Pro' },
  };
  /** Audit records become available 30–90 min after the fact; some are hours late (§B.2). */
  const auditLag = () => (30 + Math.floor(rand() * 60)) * 60_000 + (rand() < lateRate ? lateMs : 0);
  const addAudit = (contentType: ContentType, at: number, record: Record<string, unknown>, lag = auditLag()) =>
    t.audit.push({ contentType, at, visibleAt: at + lag, item: { CreationTime: ualTime(at), Id: fakeGuid(rand), OrganizationId: TENANT_ID, Version: 1, ...record } });

  const signIn = (u: FakeUser, at: number, o: { ok: boolean; ip: string; ua: string; client: string; geo: { city: string; country: string; lat: number; lon: number }; risk?: string[] }) => {
    const id = fakeGuid(rand);
    const correlationId = fakeGuid(rand);
    t.signIns.push({
      at,
      visibleAt: at + signInLag,
      item: {
        id,
        createdDateTime: graphTime(at),
        userDisplayName: u.name,
        userPrincipalName: u.upn,
        userId: u.id,
        appId: o.client === 'Browser' ? OFFICE_APP : EXCHANGE_APP,
        appDisplayName: o.client === 'Browser' ? 'Office 365' : 'Office 365 Exchange Online',
        ipAddress: o.ip,
        clientAppUsed: o.client,
        correlationId,
        conditionalAccessStatus: 'notApplied',
        isInteractive: true,
        riskDetail: 'none',
        riskLevelAggregated: o.risk ? 'medium' : 'none',
        riskLevelDuringSignIn: o.risk ? 'medium' : 'none',
        riskState: o.risk ? 'atRisk' : 'none',
        riskEventTypes_v2: o.risk ?? [],
        resourceDisplayName: 'Office 365 Exchange Online',
        resourceId: EXCHANGE_APP,
        status: o.ok
          ? { errorCode: 0, failureReason: 'Other.', additionalDetails: null }
          : { errorCode: 50126, failureReason: 'Error validating credentials due to invalid username or password.', additionalDetails: null },
        deviceDetail: { deviceId: '', displayName: null, operatingSystem: o.client === 'Browser' ? 'Windows10' : 'Linux', browser: o.client === 'Browser' ? 'Chrome 122.0.0' : '', isCompliant: false, isManaged: false, trustType: null },
        location: { city: o.geo.city, state: null, countryOrRegion: o.geo.country, geoCoordinates: { altitude: null, latitude: o.geo.lat, longitude: o.geo.lon } },
        appliedConditionalAccessPolicies: [],
      },
    });
    // The same sign-in as the unified audit log tells it (§B.6), with Entra's request id.
    addAudit('Audit.AzureActiveDirectory', at, {
      Operation: o.ok ? 'UserLoggedIn' : 'UserLoginFailed',
      RecordType: 15,
      ResultStatus: o.ok ? 'Success' : 'Failed',
      UserKey: u.id,
      UserType: 0,
      Workload: 'AzureActiveDirectory',
      ClientIP: o.ip,
      ObjectId: EXCHANGE_APP,
      UserId: u.upn,
      AzureActiveDirectoryEventType: 1,
      ExtendedProperties: [
        { Name: 'ResultStatusDetail', Value: o.ok ? 'Success' : 'UserError' },
        { Name: 'UserAgent', Value: o.ua },
        { Name: 'RequestType', Value: o.client === 'Browser' ? 'Login:login' : 'OAuth2:Token' },
      ],
      ModifiedProperties: [],
      Actor: [{ ID: u.id, Type: 0 }, { ID: u.upn, Type: 5 }],
      ActorContextId: TENANT_ID,
      ActorIpAddress: o.ip,
      InterSystemsId: correlationId,
      IntraSystemId: id,
      Target: [{ ID: EXCHANGE_APP, Type: 0 }],
      TargetContextId: TENANT_ID,
      ApplicationId: o.client === 'Browser' ? OFFICE_APP : EXCHANGE_APP,
      ErrorNumber: o.ok ? '0' : '50126',
      ...(o.ok ? {} : { LogonError: 'InvalidUserNameOrPassword' }),
    });
  };

  // The ordinary week: office hours, home cities, a browser; a mistyped password now and then.
  for (let day = 0; day < 8; day++) {
    const weekend = day === 5 || day === 6;
    for (const u of users) {
      const n = weekend ? (rand() < 0.3 ? 1 : 0) : 2 + Math.floor(rand() * 2);
      for (let k = 0; k < n; k++) {
        const at = start + day * 86_400_000 + (7 * 60 + Math.floor(rand() * 600)) * 60_000 + Math.floor(rand() * 60) * 1000;
        const geo = { city: u.city, country: u.country, lat: u.lat, lon: u.lon };
        if (rand() < 0.05) signIn(u, at - 40_000, { ok: false, ip: u.ip, ua: CHROME, client: 'Browser', geo });
        signIn(u, at, { ok: true, ip: u.ip, ua: CHROME, client: 'Browser', geo });
        // Ordinary reading: small Bind records that Vigie does not report.
        if (rand() < 0.5) addAudit('Audit.Exchange', at + 120_000, mailItemsAccessed(u, at + 120_000, u.ip, 'Bind', 3 + Math.floor(rand() * 20), '\\Inbox', 'Client=OWA;Action=ViaProxy'));
      }
    }
  }
  const emma = users[4]!;
  const bruno = users[1]!;
  const day = (d: number, h: number) => start + d * 86_400_000 + h * 3_600_000;
  addAudit('Audit.Exchange', day(1, 10), exchangeCmdlet(emma, 'New-InboxRule', emma.ip, [['Name', 'Newsletters'], ['From', 'news@lists.party.example'], ['MoveToFolder', 'Newsletters'], ['StopProcessingRules', 'True']]));
  addAudit('Audit.Exchange', day(2, 11), exchangeCmdlet(admin, 'Add-MailboxPermission', admin.ip, [['Identity', `contact@${domain}`], ['User', bruno.upn], ['AccessRights', 'FullAccess'], ['InheritanceType', 'All']], 2));
  addAudit('Audit.Exchange', day(3, 15), exchangeCmdlet(users[7]!, 'Set-InboxRule', users[7]!.ip, [['Identity', 'Hugo Girard\\Meetings'], ['MoveToFolder', 'Meetings']]));
  t.inboxRules.push({
    userId: emma.id,
    upn: emma.upn,
    from: day(1, 10),
    rule: messageRule('AQAAAEmma01=', 'Newsletters', 1, { fromAddresses: [recipient('news@lists.party.example')] }, { moveToFolder: 'AAMkNewsletters=', stopProcessingRules: true }),
  });
  // A directory change that is ordinary: the admin resets a password after a helpdesk call.
  directoryAudit(t, rand, day(4, 14), 'Reset password', 'UserManagement', admin, { id: users[8]!.id, displayName: users[8]!.name, type: 'User', userPrincipalName: users[8]!.upn, modifiedProperties: [] });

  // The takeover.
  const A = attackAt;
  const moscow = { ...MOSCOW };
  users.forEach((u, i) => signIn(u, A + i * 40_000, { ok: false, ip: ATTACKER_IP, ua: 'BAV2ROPC', client: 'IMAP', geo: moscow }));
  signIn(victim, A + 12 * 60_000, { ok: true, ip: ATTACKER_IP, ua: 'BAV2ROPC', client: 'IMAP', geo: moscow, risk: ['unfamiliarFeatures'] });
  addAudit(
    'Audit.Exchange',
    A + 20 * 60_000,
    exchangeCmdlet(victim, 'New-InboxRule', `${ATTACKER_IP}:51234`, [
      ['Name', '..'],
      ['ForwardTo', t.attack.ruleTarget],
      ['SubjectOrBodyContainsWords', 'facture;virement;mot de passe'],
      ['DeleteMessage', 'True'],
      ['MarkAsRead', 'True'],
      ['StopProcessingRules', 'True'],
    ]),
  );
  t.inboxRules.push({
    userId: victim.id,
    upn: victim.upn,
    from: A + 20 * 60_000,
    rule: messageRule('AQAAAClaire1=', '..', 2, { bodyOrSubjectContains: ['facture', 'virement', 'mot de passe'] }, { forwardTo: [recipient(t.attack.ruleTarget)], delete: true, markAsRead: true, stopProcessingRules: true }),
  });
  addAudit('Audit.Exchange', A + 25 * 60_000, exchangeCmdlet(victim, 'Set-Mailbox', `${ATTACKER_IP}:51240`, [['Identity', victim.upn], ['ForwardingSmtpAddress', `smtp:${t.attack.mailboxTarget}`], ['DeliverToMailboxAndForward', 'False']]));
  ['\\Inbox', '\\Sent Items', '\\Archive', '\\Finances', '\\Bureau national', '\\Drafts'].forEach((folder, i) =>
    addAudit('Audit.Exchange', A + (30 + i) * 60_000, mailItemsAccessed(victim, A + (30 + i) * 60_000, ATTACKER_IP, 'Sync', 200 + Math.floor(rand() * 1800), folder, 'Client=MSExchangeRPC')),
  );
  const consentProps = [
    { Name: 'ConsentContext.IsAdminConsent', NewValue: 'False', OldValue: '' },
    { Name: 'ConsentContext.OnBehalfOfAll', NewValue: 'False', OldValue: '' },
    { Name: 'ConsentAction.Permissions', NewValue: '[] => [[Id: q9Xk, ClientId: f0a6c3d1, PrincipalId: c1, ResourceId: 7d1e, ConsentType: Principal, Scope:  Mail.Read Mail.Send offline_access User.Read, CreatedDateTime: , LastModifiedDateTime ]]; ', OldValue: '' },
    { Name: 'TargetId.ServicePrincipalNames', NewValue: 'a1b2c3d4-0000-4e1f-9a8b-1234567890ab', OldValue: '' },
  ];
  addAudit('Audit.AzureActiveDirectory', A + 35 * 60_000, {
    Operation: 'Consent to application.',
    RecordType: 8,
    ResultStatus: 'Success',
    UserKey: victim.id,
    UserType: 0,
    Workload: 'AzureActiveDirectory',
    ClientIP: ATTACKER_IP,
    ObjectId: 'f0a6c3d1-2e44-4b8b-9e6a-3c1d7b2e9f50',
    UserId: victim.upn,
    AzureActiveDirectoryEventType: 1,
    ModifiedProperties: consentProps,
    Actor: [{ ID: victim.upn, Type: 5 }],
    Target: [{ ID: 'ServicePrincipal_f0a6c3d1-2e44-4b8b-9e6a-3c1d7b2e9f50', Type: 2 }, { ID: t.attack.appName, Type: 1 }],
  });
  directoryAudit(t, rand, A + 35 * 60_000, 'Consent to application', 'ApplicationManagement', victim, {
    id: 'f0a6c3d1-2e44-4b8b-9e6a-3c1d7b2e9f50',
    displayName: t.attack.appName,
    type: 'ServicePrincipal',
    userPrincipalName: null,
    modifiedProperties: consentProps.map((p) => ({ displayName: p.Name, oldValue: null, newValue: JSON.stringify(p.NewValue) })),
  });
  t.riskDetections.push({
    at: A + 12 * 60_000,
    visibleAt: A + 50 * 60_000,
    item: {
      id: '1a7e0c55d2b4f9a3e6c1b7d80f2e4a19',
      requestId: fakeGuid(rand),
      correlationId: fakeGuid(rand),
      riskEventType: 'unfamiliarFeatures',
      riskState: 'atRisk',
      riskLevel: 'medium',
      riskDetail: 'none',
      source: 'IdentityProtection',
      detectionTimingType: 'realtime',
      activity: 'signin',
      tokenIssuerType: 'AzureAD',
      ipAddress: ATTACKER_IP,
      location: { city: MOSCOW.city, state: null, countryOrRegion: MOSCOW.country, geoCoordinates: { latitude: MOSCOW.lat, longitude: MOSCOW.lon } },
      activityDateTime: new Date(A + 12 * 60_000).toISOString(),
      detectedDateTime: new Date(A + 50 * 60_000).toISOString(),
      lastUpdatedDateTime: new Date(A + 50 * 60_000).toISOString(),
      userId: victim.id,
      userDisplayName: victim.name,
      userPrincipalName: victim.upn,
      additionalInfo: '[{"Key":"userAgent","Value":"BAV2ROPC"}]',
    },
  });
  // Last step: a content search of the mailbox exported and downloaded (§B.7, Audit.General). Added
  // after every other record so the seeded values above stay what they were.
  const search = `${victim.name} - all mail`;
  for (const [op, minutes] of [['SearchExported', 40], ['SearchExportDownloaded', 46]] as const) {
    addAudit('Audit.General', A + minutes * 60_000, {
      Operation: op,
      RecordType: 24,
      ResultStatus: 'Success',
      UserKey: victim.id,
      UserType: 0,
      Workload: 'SecurityComplianceCenter',
      ClientIP: ATTACKER_IP,
      UserId: victim.upn,
      ObjectId: search,
      QueryText: `(c:c)(Mailbox:${victim.upn})`,
      ExtendedProperties: [{ Name: 'ExportLocation', Value: 'Exchange' }],
    });
  }
  return t;

  function exchangeCmdlet(u: FakeUser, op: string, ip: string, params: Array<[string, string]>, userType = 0): Record<string, unknown> {
    return {
      Operation: op,
      RecordType: 1,
      ResultStatus: 'True',
      UserKey: u.id,
      UserType: userType,
      Workload: 'Exchange',
      ClientIP: ip,
      ObjectId: u.upn.split('@')[0],
      UserId: u.upn,
      AppId: '',
      ExternalAccess: false,
      OrganizationName: 'party.onmicrosoft.com',
      OriginatingServer: 'AM9PR02MB7777 (15.20.7339.035)',
      Parameters: params.map(([Name, Value]) => ({ Name, Value })),
      SessionId: fakeGuid(rand),
    };
  }

  function mailItemsAccessed(u: FakeUser, at: number, ip: string, kind: 'Bind' | 'Sync', count: number, folder: string, client: string): Record<string, unknown> {
    void at;
    return {
      Operation: 'MailItemsAccessed',
      RecordType: 50,
      ResultStatus: 'Succeeded',
      UserKey: u.id,
      UserType: 0,
      Workload: 'Exchange',
      UserId: u.upn,
      ClientIPAddress: ip,
      ClientInfoString: client,
      ExternalAccess: false,
      InternalLogonType: 0,
      LogonType: 0,
      MailboxGuid: fakeGuid(rand),
      MailboxOwnerUPN: u.upn,
      OperationCount: count,
      OperationProperties: [
        { Name: 'MailAccessType', Value: kind },
        { Name: 'IsThrottled', Value: 'False' },
      ],
      Folders: [{ Id: 'LgAAAAB0b2tlbkluYm94', Path: folder, FolderItems: kind === 'Bind' ? [{ InternetMessageId: `<${fakeGuid(rand)}@party.example>`, SizeInBytes: 4000 + Math.floor(rand() * 50_000) }] : [] }],
      SessionId: fakeGuid(rand),
    };
  }
}

function directoryAudit(t: FakeTenant, rand: () => number, at: number, activity: string, category: string, by: FakeUser, target: Record<string, unknown>): void {
  const correlationId = fakeGuid(rand);
  t.directoryAudits.push({
    at,
    visibleAt: at + 3 * 60_000,
    item: {
      id: `Directory_${correlationId}_${pick(rand, ['ZK91Q', 'AB12C', 'QW7RT'])}_${Math.floor(rand() * 1e8)}`,
      category,
      correlationId,
      result: 'success',
      resultReason: '',
      activityDisplayName: activity,
      activityDateTime: new Date(at).toISOString(),
      loggedByService: 'Core Directory',
      operationType: 'Assign',
      initiatedBy: { app: null, user: { id: by.id, displayName: null, userPrincipalName: by.upn, ipAddress: by === t.attack.victim ? ATTACKER_IP : by.ip, userType: null, homeTenantId: null, homeTenantName: null } },
      targetResources: [{ groupType: null, ...target }],
      additionalDetails: [{ key: 'User-Agent', value: CHROME }],
    },
  });
}

export function recipient(address: string): { emailAddress: { name: string; address: string } } {
  return { emailAddress: { name: address.split('@')[0]!, address } };
}

export function messageRule(id: string, displayName: string, sequence: number, conditions: Record<string, unknown>, actions: Record<string, unknown>): Record<string, unknown> {
  return { id, displayName, sequence, isEnabled: true, hasError: false, isReadOnly: false, conditions, actions };
}
