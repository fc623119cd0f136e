import type { RecordFormat } from '../../src/pipeline/formats.js';
import { normalizeAuditRecord } from './normalize-audit.js';
import {
  normalizeGraphDirectoryAudit,
  normalizeGraphMessageRule,
  normalizeGraphRiskDetection,
  normalizeGraphSignIn,
} from './normalize-graph.js';
import { isRec } from './record-access.js';

/**
 * What `vigie replay` and the file connector accept from Microsoft 365, recognised by shape
 * (DESIGN §4). Purview CSV exports are text: see purview-csv.ts.
 */
function hasKeysCi(x: unknown, keys: string[]): boolean {
  if (!isRec(x)) return false;
  const lower = new Set(Object.keys(x).map((k) => k.toLowerCase()));
  return keys.every((k) => lower.has(k));
}

const has = (x: unknown, keys: string[]) => isRec(x) && keys.every((k) => k in x);

const SIGNIN_CATEGORIES = new Set(['SignInLogs', 'NonInteractiveUserSignInLogs', 'ServicePrincipalSignInLogs', 'ManagedIdentitySignInLogs']);

export const microsoft365Formats: RecordFormat[] = [
  {
    name: 'microsoft-365.management-activity',
    detect: (r) => hasKeysCi(r, ['recordtype', 'operation', 'creationtime']),
    normalize: (r, source) => normalizeAuditRecord(r, { source }),
  },
  {
    // Graph audit log query API (`/security/auditLog/queries/{id}/records`): the UAL record is in auditData.
    name: 'microsoft-365.audit-log-query-record',
    detect: (r) => has(r, ['auditData', 'operation', 'createdDateTime']) && isRec((r as Record<string, unknown>).auditData),
    normalize: (r, source) => normalizeAuditRecord((r as Record<string, unknown>).auditData, { source }),
  },
  {
    name: 'microsoft-365.graph-signin',
    detect: (r) => has(r, ['userPrincipalName', 'createdDateTime', 'status']),
    normalize: normalizeGraphSignIn,
  },
  {
    name: 'microsoft-365.graph-directory-audit',
    detect: (r) => has(r, ['activityDisplayName', 'activityDateTime']),
    normalize: normalizeGraphDirectoryAudit,
  },
  {
    name: 'microsoft-365.graph-risk-detection',
    detect: (r) => has(r, ['riskEventType', 'detectedDateTime']),
    normalize: normalizeGraphRiskDetection,
  },
  {
    name: 'microsoft-365.graph-message-rule',
    detect: (r) => has(r, ['actions', 'sequence', 'displayName']),
    normalize: (r, source) => normalizeGraphMessageRule(r, source, new Date().toISOString()),
  },
  {
    // Entra logs streamed by Azure Monitor diagnostic settings (storage account, Event Hub, Log Analytics export).
    name: 'microsoft-365.azure-monitor-entra',
    detect: (r) => has(r, ['category', 'properties']) && isRec((r as Record<string, unknown>).properties) && (SIGNIN_CATEGORIES.has(String((r as Record<string, unknown>).category)) || (r as Record<string, unknown>).category === 'AuditLogs'),
    normalize: (r, source) => {
      const o = r as Record<string, unknown>;
      const props = o.properties as Record<string, unknown>;
      if (o.category === 'AuditLogs') return normalizeGraphDirectoryAudit(props, source);
      // Diagnostic exports put the time and caller address at the top level as well.
      return normalizeGraphSignIn({ createdDateTime: o.time, ipAddress: o.callerIpAddress, ...props }, source);
    },
  },
];
