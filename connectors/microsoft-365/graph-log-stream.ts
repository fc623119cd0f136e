import type { VigieEvent } from '../../src/events.js';
import type { HttpClient } from '../../src/http/http-client.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import {
  isAccessDenied,
  isUnavailableRecord,
  normalizeUnavailable,
  stillResting,
  unavailableRecord,
  type SkipMark,
} from './access-status.js';
import type { Microsoft365StreamName } from './config.js';

/**
 * A Graph log (sign-ins, directory audits, risk detections) read in time windows: each run reads
 * `[last end − overlap, now]` with `$filter` on the time field and follows `@odata.nextLink`. The
 * cursor only moves when a window is complete, so a paging link that fails mid-run restarts the
 * window instead of skipping the rest of it (P13).
 */
export interface GraphCursor {
  since?: number;
  skipped?: SkipMark;
}

export interface GraphLogStreamOptions {
  name: Microsoft365StreamName;
  graphBase: string;
  /** e.g. `auditLogs/signIns` */
  path: string;
  timeField: string;
  pageSize: number;
  /** How far back the API keeps data (7 d on free tenants). */
  retentionMs: number;
  http: HttpClient;
  config: string;
  overlapMs: (ctxOverlapMs: number) => number;
  normalize: (record: unknown) => VigieEvent[];
  source: string;
}

export function createGraphLogStream(o: GraphLogStreamOptions): LogStream<unknown> {
  return {
    kind: 'log',
    name: o.name,
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<unknown>> {
      const prev = (cursor ?? {}) as GraphCursor;
      const now = ctx.clock.now();
      if (stillResting(prev.skipped, o.config, now)) return;
      const from = Math.max(now - o.retentionMs, (prev.since ?? now - ctx.backfillMs) - o.overlapMs(ctx.overlapMs));
      const filter = `${o.timeField} ge ${new Date(from).toISOString()} and ${o.timeField} le ${new Date(now).toISOString()}`;
      let url: string | undefined = `${o.graphBase}/v1.0/${o.path}?$filter=${encodeURIComponent(filter)}&$top=${o.pageSize}`;
      const keep: GraphCursor = prev.since !== undefined ? { since: prev.since } : {};
      try {
        while (url) {
          const res: { body: { value?: unknown[]; '@odata.nextLink'?: unknown } } = await o.http.getJson(url, { signal: ctx.signal });
          const next = res.body['@odata.nextLink'];
          url = typeof next === 'string' ? next : undefined;
          yield { records: Array.isArray(res.body.value) ? res.body.value : [], cursor: url ? keep : { since: now } };
          if (ctx.signal.aborted) return;
        }
      } catch (err) {
        if (!isAccessDenied(err)) throw err;
        const record = unavailableRecord(o.name, err, now, o.config);
        ctx.log.warn({ stream: o.name, missing: record.missing, provider_code: err.providerCode }, 'A Microsoft 365 stream is not allowed for this tenant; it is skipped until the configuration changes.');
        yield { records: [record], cursor: { ...keep, skipped: { reason: record.reason, config: o.config, at: now } } satisfies GraphCursor };
      }
    },
    normalize(record) {
      if (isUnavailableRecord(record)) return normalizeUnavailable(record, o.source);
      return o.normalize(record);
    },
  };
}
