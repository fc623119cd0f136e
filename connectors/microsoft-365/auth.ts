import type { Agent } from 'node:https';
import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import type { Clock } from '../../src/clock.js';
import { SourceError } from '../../src/errors.js';

export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const MANAGE_SCOPE = 'https://manage.office.com/.default';

export interface CredentialSettings {
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM file with the private key and the certificate. */
  certificatePath?: string;
  certificatePassword?: string;
  /** `https://login.microsoftonline.com` in production, a local fake in tests. */
  authorityHost: string;
  /** Only for tests: an agent that trusts the fake's certificate. */
  agent?: Agent;
}

/** Client-credentials flow with a secret or a certificate (@azure/identity). */
export function createCredential(s: CredentialSettings): TokenCredential {
  const options = {
    authorityHost: s.authorityHost,
    // Instance discovery calls login.microsoftonline.com whatever the authority; a sovereign or
    // local authority must not depend on it (ENVIRONMENT §10).
    disableInstanceDiscovery: true,
    ...(s.agent ? { agent: s.agent } : {}),
  };
  if (s.certificatePath) {
    return new ClientCertificateCredential(
      s.tenantId,
      s.clientId,
      { certificatePath: s.certificatePath, ...(s.certificatePassword ? { certificatePassword: s.certificatePassword } : {}) },
      options,
    );
  }
  if (!s.clientSecret) throw new SourceError('SOURCE_UNAUTHORIZED', 'Neither a client secret nor a certificate is configured.');
  return new ClientSecretCredential(s.tenantId, s.clientId, s.clientSecret, options);
}

export interface TokenSource {
  getToken(opts?: { forceRefresh?: boolean }): Promise<string>;
}

/**
 * Caches one token per scope and renews it `refreshMarginMs` before it expires (P15), so that a
 * long pagination never runs into an expiry. `forceRefresh` (after a 401) builds a new credential:
 * MSAL would otherwise hand back the same cached token.
 */
export function createTokenSource(opts: { newCredential: () => TokenCredential; scope: string; clock: Clock; refreshMarginMs?: number }): TokenSource {
  const margin = opts.refreshMarginMs ?? 5 * 60_000;
  let credential = opts.newCredential();
  let cached: { token: string; expiresOn: number } | undefined;
  let inflight: Promise<string> | undefined;
  const fetchToken = async (): Promise<string> => {
    let t;
    try {
      t = await credential.getToken(opts.scope);
    } catch (err) {
      // Identity errors carry the AADSTS code and description, never the secret.
      const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
      throw new SourceError('SOURCE_UNAUTHORIZED', `Could not get an access token for ${opts.scope}: ${text}`, { cause: err });
    }
    if (!t) throw new SourceError('SOURCE_UNAUTHORIZED', `No access token was issued for ${opts.scope}.`);
    cached = { token: t.token, expiresOn: t.expiresOnTimestamp };
    return t.token;
  };
  return {
    getToken(o) {
      if (o?.forceRefresh) {
        credential = opts.newCredential();
        cached = undefined;
      } else if (cached && opts.clock.now() < cached.expiresOn - margin) {
        return Promise.resolve(cached.token);
      }
      inflight ??= fetchToken().finally(() => {
        inflight = undefined;
      });
      return inflight;
    },
  };
}
