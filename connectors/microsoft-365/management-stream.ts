import type { VigieEvent } from '../../src/events.js';
import type { HttpClient } from '../../src/http/http-client.js';
import { isHttpError } from '../../src/http/http-error.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import {
  isAccessDenied,
  isUnavailableRecord,
  normalizeUnavailable,
  stillResting,
  unavailableRecord,
  type SkipMark,
  type UnavailableRecord,
} from './access-status.js';
import type { Microsoft365StreamName } from './config.js';

/**
 * One content type of the Office 365 Management Activity API (§B). Listing is filtered on when a
 * blob became available, not on event time, and a blob can show in the listing well after its
 * `contentCreated`: every run re-lists `overlap` (24 h) behind the last listed end and skips the
 * content ids it already fetched. Records inside and across blobs come in any order; the runner
 * dedupes them by record `Id`.
 */
export interface ManagementCursor {
  /** End of the last completely listed window (ms). */
  until?: number;
  /** Content ids already fetched, with their contentCreated (ms), pruned once out of the overlap. */
  done: Record<string, number>;
  skipped?: SkipMark;
}

export interface ManagementStreamOptions {
  name: Microsoft365StreamName;
  contentType: 'Audit.AzureActiveDirectory' | 'Audit.Exchange' | 'Audit.General';
  manageBase: string;
  tenantId: string;
  publisherId?: string;
  http: HttpClient;
  config: string;
  overlapMs: (ctxOverlapMs: number) => number;
  normalize: (record: unknown) => VigieEvent[];
  source: string;
}

const DAY = 86_400_000;
/** The API refuses a start more than 7 days back; keep a margin for the request's own travel time. */
const MAX_LOOKBACK = 7 * DAY - 10 * 60_000;

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** `YYYY-MM-DDTHH:MM:SS`, the format the listing accepts (UTC, no zone). */
function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

interface ContentItem {
  contentId: string;
  contentUri: string;
  contentCreated: number;
}

function readListing(body: unknown): ContentItem[] {
  if (!Array.isArray(body)) return [];
  const out: ContentItem[] = [];
  for (const b of body) {
    if (!b || typeof b !== 'object') continue;
    const o = b as Record<string, unknown>;
    if (typeof o.contentId !== 'string' || typeof o.contentUri !== 'string') continue;
    out.push({ contentId: o.contentId, contentUri: o.contentUri, contentCreated: Date.parse(String(o.contentCreated)) || 0 });
  }
  return out;
}

export function createManagementStream(o: ManagementStreamOptions): LogStream<unknown> {
  const feed = `${o.manageBase}/api/v1.0/${encodeURIComponent(o.tenantId)}/activity/feed`;
  const publisher = o.publisherId ? `&PublisherIdentifier=${encodeURIComponent(o.publisherId)}` : '';
  let subscribed = false;

  async function ensureSubscription(ctx: StreamContext): Promise<void> {
    if (subscribed) return;
    try {
      await o.http.postJson(`${feed}/subscriptions/start?contentType=${o.contentType}${publisher}`, undefined, { signal: ctx.signal });
      ctx.log.info({ content_type: o.contentType }, 'Started the Management Activity API subscription; the first content can take up to 12 hours.');
    } catch (err) {
      // AF20024: already enabled, which is the normal case after the first run.
      if (!(isHttpError(err) && err.providerCode === 'AF20024')) throw err;
    }
    subscribed = true;
  }

  return {
    kind: 'log',
    name: o.name,
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<unknown>> {
      const prev = (cursor ?? { done: {} }) as ManagementCursor;
      const now = ctx.clock.now();
      if (stillResting(prev.skipped, o.config, now)) return;
      const state: ManagementCursor = { ...(prev.until !== undefined ? { until: prev.until } : {}), done: { ...prev.done } };
      const overlap = o.overlapMs(ctx.overlapMs);
      // The API reads whole seconds: windows on whole seconds, or a last window shorter than a
      // second would be sent with startTime equal to endTime, which the API refuses (AF20055).
      const listUntil = wholeSeconds(now);
      let start = wholeSeconds(Math.max(now - MAX_LOOKBACK, (prev.until ?? now - ctx.backfillMs) - overlap));
      try {
        await ensureSubscription(ctx);
        while (start < listUntil) {
          const end = Math.min(listUntil, start + DAY);
          let url: string | undefined = `${feed}/subscriptions/content?contentType=${o.contentType}&startTime=${apiTime(start)}&endTime=${apiTime(end)}${publisher}`;
          while (url) {
            const listing: { headers: Record<string, string>; body: unknown } = await o.http.getJson(url, { signal: ctx.signal });
            url = listing.headers.nextpageuri || undefined;
            for (const item of readListing(listing.body)) {
              if (Object.hasOwn(state.done, item.contentId)) continue;
              const records = await fetchBlob(item, ctx);
              state.done[item.contentId] = item.contentCreated;
              yield { records, cursor: structuredClone(state) };
              if (ctx.signal.aborted) return;
            }
          }
          state.until = end;
          // Ids that the next listing can no longer return are forgotten.
          for (const [id, created] of Object.entries(state.done)) if (created < end - overlap - DAY) delete state.done[id];
          yield { records: [], cursor: structuredClone(state) };
          start = end;
        }
      } catch (err) {
        // A subscription disabled behind our back (AF20022/AF20023) is started again on the next run.
        if (isHttpError(err) && (err.providerCode === 'AF20022' || err.providerCode === 'AF20023')) subscribed = false;
        if (!isAccessDenied(err)) throw err;
        const record = unavailableRecord(o.name, err, now, o.config);
        ctx.log.warn({ stream: o.name, missing: record.missing, provider_code: err.providerCode }, 'A Microsoft 365 stream is not allowed for this tenant; it is skipped until the configuration changes.');
        yield { records: [record], cursor: { ...state, skipped: { reason: record.reason, config: o.config, at: now } } satisfies ManagementCursor };
      }
    },
    normalize(record) {
      if (isUnavailableRecord(record)) return normalizeUnavailable(record, o.source);
      return o.normalize(record);
    },
  };

  /** A blob that expired or vanished is a data gap, said once, not a reason to stop the stream. */
  async function fetchBlob(item: ContentItem, ctx: StreamContext): Promise<unknown[]> {
    try {
      const res = await o.http.getJson(item.contentUri, { signal: ctx.signal });
      return Array.isArray(res.body) ? res.body : [];
    } catch (err) {
      if (!(isHttpError(err) && (err.providerCode === 'AF20051' || err.providerCode === 'AF20050'))) throw err;
      ctx.log.warn({ content_type: o.contentType, provider_code: err.providerCode }, 'An audit content blob is gone; its records are lost.');
      const gap: UnavailableRecord = {
        '@vigie': 'data_gap',
        stream: o.name,
        reason: 'data_gap',
        missing: `audit content ${item.contentId}`,
        message: `Audit content ${item.contentId} (${o.contentType}, available since ${new Date(item.contentCreated).toISOString()}) could not be fetched: ${err.providerCode === 'AF20051' ? 'it expired' : 'it no longer exists'}.`,
        status: err.status ?? 0,
        provider_code: err.providerCode,
        at: new Date(ctx.clock.now()).toISOString(),
        config: o.config,
      };
      return [gap];
    }
  }
}
