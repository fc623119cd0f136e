import https from 'node:https';
import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import { createHttpClient, type HttpClient } from '../../src/http/http-client.js';
import type { Logger } from '../../src/log.js';
import type { Connector, Stream } from '../../src/pipeline/connector.js';
import { configHash } from './access-status.js';
import { createCredential, createTokenSource, GRAPH_SCOPE, MANAGE_SCOPE, type TokenSource } from './auth.js';
import {
  GLOBAL_BASE_URLS,
  MICROSOFT_365_STREAMS,
  streamOverlapMs,
  type Microsoft365Config,
  type Microsoft365StreamName,
} from './config.js';
import { createGraphLogStream } from './graph-log-stream.js';
import { createInboxRulesStream } from './inbox-rules.js';
import { createManagementStream } from './management-stream.js';
import { normalizeAuditRecord } from './normalize-audit.js';
import { normalizeGraphDirectoryAudit, normalizeGraphRiskDetection, normalizeGraphSignIn } from './normalize-graph.js';

export { microsoft365ConnectorSchema, microsoft365Secrets, microsoft365StreamSchedule, MICROSOFT_365_STREAMS, type Microsoft365Config } from './config.js';
export { microsoft365Formats } from './formats.js';
export { parsePurviewCsv, looksLikePurviewCsv, type PurviewCsvResult } from './purview-csv.js';
export { purviewCsvTextFormat } from './purview-text-format.js';

export interface Microsoft365Deps {
  /** Folder of the config file: `certificate_file` is relative to it. */
  baseDir: string;
  /** organisation.domains (reserved: enrichment decides what is external). */
  domains: readonly string[];
  clock: Clock;
  log: Logger;
  /** Injected so tests never wait on real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** Tests only: extra trusted CA (PEM) for the local https fakes. */
  ca?: string;
  /** Tests only: token sources that bypass @azure/identity. */
  tokens?: { graph: TokenSource; manage: TokenSource };
  random?: () => number;
  /** Tests only: no answer for this long fails an attempt (default 60 s, the HTTP client's). */
  httpTimeoutMs?: number;
}

const CONTENT_TYPES = {
  'audit-azure-ad': 'Audit.AzureActiveDirectory',
  'audit-exchange': 'Audit.Exchange',
  'audit-general': 'Audit.General',
} as const;

const DAY = 86_400_000;

/**
 * Microsoft 365 (DESIGN §4): the Office 365 Management Activity API works on every licence with
 * Audit Standard and carries most of the detections; Graph adds sign-ins with provider geo and
 * risk (Entra P1+), directory audits, risk detections and a snapshot of every inbox rule. Streams
 * the tenant does not allow turn into one monitor event each and rest, the others keep going.
 */
export function createMicrosoft365Connector(cfg: Microsoft365Config, deps: Microsoft365Deps): Connector {
  const base = { ...GLOBAL_BASE_URLS, ...cfg.base_urls };
  const agent = deps.ca ? new https.Agent({ ca: deps.ca, keepAlive: true }) : undefined;
  const credential = () =>
    createCredential({
      tenantId: cfg.tenant_id,
      clientId: cfg.client_id,
      ...(cfg.client_secret ? { clientSecret: cfg.client_secret } : {}),
      ...(cfg.certificate_file ? { certificatePath: path.resolve(deps.baseDir, cfg.certificate_file) } : {}),
      ...(cfg.certificate_password ? { certificatePassword: cfg.certificate_password } : {}),
      authorityHost: base.login,
      ...(agent ? { agent } : {}),
    });
  const tokens = deps.tokens ?? {
    graph: createTokenSource({ newCredential: credential, scope: GRAPH_SCOPE, clock: deps.clock }),
    manage: createTokenSource({ newCredential: credential, scope: MANAGE_SCOPE, clock: deps.clock }),
  };
  const log = deps.log.child({ component: 'connector', source: cfg.name, type: 'microsoft-365' });
  const client = (origin: string, token: TokenSource): HttpClient =>
    createHttpClient({
      allowedOrigins: [origin],
      getToken: (o) => token.getToken(o),
      clock: deps.clock,
      log,
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
      ...(deps.ca ? { ca: deps.ca } : {}),
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.httpTimeoutMs !== undefined ? { timeoutMs: deps.httpTimeoutMs } : {}),
      headers: { 'user-agent': 'Vigie (mailbox takeover monitor)' },
    });
  const graph = client(base.graph, tokens.graph);
  const manage = client(base.manage, tokens.manage);
  // What decides whether a stream may read: a change here re-opens streams resting after a 403.
  const config = configHash({ t: cfg.tenant_id, c: cfg.client_id, s: cfg.client_secret, f: cfg.certificate_file, streams: cfg.streams, base });
  const overlap = (name: Microsoft365StreamName) => (ctxOverlap: number) => streamOverlapMs(cfg, name, ctxOverlap);
  const source = cfg.name;
  const bulkAccessItems = cfg.bulk_access_items;

  const build = (name: Microsoft365StreamName): Stream => {
    switch (name) {
      case 'audit-azure-ad':
      case 'audit-exchange':
      case 'audit-general':
        return createManagementStream({
          name,
          contentType: CONTENT_TYPES[name],
          manageBase: base.manage,
          tenantId: cfg.tenant_id,
          ...(cfg.publisher_id ? { publisherId: cfg.publisher_id } : {}),
          http: manage,
          config,
          overlapMs: overlap(name),
          normalize: (r) => normalizeAuditRecord(r, { source, bulkAccessItems }),
          source,
        });
      case 'signins':
        return createGraphLogStream({
          name,
          graphBase: base.graph,
          path: 'auditLogs/signIns',
          timeField: 'createdDateTime',
          pageSize: 1000,
          retentionMs: 30 * DAY,
          http: graph,
          config,
          overlapMs: overlap(name),
          normalize: (r) => normalizeGraphSignIn(r, source),
          source,
        });
      case 'directory-audits':
        return createGraphLogStream({
          name,
          graphBase: base.graph,
          path: 'auditLogs/directoryAudits',
          timeField: 'activityDateTime',
          pageSize: 1000,
          // Free tenants keep 7 days; asking for more is harmless but returns nothing older.
          retentionMs: 30 * DAY,
          http: graph,
          config,
          overlapMs: overlap(name),
          normalize: (r) => normalizeGraphDirectoryAudit(r, source),
          source,
        });
      case 'risk-detections':
        return createGraphLogStream({
          name,
          graphBase: base.graph,
          path: 'identityProtection/riskDetections',
          timeField: 'detectedDateTime',
          pageSize: 500,
          retentionMs: 90 * DAY,
          http: graph,
          config,
          overlapMs: overlap(name),
          normalize: (r) => normalizeGraphRiskDetection(r, source),
          source,
        });
      case 'inbox-rules':
        return createInboxRulesStream({
          graphBase: base.graph,
          http: graph,
          config,
          mailboxes: cfg.mailboxes,
          source,
          sleep: deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
          ...(deps.random ? { random: deps.random } : {}),
        });
    }
  };

  return {
    name: cfg.name,
    type: 'microsoft-365',
    streams: (cfg.streams ?? MICROSOFT_365_STREAMS).map(build),
    async close() {
      graph.close();
      manage.close();
      agent?.destroy();
    },
  };
}
