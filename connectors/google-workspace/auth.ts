import fs from 'node:fs';
import { JWT, type OAuth2Client } from 'google-auth-library';
import { VigieError } from '../../src/errors.js';

/** Gives the client that acts as `subject` with exactly `scopes` (domain-wide delegation). */
export type AuthFactory = (subject: string, scopes: string[]) => OAuth2Client;

/** Tokens are refreshed this long before they expire (reliability §2b P15). */
const REFRESH_EARLY_MS = 5 * 60_000;

interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
}

/** Reads the JSON key once, when the connector is built: a bad path fails at start-up, not at 3 a.m. */
export function readServiceAccountKey(file: string): ServiceAccountKey {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new VigieError('CONFIG_INVALID', `Cannot read the Google service-account key ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: err });
  }
  let key: Partial<ServiceAccountKey> & { type?: string };
  try {
    key = JSON.parse(text) as typeof key;
  } catch {
    // The parse error could quote part of the private key: never pass it on.
    throw new VigieError('CONFIG_INVALID', `The Google service-account key ${file} is not valid JSON.`);
  }
  if (key.type !== undefined && key.type !== 'service_account') {
    throw new VigieError('CONFIG_INVALID', `${file} is a "${String(key.type).slice(0, 40)}" key; a service_account key is needed.`);
  }
  if (typeof key.client_email !== 'string' || typeof key.private_key !== 'string') {
    throw new VigieError('CONFIG_INVALID', `The Google service-account key ${file} has no client_email or private_key.`);
  }
  return { client_email: key.client_email, private_key: key.private_key, ...(key.private_key_id && { private_key_id: key.private_key_id }) };
}

/**
 * One JWT client per (subject, scopes), kept for the life of the connector so its token is reused
 * and refreshed early rather than fetched per call.
 */
export function serviceAccountAuth(key: ServiceAccountKey): AuthFactory {
  const clients = new Map<string, OAuth2Client>();
  return (subject, scopes) => {
    const sorted = [...scopes].sort();
    const id = `${subject.toLowerCase()} ${sorted.join(' ')}`;
    let client = clients.get(id);
    if (!client) {
      client = new JWT({
        email: key.client_email,
        key: key.private_key,
        ...(key.private_key_id && { keyId: key.private_key_id }),
        scopes: sorted,
        subject,
        eagerRefreshThresholdMillis: REFRESH_EARLY_MS,
      });
      clients.set(id, client);
    }
    return client;
  };
}

/** Caches an injected factory the same way, so tests see one client per (subject, scopes) too. */
export function cachedAuth(factory: AuthFactory): AuthFactory {
  const clients = new Map<string, OAuth2Client>();
  return (subject, scopes) => {
    const id = `${subject.toLowerCase()} ${[...scopes].sort().join(' ')}`;
    let client = clients.get(id);
    if (!client) {
      client = factory(subject, scopes);
      clients.set(id, client);
    }
    return client;
  };
}
