// Raw provider records for the raw-format replay benchmark: the synthetic sign-ins of
// synthetic-signins.mjs told as Microsoft 365 unified audit log records (Management Activity API
// shape, `microsoft-365.management-activity`) or as Google Reports API activities
// (`google-workspace-reports-activity`), the shapes the fakes build (test/fakes/microsoft-365/tenant.ts,
// test/fakes/google-workspace/dataset.ts). About 1 % are mailbox changes instead of sign-ins
// (New-InboxRule / Set-Mailbox forwarding; Gmail forwarding out of domain). Deterministic.
import { syntheticSignins } from './synthetic-signins.mjs';

const TENANT_ID = '5b2f2a3c-0000-4000-8000-00000000c0de';
const OFFICE_APP = '4765445b-32c6-49b0-83e6-1d93765276ca';
const EXCHANGE_APP = '00000002-0000-0ff1-ce00-000000000000';
const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36';

// Each account gets a fixed public address spread over the IPv4 space (as bench/replay.mjs --enrich).
export function publicIp(k) {
  const x = Math.imul(k + 1, 2654435761) >>> 0;
  let a = 1 + (x % 223);
  if (a === 10 || a === 127 || a === 172 || a === 192 || a === 100 || a === 169) a += 1;
  return `${a}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${1 + ((x >>> 24) % 254)}`;
}

function guid(n, salt) {
  const h = (v) => (Math.imul(v ^ salt, 2654435761) >>> 0).toString(16).padStart(8, '0');
  const a = h(n);
  const b = h(n + 0x9e3779b9);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${a.slice(1, 4)}-${b}${a.slice(0, 4)}`;
}

/** Unified audit log records (Management Activity API content), one per synthetic sign-in. */
export function* syntheticO365Audit({ total, accounts }) {
  let n = 0;
  for (const e of syntheticSignins({ total, accounts })) {
    n++;
    const k = Number(e.account.replace(/\D/g, ''));
    const ip = publicIp(k * 7 + (e.geo.country === 'FR' ? 0 : 3));
    const userKey = guid(k, 0x51);
    const base = { CreationTime: e.time.slice(0, 19), Id: guid(n, 0x1d), OrganizationId: TENANT_ID, Version: 1, UserKey: userKey, UserType: 0, ClientIP: ip, UserId: e.account };
    if (n % 100 === 50) {
      // A mailbox change instead: an inbox rule (one in five forwards outside) or forwarding on the mailbox.
      const rule = n % 200 === 50;
      const external = n % 500 === 50;
      yield {
        ...base,
        Operation: rule ? 'New-InboxRule' : 'Set-Mailbox',
        RecordType: 1,
        ResultStatus: 'True',
        Workload: 'Exchange',
        ObjectId: e.account.split('@')[0],
        AppId: '',
        ExternalAccess: false,
        OrganizationName: 'party.onmicrosoft.com',
        OriginatingServer: 'AM9PR02MB7777 (15.20.7339.035)',
        Parameters: (rule
          ? [['Name', external ? '..' : 'Newsletters'], ['SubjectContainsWords', 'newsletter'], external ? ['ForwardTo', 'drop@mail.example.net'] : ['MoveToFolder', 'Newsletters'], ['StopProcessingRules', 'True']]
          : [['Identity', e.account], ['ForwardingSmtpAddress', external ? 'smtp:drop@mail.example.net' : `smtp:assistant@party.example`], ['DeliverToMailboxAndForward', 'True']]
        ).map(([Name, Value]) => ({ Name, Value })),
        SessionId: guid(n, 0x5e),
      };
      continue;
    }
    const ok = e.outcome === 'success';
    yield {
      ...base,
      Operation: ok ? 'UserLoggedIn' : 'UserLoginFailed',
      RecordType: 15,
      ResultStatus: ok ? 'Success' : 'Failed',
      Workload: 'AzureActiveDirectory',
      ObjectId: EXCHANGE_APP,
      AzureActiveDirectoryEventType: 1,
      ExtendedProperties: [
        { Name: 'ResultStatusDetail', Value: ok ? 'Success' : 'UserError' },
        { Name: 'UserAgent', Value: UA },
        { Name: 'RequestType', Value: 'Login:login' },
      ],
      ModifiedProperties: [],
      Actor: [{ ID: userKey, Type: 0 }, { ID: e.account, Type: 5 }],
      ActorContextId: TENANT_ID,
      ActorIpAddress: ip,
      InterSystemsId: guid(n, 0x15),
      IntraSystemId: guid(n, 0x16),
      Target: [{ ID: EXCHANGE_APP, Type: 0 }],
      TargetContextId: TENANT_ID,
      ApplicationId: OFFICE_APP,
      ErrorNumber: ok ? '0' : '50126',
      ...(ok ? {} : { LogonError: 'InvalidUserNameOrPassword' }),
    };
  }
}

/** Google Reports API activities (applications login and user_accounts), one per synthetic sign-in. */
export function* syntheticGoogleActivities({ total, accounts, customerId = 'C03pty0ex' }) {
  let n = 0;
  for (const e of syntheticSignins({ total, accounts })) {
    n++;
    const k = Number(e.account.replace(/\D/g, ''));
    const ip = publicIp(k * 7 + (e.geo.country === 'FR' ? 0 : 3));
    const change = n % 100 === 50;
    const app = change ? 'user_accounts' : 'login';
    const ok = e.outcome === 'success';
    const events = change
      ? [{ type: 'email_forwarding_change', name: n % 500 === 50 ? 'email_forwarding_out_of_domain' : 'email_forwarding_change', parameters: [{ name: 'email_forwarding_destination_address', value: n % 500 === 50 ? 'drop@mail.example.net' : 'assistant@party.example' }] }]
      : ok
        ? [{ type: 'login', name: 'login_success', parameters: [{ name: 'login_type', value: 'google_password' }, { name: 'login_challenge_method', multiValue: ['password', 'google_prompt'] }, { name: 'is_suspicious', boolValue: false }] }]
        : [{ type: 'login', name: 'login_failure', parameters: [{ name: 'login_type', value: 'google_password' }, { name: 'login_challenge_method', multiValue: ['password'] }, { name: 'login_failure_type', value: 'login_failure_invalid_password' }] }];
    yield {
      kind: 'admin#reports#activity',
      id: { time: e.time, uniqueQualifier: String(BigInt(n) * 2654435761n + 1000000000000n), applicationName: app, customerId },
      actor: { callerType: 'USER', email: e.account, profileId: String(100000000000000 + k) },
      ipAddress: ip,
      networkInfo: { ipAsn: [64500 + (k % 7)], regionCode: e.geo.country },
      events,
    };
  }
}
