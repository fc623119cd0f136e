import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { fakeCert } from './cert.js';
import { seededRandom } from './random.js';
import { buildFakeTenant, type ContentType, type FakeTenant, type FakeTenantOptions } from './tenant.js';

/**
 * Local fakes of the three Microsoft services Vigie talks to: the Entra token endpoint, Microsoft
 * Graph and the Office 365 Management Activity API, each an https server on 127.0.0.1 with a
 * self-signed certificate. They reproduce the documented paging, throttling, lateness and errors
 * (shared/reference/provider-apis.md §0, §A, §B). Time comes from `now()`, so tests move it.
 */
export type Permission = 'AuditLog.Read.All' | 'MailboxSettings.Read' | 'User.Read.All' | 'IdentityRiskEvent.Read.All' | 'ActivityFeed.Read';

export interface FakeKnobs {
  /** `basic`: Business Basic/Standard, no Entra P1 (Graph sign-ins and risk detections answer 403). */
  licence: 'basic' | 'premium';
  missingPermissions: Permission[];
  /** Share of API requests answered 429 (seeded). */
  throttleRate: number;
  /** Graph list page size ceiling (Graph's own is 1000). */
  graphPageSize: number;
  usersPageSize: number;
  /** Content listing items per page before a NextPageUri. */
  contentPageSize: number;
  /** Audit records are packed into blobs by availability, one blob per content type per this many minutes. */
  blobMinutes: number;
  /** Share of blobs that only show in the listing two hours after their contentCreated. */
  listingDelayRate: number;
  /** Every blob repeats one record of the previous blob with its keys in another order (P12). */
  repeatRecords: boolean;
  /** The next N $batch items are answered 429 with Retry-After inside the batch. */
  batchThrottleItems: number;
  tokenLifetimeSec: number;
  /** Artificial latency per request (real time; for the demo and benchmarks only). */
  latencyMs: number;
}

export interface FakeMicrosoft365Options extends FakeTenantOptions {
  now: () => number;
  knobs?: Partial<FakeKnobs>;
}

export interface RecordedRequest {
  server: 'login' | 'graph' | 'manage';
  method: string;
  path: string;
  authorization?: string;
}

export interface Injection {
  server?: RecordedRequest['server'];
  path: RegExp;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Default 1. */
  times?: number;
}

/**
 * The fault switchboard (issue 11): tests turn faults on and off by path; a matching request gets
 * the fault instead of (or on top of) the fake's ordinary answer.
 */
export type FaultKind =
  /** 429 with `Retry-After: 1`. */
  | '429'
  | '429-no-retry-after'
  | '500'
  | '503'
  /** 200, JSON content type, the ordinary body cut in half. */
  | 'truncated-json'
  /** 200, an HTML sign-in page instead of JSON (a proxy or captive portal in the way). */
  | 'html-login'
  /** Reads the request and never answers: the socket stays open and silent. */
  | 'stall'
  /** The ordinary answer, its body sent in `chunks` pieces `delayMs` apart (real time). */
  | 'slow-body'
  /** The ordinary answer with its paging link (`@odata.nextLink` / `NextPageUri`) pointing at `foreignUrl`. */
  | 'foreign-next-link'
  /** Every token issued so far is revoked at this request (expiry in the middle of paging): it answers 401. */
  | 'token-expired';

export interface Fault {
  kind: FaultKind;
  server?: RecordedRequest['server'];
  /** Path (with query) prefix, or a pattern. */
  path: string | RegExp;
  /** Matching requests that get the fault; default unlimited (until `clear`). */
  times?: number;
  /** Let this many matching requests through first (a fault in the middle of paging). */
  after?: number;
  /** `foreign-next-link`: where the link points. */
  foreignUrl?: string;
  /** `slow-body`: gap between pieces (default 50 ms) and number of pieces (default 4). */
  delayMs?: number;
  chunks?: number;
}

