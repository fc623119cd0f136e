import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JWT } from 'google-auth-library';
import {
  createGoogleWorkspaceConnector,
  GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS,
  GOOGLE_WORKSPACE_SCOPES,
  googleWorkspaceConnectorSchema,
  googleWorkspaceSecrets,
  googleWorkspaceStreamSchedule,
} from '../../../connectors/google-workspace/index.js';
import { readServiceAccountKey, serviceAccountAuth } from '../../../connectors/google-workspace/auth.js';
import { classify, parseRetryAfter } from '../../../connectors/google-workspace/google-call.js';
import { fixedClock } from '../../../src/clock.js';
import { parseConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { silentLogger } from '../../../src/log.js';
import { tmpDir } from '../../helpers/tmp.js';

const types = { 'google-workspace': { schema: googleWorkspaceConnectorSchema, secrets: googleWorkspaceSecrets } };
const load = (yaml: string) => parseConfig(`organisation: { name: P, domains: [party.example] }\n${yaml}`, '/etc/vigie/vigie.yml', { connectorTypes: types, receiverTypes: {}, env: {} });

describe('google-workspace config', () => {
  it('fills in the defaults', () => {
    const cfg = load('connectors:\n  - { name: gw, type: google-workspace, service_account_file: key.json, admin_subject: admin@party.example }\n');
    expect(cfg.connectors[0]).toMatchObject({
      customer: 'my_customer',
      applications: ['login', 'user_accounts', 'token', 'admin', 'takeout', 'vault'],
      gmail_settings: false,
      alert_center: true,
      schedules: {},
    });
    expect(GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS).toBe(3 * 3_600_000);
  });

  it('reports every bad key with its line', () => {
    const yaml = [
      'connectors:',
      '  - name: gw',
      '    type: google-workspace',
      '    service_account_file: key.json',
      '    admin_subject: not-an-address',
      '    applications: [Login!]',
      '    base_url: http://google.example.net/',
      '    schedules: { gmail_settings: every hour }',
      '    colour: blue',
      '',
    ].join('\n');
    let err: unknown;
    try {
      load(yaml);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.map((p) => `${p.line}:${p.path}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\d+:connectors\[0\]\.admin_subject$/),
        expect.stringMatching(/applications/),
        expect.stringMatching(/base_url/),
        expect.stringMatching(/schedules/),
        expect.stringMatching(/colour/),
      ]),
    );
  });

  it('a per-stream schedule overrides the connector schedule', () => {
    const cfg = googleWorkspaceConnectorSchema.parse({ service_account_file: 'k', admin_subject: 'a@p.example', schedules: { gmail_settings: '0 * * * *' } });
    expect(googleWorkspaceStreamSchedule(cfg, 'gmail-settings', '*/5 * * * *')).toBe('0 * * * *');
    expect(googleWorkspaceStreamSchedule(cfg, 'reports-login', '*/5 * * * *')).toBe('*/5 * * * *');
  });
});

describe('service-account auth', () => {
  const dir = tmpDir('vigie-gw-key-');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const keyFile = path.join(dir, 'key.json');
  fs.writeFileSync(keyFile, JSON.stringify({ type: 'service_account', client_email: 'vigie@proj.iam.gserviceaccount.com', private_key: privateKey, private_key_id: 'k1' }));

  it('makes one delegated JWT client per subject and scopes, refreshing five minutes early', () => {
    const auth = serviceAccountAuth(readServiceAccountKey(keyFile));
    const a = auth('admin@party.example', [GOOGLE_WORKSPACE_SCOPES.reports]);
    expect(a).toBeInstanceOf(JWT);
    expect(auth('admin@party.example', [GOOGLE_WORKSPACE_SCOPES.reports])).toBe(a);
    expect(auth('alice@party.example', [GOOGLE_WORKSPACE_SCOPES.gmailSettings])).not.toBe(a);
    const jwt = a as JWT;
    expect(jwt.subject).toBe('admin@party.example');
    expect(jwt.scopes).toEqual([GOOGLE_WORKSPACE_SCOPES.reports]);
    expect(jwt.eagerRefreshThresholdMillis).toBe(5 * 60_000);
  });

  it('reads the key when the connector is built, with errors that never quote it', () => {
    const deps = { baseDir: dir, domains: ['party.example'], clock: fixedClock(0), log: silentLogger };
    const cfg = (file: string) => ({ name: 'gw', ...googleWorkspaceConnectorSchema.parse({ service_account_file: file, admin_subject: 'admin@party.example' }) });
    expect(createGoogleWorkspaceConnector(cfg('key.json'), deps).streams.length).toBe(7);
    expect(() => createGoogleWorkspaceConnector(cfg('missing.json'), deps)).toThrow(/Cannot read the Google service-account key .*missing\.json \(ENOENT\)/);
    fs.writeFileSync(path.join(dir, 'broken.json'), `{"private_key": "${'SECRETKEYMATERIAL'}`);
    expect(() => createGoogleWorkspaceConnector(cfg('broken.json'), deps)).toThrow(/not valid JSON\.$/);
    try {
      createGoogleWorkspaceConnector(cfg('broken.json'), deps);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain('SECRETKEYMATERIAL');
    }
    fs.writeFileSync(path.join(dir, 'user.json'), JSON.stringify({ type: 'authorized_user', client_id: 'x' }));
    expect(() => createGoogleWorkspaceConnector(cfg('user.json'), deps)).toThrow(/"authorized_user" key; a service_account key is needed/);
  });
});

describe('error classification', () => {
  const err = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ response: { status, data: body, headers: new Headers(headers) } });
  const google = (status: number, reason: string) => err(status, { error: { code: status, message: 'm', errors: [{ reason }] } });

  it('sorts quota, transient, access and precondition errors', () => {
    expect(classify(google(429, 'rateLimitExceeded'), 0)).toEqual({ kind: 'throttled', status: 429 });
    expect(classify(err(503, {}, { 'retry-after': '30' }), 0)).toEqual({ kind: 'throttled', status: 503, retryAfterMs: 30_000 });
    expect(classify(google(403, 'userRateLimitExceeded'), 0).kind).toBe('throttled');
    expect(classify(google(403, 'forbidden'), 0)).toMatchObject({ kind: 'access', reason: 'forbidden' });
    expect(classify(err(401, { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method' }), 0)).toMatchObject({
      kind: 'access',
      reason: 'unauthorized_client',
    });
    expect(classify(google(400, 'failedPrecondition'), 0).kind).toBe('precondition');
    expect(classify(google(502, 'backendError'), 0).kind).toBe('transient');
    expect(classify(google(400, 'invalid'), 0).kind).toBe('other');
    expect(classify(new Error('socket hang up'), 0)).toEqual({ kind: 'other', message: 'socket hang up' });
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:01:00 GMT', 0)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});
