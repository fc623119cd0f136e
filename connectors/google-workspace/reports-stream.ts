import { admin } from '@googleapis/admin';
import type { VigieEvent } from '../../src/events.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import type { Activity } from './activity.js';
import type { AuthFactory } from './auth.js';
import { SCOPES } from './config.js';
import { callGoogle, defaultRetryPolicy, GoogleAccessError, type Sleep } from './google-call.js';
import { accessLostRecord, isMonitorRecord, monitorEvent, type MonitorRecord } from './monitor-record.js';
import { normalizeActivity } from './normalize-activity.js';
import { iso, readCursor, windows, windowStart, type WindowCursor } from './window-cursor.js';

export interface ApiDeps {
  source: string;
  adminSubject: string;
  customer: string;
  rootUrl?: string;
  auth: AuthFactory;
  sleep: Sleep;
}

/** A backfill is read a day at a time, so a crash costs at most a day of re-reading. */
const WINDOW_MS = 86_400_000;
const PAGE_SIZE = 1000;

export type ReportsRecord = Activity | MonitorRecord;

export function reportsMissing(subject: string): string {
  return (
    `the admin ${subject} needs the "Reports" admin privilege (Admin console > Account > Admin roles), and the ` +
    `service account's client ID needs the scope ${SCOPES.reports} (Security > Access and data control > API controls > Domain-wide delegation)`
  );
}

/**
 * One Reports API application as a log stream. Google lists newest first, so a window is only
 * committed once all its pages are read; a page token never outlives its window.
 */
export function reportsStream(application: string, deps: ApiDeps): LogStream<ReportsRecord> {
  const name = `reports-${application}`;
  return {
    kind: 'log',
    name,
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<ReportsRecord>> {
      const now = ctx.clock.now();
      let committed: WindowCursor | undefined = readCursor(cursor);
      const client = admin({
        version: 'reports_v1',
        auth: deps.auth(deps.adminSubject, [SCOPES.reports]),
        ...(deps.rootUrl && { rootUrl: deps.rootUrl }),
      });
      const policy = defaultRetryPolicy(deps.sleep, () => ctx.clock.now());
      for (const [start, end] of windows(windowStart(committed, ctx, now), now, WINDOW_MS)) {
        let pageToken: string | undefined;
        do {
          let res;
          try {
            res = await callGoogle(
              `Reports API (${application})`,
              reportsMissing(deps.adminSubject),
              () =>
                client.activities.list(
                  {
                    userKey: 'all',
                    applicationName: application,
                    customerId: deps.customer === 'my_customer' ? undefined : deps.customer,
                    startTime: iso(start),
                    endTime: iso(end),
                    maxResults: PAGE_SIZE,
                    ...(pageToken && { pageToken }),
                  },
                  { retry: false, signal: ctx.signal },
                ),
              policy,
              ctx.signal,
            );
          } catch (err) {
            if (err instanceof GoogleAccessError) {
              yield { records: [accessLostRecord(err, name, ctx.clock.now())], cursor: committed };
            }
            throw err;
          }
          pageToken = res.data.nextPageToken ?? undefined;
          if (!pageToken) committed = { end: iso(end) };
          yield { records: (res.data.items ?? []) as Activity[], cursor: committed };
          if (ctx.signal.aborted) return;
        } while (pageToken);
      }
    },
    normalize(record: ReportsRecord): VigieEvent[] {
      if (isMonitorRecord(record)) return [monitorEvent(record, deps.source)];
      return normalizeActivity(record, deps.source);
    },
  };
}