export interface FaultSwitchboard {
  set(f: Fault): void;
  clear(): void;
  /** Faults served so far, by kind. */
  served: Partial<Record<FaultKind, number>>;
}

export interface FakeMicrosoft365 {
  tenant: FakeTenant;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  loginUrl: string;
  graphUrl: string;
  manageUrl: string;
  /** PEM of the self-signed certificate every fake serves. */
  ca: string;
  /** PEM file holding a key and certificate, for certificate credentials. */
  clientCertificateFile: string;
  knobs: FakeKnobs;
  requests: RecordedRequest[];
  tokensIssued: string[];
  inject(i: Injection): void;
  faults: FaultSwitchboard;
  /** Invalidates every token issued so far: the next API call answers 401. */
  revokeTokens(): void;
  close(): Promise<void>;
}

const DEFAULT_KNOBS: FakeKnobs = {
  licence: 'premium',
  missingPermissions: [],
  throttleRate: 0,
  graphPageSize: 50,
  usersPageSize: 4,
  contentPageSize: 4,
  blobMinutes: 30,
  listingDelayRate: 0.2,
  repeatRecords: true,
  batchThrottleItems: 0,
  tokenLifetimeSec: 3599,
  latencyMs: 0,
};

const CLIENT_ID = '11111111-2222-4333-8444-555555555555';
const CLIENT_SECRET = 'fake-client-secret-9Qw~x';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Blob {
  contentType: ContentType;
  contentId: string;
  created: number;
  listedAt: number;
  records: Record<string, unknown>[];
}

