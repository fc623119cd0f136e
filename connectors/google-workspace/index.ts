import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import type { Logger } from '../../src/log.js';
import type { Connector, Stream } from '../../src/pipeline/connector.js';
import { alertCenterStream } from './alert-center-stream.js';
import { cachedAuth, readServiceAccountKey, serviceAccountAuth, type AuthFactory } from './auth.js';
import type { GoogleWorkspaceConfig } from './config.js';
import { gmailSettingsStream } from './gmail-settings-stream.js';
import { realSleep, type Sleep } from './google-call.js';
import { reportsStream, type ApiDeps } from './reports-stream.js';

export {
  DEFAULT_APPLICATIONS,
  GOOGLE_WORKSPACE_DEFAULT_OVERLAP_MS,
  SCOPES as GOOGLE_WORKSPACE_SCOPES,
  googleWorkspaceConnectorSchema,
  googleWorkspaceSecrets,
  googleWorkspaceStreamSchedule,
  type GoogleWorkspaceConfig,
} from './config.js';
export { googleWorkspaceFormats } from './formats.js';
export type { AuthFactory } from './auth.js';
export type { Sleep } from './google-call.js';

export interface GoogleWorkspaceDeps {
  /** The config file's folder: service_account_file is relative to it. */
  baseDir: string;
  /** The organisation's mail domains (reserved for the connector; enrichment classifies addresses). */
  domains: readonly string[];
  clock: Clock;
  log: Logger;
  /** Tests inject pre-seeded clients: the JWT token endpoint cannot be pointed at a fake. */
  auth?: AuthFactory;
  /** Backoff waits; tests inject one that returns at once. */
  sleep?: Sleep;
}

/**
 * Google Workspace: one log stream per Reports application, Alert Center, and (opt-in) a state
 * stream of every mailbox's Gmail forwarding, filters and delegates. Only fetches and translates.
 */
export function createGoogleWorkspaceConnector(cfg: GoogleWorkspaceConfig, deps: GoogleWorkspaceDeps): Connector {
  const auth = deps.auth
    ? cachedAuth(deps.auth)
    : serviceAccountAuth(readServiceAccountKey(path.resolve(deps.baseDir, cfg.service_account_file)));
  const api: ApiDeps = {
    source: cfg.name,
    adminSubject: cfg.admin_subject,
    customer: cfg.customer ?? 'my_customer',
    auth,
    sleep: deps.sleep ?? realSleep,
    ...(cfg.base_url && { rootUrl: cfg.base_url.endsWith('/') ? cfg.base_url : `${cfg.base_url}/` }),
  };
  const applications = [...new Set(cfg.applications ?? [])];
  const streams: Stream[] = applications.map((app) => reportsStream(app, api));
  if (cfg.alert_center ?? true) streams.push(alertCenterStream(api));
  if (cfg.gmail_settings ?? false) streams.push(gmailSettingsStream(api));
  return { name: cfg.name, type: 'google-workspace', streams };
}
