import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredential, createTokenSource, GRAPH_SCOPE, MANAGE_SCOPE } from '../../../connectors/microsoft-365/auth.js';
import { systemClock } from '../../../src/clock.js';
import { startFakeMicrosoft365, type FakeMicrosoft365 } from '../../fakes/microsoft-365/server.js';

let fake: FakeMicrosoft365;
let agent: https.Agent;
beforeAll(async () => {
  fake = await startFakeMicrosoft365({ now: () => Date.parse('2025-03-11T12:00:00Z') });
  agent = new https.Agent({ ca: fake.ca });
});
afterAll(async () => {
  agent.destroy();
  await fake.close();
});

describe('microsoft-365 auth (@azure/identity against the fake token endpoint)', () => {
  it('gets client-credentials tokens with a secret for Graph and the Management API', async () => {
    const base = { tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: fake.clientSecret, authorityHost: fake.loginUrl, agent };
    const graph = createTokenSource({ newCredential: () => createCredential(base), scope: GRAPH_SCOPE, clock: systemClock });
    const manage = createTokenSource({ newCredential: () => createCredential(base), scope: MANAGE_SCOPE, clock: systemClock });
    const g = await graph.getToken();
    expect(g).toMatch(/^fake-graph-token-/);
    expect(await manage.getToken()).toMatch(/^fake-manage-token-/);
    // Cached until close to expiry: no second token request.
    const before = fake.tokensIssued.length;
    expect(await graph.getToken()).toBe(g);
    expect(fake.tokensIssued.length).toBe(before);
    // After a 401 the caller forces a fresh one.
    const fresh = await graph.getToken({ forceRefresh: true });
    expect(fresh).not.toBe(g);
    const paths = fake.requests.filter((r) => r.server === 'login').map((r) => r.path);
    expect(paths.some((p) => p.startsWith(`/${fake.tenantId}/v2.0/.well-known/openid-configuration`))).toBe(true);
    expect(paths.some((p) => p.startsWith(`/${fake.tenantId}/oauth2/v2.0/token`))).toBe(true);
    // Every Graph token request asked for the .default scope of its resource.
    expect(fake.tokensIssued.filter((t) => t.startsWith('fake-graph')).length).toBeGreaterThanOrEqual(2);
  });

  it('gets a token with a certificate (signed client assertion)', async () => {
    const src = createTokenSource({
      newCredential: () => createCredential({ tenantId: fake.tenantId, clientId: fake.clientId, certificatePath: fake.clientCertificateFile, authorityHost: fake.loginUrl, agent }),
      scope: GRAPH_SCOPE,
      clock: systemClock,
    });
    expect(await src.getToken()).toMatch(/^fake-graph-token-/);
  });

  it('a wrong secret is an authorization error that does not contain the secret', async () => {
    const src = createTokenSource({
      newCredential: () => createCredential({ tenantId: fake.tenantId, clientId: fake.clientId, clientSecret: 'wrong-secret-value-123', authorityHost: fake.loginUrl, agent }),
      scope: GRAPH_SCOPE,
      clock: systemClock,
    });
    const err = (await src.getToken().then(
      () => new Error('no error'),
      (e: unknown) => e,
    )) as Error & { code?: string };
    expect(err.code).toBe('SOURCE_UNAUTHORIZED');
    expect(err.message).toContain('AADSTS7000215');
    expect(err.message).not.toContain('wrong-secret-value-123');
  });

  it('renews a token five minutes before it expires, and shares one request between concurrent callers', async () => {
    let now = Date.parse('2025-03-11T12:00:00Z');
    let calls = 0;
    const credential = {
      getToken: async () => {
        calls++;
        return { token: `t${calls}`, expiresOnTimestamp: now + 3600_000 };
      },
    };
    const src = createTokenSource({ newCredential: () => credential, scope: MANAGE_SCOPE, clock: { now: () => now } });
    const [a, b] = await Promise.all([src.getToken(), src.getToken()]);
    expect([a, b, calls]).toEqual(['t1', 't1', 1]);
    now += 54 * 60_000;
    expect(await src.getToken()).toBe('t1');
    now += 2 * 60_000; // 4 minutes left: inside the margin
    expect(await src.getToken()).toBe('t2');
  });
});