export async function startFakeMicrosoft365(opts: FakeMicrosoft365Options): Promise<FakeMicrosoft365> {
  const tenant = buildFakeTenant(opts);
  const knobs: FakeKnobs = { ...DEFAULT_KNOBS, ...opts.knobs };
  const cert = fakeCert();
  const rand = seededRandom((opts.seed ?? 42) + 7);
  const requests: RecordedRequest[] = [];
  const injections: Array<Injection & { left: number }> = [];
  const faults: Array<Fault & { left: number; skip: number }> = [];
  const served: FaultSwitchboard['served'] = {};
  const tokens = new Map<string, 'graph' | 'manage'>();
  const tokensIssued: string[] = [];
  const subscriptions = new Set<string>();
  let tokenSerial = 0;
  const blobs = packBlobs(tenant, knobs, seededRandom((opts.seed ?? 42) + 11));

  const servers = await Promise.all([listen(), listen(), listen()]);
  const [loginServer, graphServer, manageServer] = servers;
  const urlOf = (s: https.Server) => `https://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const loginUrl = urlOf(loginServer!);
  const graphUrl = urlOf(graphServer!);
  const manageUrl = urlOf(manageServer!);
  const missing = (p: Permission) => knobs.missingPermissions.includes(p);

  function listen(): Promise<https.Server> {
    return new Promise((resolve) => {
      const s = https.createServer({ key: cert.keyPem, cert: cert.certPem });
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
  }

  function route(server: RecordedRequest['server'], handler: (method: string, url: URL, body: string, auth: string | undefined) => Answer) {
    return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://127.0.0.1');
        const auth = req.headers.authorization;
        requests.push({ server, method: req.method ?? 'GET', path: `${url.pathname}${url.search}`, ...(auth ? { authorization: auth } : {}) });
        const target = `${url.pathname}${url.search}`;
        const fault = faults.find(
          (f) => (!f.server || f.server === server) && (typeof f.path === 'string' ? target.startsWith(f.path) : f.path.test(target)) && f.left > 0 && f.skip-- <= 0,
        );
        if (fault) {
          fault.left--;
          served[fault.kind] = (served[fault.kind] ?? 0) + 1;
        }
        if (fault?.kind === 'stall') return; // the socket stays open; close() ends it
        if (fault?.kind === 'token-expired') tokens.clear();
        let answer: Answer;
        const inj = injections.find((i) => (!i.server || i.server === server) && i.path.test(target) && i.left > 0);
        if (inj) {
          inj.left--;
          answer = { status: inj.status, ...(inj.headers ? { headers: inj.headers } : {}), ...(inj.body !== undefined ? { body: inj.body } : {}) };
        } else if (fault && /^(429|500|503)/.test(fault.kind)) {
          const status = Number(fault.kind.slice(0, 3));
          answer = {
            status,
            ...(fault.kind === '429' ? { headers: { 'Retry-After': '1' } } : {}),
            body: { error: { code: status === 429 ? 'TooManyRequests' : 'ServiceUnavailable', message: 'Injected fault.' } },
          };
        } else {
          try {
            answer = handler(req.method ?? 'GET', url, Buffer.concat(chunks).toString('utf8'), auth);
          } catch (err) {
            answer = { status: 500, body: { error: { code: 'InternalServerError', message: String(err) } } };
          }
        }
        if (fault?.kind === 'foreign-next-link' && answer.status === 200) {
          const foreign = fault.foreignUrl ?? 'https://127.0.0.2/steal';
          if (answer.body && typeof answer.body === 'object' && !Array.isArray(answer.body)) answer = { ...answer, body: { ...answer.body, '@odata.nextLink': foreign } };
          else answer = { ...answer, headers: { ...answer.headers, NextPageUri: foreign } };
        }
        let text = answer.body === undefined ? '' : JSON.stringify(answer.body);
        let contentType = 'application/json';
        if (fault?.kind === 'truncated-json') text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
        if (fault?.kind === 'html-login') {
          answer = { status: 200 };
          contentType = 'text/html; charset=utf-8';
          text = '<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body><form method="post" action="/login"><input name="loginfmt"></form></body></html>';
        }
        const send = () => {
          res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
          if (fault?.kind !== 'slow-body') {
            res.end(text);
            return;
          }
          const n = Math.max(1, fault.chunks ?? 4);
          const size = Math.ceil(text.length / n);
          let i = 0;
          const next = () => {
            if (res.destroyed) return;
            const piece = text.slice(i * size, (i + 1) * size);
            if (++i >= n) res.end(piece);
            else {
              res.write(piece);
              setTimeout(next, fault.delayMs ?? 50);
            }
          };
          next();
        };
        if (knobs.latencyMs > 0) setTimeout(send, knobs.latencyMs);
        else send();
      });
    };
  }

  // ---- Entra token endpoint --------------------------------------------------------------
  loginServer!.on(
    'request',
    route('login', (method, url, body) => {
      const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(url.pathname);
      if (!m || m[1] !== tenant.tenantId) return { status: 400, body: { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${m?.[1] ?? ''}' not found.` } };
      const base = `${loginUrl}/${tenant.tenantId}`;
      if (m[2]!.startsWith('v2.0')) {
        return {
          status: 200,
          body: {
            token_endpoint: `${base}/oauth2/v2.0/token`,
            token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
            jwks_uri: `${base}/discovery/v2.0/keys`,
            response_modes_supported: ['query', 'fragment', 'form_post'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
            issuer: `${base}/v2.0`,
            request_uri_parameter_supported: false,
            userinfo_endpoint: `${loginUrl}/oidc/userinfo`,
            authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
            device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
            http_logout_supported: true,
            frontchannel_logout_supported: true,
            end_session_endpoint: `${base}/oauth2/v2.0/logout`,
            claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat'],
            kerberos_endpoint: `${base}/kerberos`,
            tenant_region_scope: 'EU',
            cloud_instance_name: 'microsoftonline.com',
            cloud_graph_host_name: 'graph.windows.net',
            msgraph_host: 'graph.microsoft.com',
            rbac_url: 'https://pas.windows.net',
          },
        };
      }
      if (method !== 'POST') return { status: 405, body: { error: 'invalid_request' } };
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'client_credentials') return { status: 400, body: { error: 'unsupported_grant_type' } };
      if (form.get('client_id') !== CLIENT_ID) return { status: 400, body: { error: 'unauthorized_client', error_description: 'AADSTS700016: Application not found in the directory.' } };
      const assertion = form.get('client_assertion');
      if (assertion === null && form.get('client_secret') !== CLIENT_SECRET) {
        return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
      }
      if (assertion !== null && (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || assertion.split('.').length !== 3)) {
        return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS700027: Client assertion failed signature validation.' } };
      }
      const scope = form.get('scope') ?? '';
      const aud = scope.includes('graph.microsoft.com') ? 'graph' : scope.includes('manage.office.com') ? 'manage' : undefined;
      if (!aud) return { status: 400, body: { error: 'invalid_scope', error_description: 'AADSTS70011: The provided value for scope is not valid.' } };
      const token = `fake-${aud}-token-${++tokenSerial}-${Math.floor(rand() * 1e9).toString(36)}`;
      tokens.set(token, aud);
      tokensIssued.push(token);
      return { status: 200, body: { token_type: 'Bearer', expires_in: knobs.tokenLifetimeSec, ext_expires_in: knobs.tokenLifetimeSec, access_token: token } };
    }),
  );

  const unauthorized = (aud: 'graph' | 'manage', auth: string | undefined): Answer | undefined => {
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (token && tokens.get(token) === aud) return undefined;
    return aud === 'graph'
      ? { status: 401, body: graphError('InvalidAuthenticationToken', 'Access token has expired or is not yet valid.') }
      : { status: 401, body: { error: { code: 'AF10002', message: 'Authorization has been denied for this request.' } } };
  };

  // ---- Microsoft Graph ------------------------------------------------------------------
  graphServer!.on(
    'request',
    route('graph', (method, url, body, auth) => {
      const denied = unauthorized('graph', auth);
      if (denied) return denied;
      if (rand() < knobs.throttleRate) {
        // Identity Protection never sends Retry-After (§A.6); the others do.
        const noHeader = url.pathname.includes('identityProtection');
        return { status: 429, ...(noHeader ? {} : { headers: { 'Retry-After': '1' } }), body: graphError('TooManyRequests', 'Too many requests.') };
      }
      if (method === 'POST' && url.pathname === '/v1.0/$batch') return batch(body);
      return graphGet(method, url);
    }),
  );

  function batch(body: string): Answer {
    let parsed: { requests?: Array<{ id?: string; method?: string; url?: string }> };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      return { status: 400, body: graphError('BadRequest', 'Invalid batch payload.') };
    }
    const items = parsed.requests ?? [];
    if (items.length === 0 || items.length > 20) return { status: 400, body: graphError('BadRequest', 'Number of requests must be between 1 and 20.') };
    if (new Set(items.map((i) => i.id)).size !== items.length) return { status: 400, body: graphError('BadRequest', 'Batch request ids must be unique.') };
    const perMailbox = new Map<string, number>();
    const responses = items.map((item) => {
      const mailbox = /^\/users\/([^/]+)\//.exec(item.url ?? '')?.[1] ?? '';
      const n = (perMailbox.get(mailbox) ?? 0) + 1;
      perMailbox.set(mailbox, n);
      if (n > 4 || knobs.batchThrottleItems > 0) {
        if (n <= 4) knobs.batchThrottleItems--;
        return {
          id: item.id,
          status: 429,
          headers: { 'Retry-After': '2', 'Content-Type': 'application/json' },
          body: graphError('ApplicationThrottled', 'Application is over its MailboxConcurrency limit.'),
        };
      }
      const a = graphGet(item.method ?? 'GET', new URL(`/v1.0${item.url ?? ''}`, graphUrl));
      return { id: item.id, status: a.status, headers: { 'Content-Type': 'application/json', ...a.headers }, body: a.body };
    });
    // Order is not guaranteed (§A.5): clients must correlate by id.
    return { status: 200, body: { responses: responses.reverse() } };
  }

  function graphGet(method: string, url: URL): Answer {
    if (method !== 'GET') return { status: 405, body: graphError('BadRequest', 'Method not allowed.') };
    const p = url.pathname;
    const nonPremium = { status: 403, body: graphError('Authentication_RequestFromNonPremiumTenantOrB2CTenant', "Neither tenant is B2C or tenant doesn't have premium license") };
    const denied = { status: 403, body: graphError('Authorization_RequestDenied', 'Insufficient privileges to complete the operation.') };
    const now = opts.now();
    if (p === '/v1.0/auditLogs/signIns') {
      if (missing('AuditLog.Read.All')) return denied;
      if (knobs.licence === 'basic') return nonPremium;
      return listPage(url, filterByTime(tenant.signIns, url, 'createdDateTime', now));
    }
    if (p === '/v1.0/auditLogs/directoryAudits') {
      if (missing('AuditLog.Read.All')) return denied;
      return listPage(url, filterByTime(tenant.directoryAudits, url, 'activityDateTime', now));
    }
    if (p === '/v1.0/identityProtection/riskDetections') {
      if (missing('IdentityRiskEvent.Read.All')) return denied;
      if (knobs.licence === 'basic') return nonPremium;
      return listPage(url, filterByTime(tenant.riskDetections, url, 'detectedDateTime', now));
    }
    if (p === '/v1.0/users') {
      if (missing('User.Read.All')) return denied;
      const users = [
        ...tenant.users.map((u) => ({ id: u.id, userPrincipalName: u.upn, mail: u.upn, displayName: u.name, accountEnabled: true, userType: 'Member' })),
        // An account without a mailbox and a guest: neither has inbox rules to read.
        { id: '99999999-0000-4000-a000-000000000001', userPrincipalName: 'scanner@party.example', mail: null, displayName: 'Scanner', accountEnabled: true, userType: 'Member' },
        { id: '99999999-0000-4000-a000-000000000002', userPrincipalName: 'guest_example.org#EXT#@party.onmicrosoft.com', mail: 'guest@example.org', displayName: 'Guest', accountEnabled: true, userType: 'Guest' },
      ];
      return listPage(url, users, knobs.usersPageSize);
    }
    const rules = /^\/v1\.0\/users\/([^/]+)\/mailFolders\/inbox\/messageRules$/.exec(p);
    if (rules) {
      const who = decodeURIComponent(rules[1]!).toLowerCase();
      const user = tenant.users.find((u) => u.id === who || u.upn === who);
      if (!user) return { status: 404, body: graphError('MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.') };
      if (missing('MailboxSettings.Read')) return { status: 403, body: graphError('ErrorAccessDenied', 'Access is denied. Check credentials and try again.') };
      const value = tenant.inboxRules.filter((r) => r.userId === user.id && r.from <= now && (r.until === undefined || r.until > now)).map((r) => r.rule);
      return { status: 200, body: { '@odata.context': `${graphUrl}/v1.0/$metadata#users('${encodeURIComponent(user.upn)}')/mailFolders('inbox')/messageRules`, value } };
    }
    return { status: 404, body: graphError('Request_ResourceNotFound', `Resource ${p} does not exist.`) };
  }

  function listPage(url: URL, items: unknown[], pageSize = knobs.graphPageSize): Answer {
    const top = Math.min(Number(url.searchParams.get('$top') ?? 1000), pageSize);
    const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
    if (!Number.isInteger(skip) || skip < 0) return { status: 400, body: graphError('Request_BadRequest', 'Token not found: token is either invalid or expired') };
    const value = items.slice(skip, skip + top);
    const body: Record<string, unknown> = { '@odata.context': `${graphUrl}/v1.0/$metadata#${url.pathname.slice(6)}`, value };
    if (skip + top < items.length) {
      const next = new URL(url.pathname, graphUrl);
      for (const [k, v] of url.searchParams) if (k !== '$skiptoken') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', String(skip + top));
      body['@odata.nextLink'] = next.toString();
    }
    return { status: 200, body };
  }

  // ---- Office 365 Management Activity API -----------------------------------------------
  manageServer!.on(
    'request',
    route('manage', (method, url, _body, auth) => {
      const denied = unauthorized('manage', auth);
      if (denied) return denied;
      if (missing('ActivityFeed.Read')) {
        return { status: 403, body: { error: { code: 'AF10001', message: "The permission set (Mail.Read) sent in the request does not include the expected permission 'ActivityFeed.Read'." } } };
      }
      if (rand() < knobs.throttleRate) return { status: 429, body: { error: { code: 'AF429', message: 'Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000' } } };
      const m = /^\/api\/v1\.0\/([^/]+)\/activity\/feed\/(.+)$/.exec(url.pathname);
      if (!m) return { status: 404, body: { error: { code: 'AF20001', message: 'Not found.' } } };
      if (m[1] !== tenant.tenantId) return { status: 400, body: { error: { code: 'AF20010', message: 'The tenant ID in the URL does not match the token.' } } };
      const op = decodeURIComponent(m[2]!);
      const contentType = url.searchParams.get('contentType') ?? '';
      const known = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'];
      if (op === 'subscriptions/start' && method === 'POST') {
        if (!known.includes(contentType)) return { status: 400, body: { error: { code: 'AF20020', message: `Invalid content type ${contentType}.` } } };
        if (subscriptions.has(contentType)) return { status: 400, body: { error: { code: 'AF20024', message: 'The subscription is already enabled. No property change.' } } };
        subscriptions.add(contentType);
        return { status: 200, body: { contentType, status: 'enabled', webhook: null } };
      }
      if (op === 'subscriptions/list') return { status: 200, body: [...subscriptions].map((c) => ({ contentType: c, status: 'enabled', webhook: null })) };
      if (op === 'subscriptions/content') {
        if (!subscriptions.has(contentType)) return { status: 400, body: { error: { code: 'AF20022', message: 'No subscription found for the specified content type.' } } };
        const now = opts.now();
        const s = url.searchParams.get('startTime');
        const e = url.searchParams.get('endTime');
        if ((s === null) !== (e === null)) return { status: 400, body: { error: { code: 'AF20055', message: 'Start time and end time must both be specified (or both omitted).' } } };
        const start = s === null ? now - 86_400_000 : Date.parse(`${s}Z`);
        const end = e === null ? now : Date.parse(`${e}Z`);
        if (Number.isNaN(start) || Number.isNaN(end) || end - start > 86_400_000 || end <= start || start < now - 7 * 86_400_000 - 60_000) {
          return { status: 400, body: { error: { code: 'AF20055', message: 'Start time and end time must both be specified, be no more than 24 hours apart, with the start time no more than 7 days in the past.' } } };
        }
        const all = blobs.filter((b) => b.contentType === contentType && b.created >= start && b.created < end && b.listedAt <= now);
        const offset = Number(url.searchParams.get('nextPage') ?? 0);
        const page = all.slice(offset, offset + knobs.contentPageSize);
        const headers: Record<string, string> = {};
        if (offset + knobs.contentPageSize < all.length) {
          const next = new URL(url.pathname, manageUrl);
          for (const [k, v] of url.searchParams) if (k !== 'nextPage') next.searchParams.set(k, v);
          next.searchParams.set('nextPage', String(offset + knobs.contentPageSize));
          headers.NextPageUri = next.toString();
        }
        return {
          status: 200,
          headers,
          body: page.map((b) => ({
            contentType: b.contentType,
            contentId: b.contentId,
            contentUri: `${manageUrl}/api/v1.0/${tenant.tenantId}/activity/feed/audit/${b.contentId}`,
            contentCreated: new Date(b.created).toISOString(),
            contentExpiration: new Date(b.created + 7 * 86_400_000).toISOString(),
          })),
        };
      }
      if (op.startsWith('audit/')) {
        const blob = blobs.find((b) => b.contentId === op.slice(6));
        if (!blob || blob.listedAt > opts.now()) return { status: 400, body: { error: { code: 'AF20050', message: 'The specified content does not exist.' } } };
        if (blob.created + 7 * 86_400_000 < opts.now()) return { status: 400, body: { error: { code: 'AF20051', message: 'Content requested with the key has already expired.' } } };
        return { status: 200, body: blob.records };
      }
      return { status: 404, body: { error: { code: 'AF20001', message: 'Not found.' } } };
    }),
  );

  return {
    tenant,
    tenantId: tenant.tenantId,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    loginUrl,
    graphUrl,
    manageUrl,
    ca: cert.certPem,
    clientCertificateFile: cert.bundleFile,
    knobs,
    requests,
    tokensIssued,
    inject: (i) => injections.push({ ...i, left: i.times ?? 1 }),
    faults: {
      set: (f) => faults.push({ ...f, left: f.times ?? Number.POSITIVE_INFINITY, skip: f.after ?? 0 }),
      clear: () => {
        faults.length = 0;
      },
      served,
    },
    revokeTokens: () => tokens.clear(),
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

function graphError(code: string, message: string) {
  return { error: { code, message, innerError: { date: '2025-03-11T00:00:00', 'request-id': '00000000-0000-4000-a000-000000000000', 'client-request-id': '00000000-0000-4000-a000-000000000000' } } };
}

/** Items whose time field passes `$filter=<field> ge X and <field> le Y`, visible now, newest first. */
function filterByTime<T extends { visibleAt: number; item: Record<string, unknown> }>(items: T[], url: URL, field: string, now: number): Record<string, unknown>[] {
  const filter = url.searchParams.get('$filter') ?? '';
  const tests: Array<(t: number) => boolean> = [];
  for (const m of filter.matchAll(/(\w+) (ge|le|gt|lt|eq) ([0-9T:.\-Z]+)/g)) {
    if (m[1] !== field) continue;
    const v = Date.parse(m[3]!);
    const op = m[2];
    tests.push((t) => (op === 'ge' ? t >= v : op === 'le' ? t <= v : op === 'gt' ? t > v : op === 'lt' ? t < v : t === v));
  }
  return items
    .filter((i) => i.visibleAt <= now && tests.every((t) => t(Date.parse(String(i.item[field])))))
    .map((i) => i.item)
    .sort((a, b) => Date.parse(String(b[field])) - Date.parse(String(a[field])));
}

/** Packs audit records into blobs by content type and availability window (§B.2). */
function packBlobs(tenant: FakeTenant, knobs: FakeKnobs, rand: () => number): Blob[] {
  const size = knobs.blobMinutes * 60_000;
  const byKey = new Map<string, Blob>();
  for (const a of [...tenant.audit].sort((x, y) => x.visibleAt - y.visibleAt)) {
    const bucket = Math.floor(a.visibleAt / size);
    const key = `${a.contentType}|${bucket}`;
    let b = byKey.get(key);
    if (!b) {
      const created = (bucket + 1) * size;
      const stamp = new Date(created).toISOString().replace(/\D/g, '').slice(0, 17);
      const ct = a.contentType.toLowerCase().replace('.', '_');
      b = { contentType: a.contentType, contentId: `${stamp}$${stamp}$${ct}$${a.contentType.replace('.', '_')}$emea0034`, created, listedAt: created, records: [] };
      if (rand() < knobs.listingDelayRate) b.listedAt = created + 2 * 3_600_000;
      byKey.set(key, b);
    }
    b.records.push(a.item);
  }
  const out = [...byKey.values()].sort((x, y) => x.created - y.created);
  if (knobs.repeatRecords) {
    for (let i = 1; i < out.length; i++) {
      const prev = out[i - 1]!;
      const last = prev.records.at(-1);
      if (last && prev.contentType === out[i]!.contentType) out[i]!.records.push(Object.fromEntries(Object.entries(last).reverse()));
    }
  }
  for (const b of out) b.records.reverse(); // events inside a blob are not chronological
  return out;
}
