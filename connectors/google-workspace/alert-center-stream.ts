import type { VigieEvent } from '../../src/events.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import { SCOPES } from './config.js';
import { callGoogle, defaultRetryPolicy, GoogleAccessError } from './google-call.js';
import { accessLostRecord, isMonitorRecord, monitorEvent, type MonitorRecord } from './monitor-record.js';
import { normalizeCenterAlert, type CenterAlert } from './normalize-alert.js';
import type { ApiDeps } from './reports-stream.js';
import { iso, readCursor, windowStart, type WindowCursor } from './window-cursor.js';

const ROOT = 'https://alertcenter.googleapis.com/';
const PAGE_SIZE = 100;

export type AlertRecord = CenterAlert | MonitorRecord;

function missing(subject: string): string {
  return (
    `the admin ${subject} needs the Alert Center privilege (Admin roles > Security Center > Alert Center: view), and the ` +
    `service account's client ID needs the scope ${SCOPES.alerts} in domain-wide delegation`
  );
}

/**
 * Alert Center as a log stream, windowed on createTime. There is no @googleapis package for it at
 * Node 20, so the REST call goes through the auth client's own request().
 */
export function alertCenterStream(deps: ApiDeps): LogStream<AlertRecord> {
  const name = 'alert-center';
  const url = `${deps.rootUrl ?? ROOT}v1beta1/alerts`;
  // Alert Center wants the customer id without the "C" Reports uses; my_customer means "omit it".
  const customerId = deps.customer === 'my_customer' ? undefined : deps.customer.replace(/^C/, '');
  return {
    kind: 'log',
    name,
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<AlertRecord>> {
      const now = ctx.clock.now();
      let committed: WindowCursor | undefined = readCursor(cursor);
      const start = windowStart(committed, ctx, now);
      if (start >= now) return;
      const auth = deps.auth(deps.adminSubject, [SCOPES.alerts]);
      const policy = defaultRetryPolicy(deps.sleep, () => ctx.clock.now());
      const filter = `createTime >= "${iso(start)}" AND createTime < "${iso(now)}"`;
      let pageToken: string | undefined;
      do {
        let res;
        try {
          res = await callGoogle(
            'Alert Center API',
            missing(deps.adminSubject),
            () =>
              auth.request<{ alerts?: CenterAlert[]; nextPageToken?: string }>({
                url,
                method: 'GET',
                params: { ...(customerId && { customerId }), filter, orderBy: 'createTime asc', pageSize: PAGE_SIZE, ...(pageToken && { pageToken }) },
                retry: false,
                signal: ctx.signal,
              }),
            policy,
            ctx.signal,
          );
        } catch (err) {
          if (err instanceof GoogleAccessError) yield { records: [accessLostRecord(err, name, ctx.clock.now())], cursor: committed };
          throw err;
        }
        pageToken = res.data.nextPageToken || undefined;
        if (!pageToken) committed = { end: iso(now) };
        yield { records: res.data.alerts ?? [], cursor: committed };
        if (ctx.signal.aborted) return;
      } while (pageToken);
    },
    normalize(record: AlertRecord): VigieEvent[] {
      if (isMonitorRecord(record)) return [monitorEvent(record, deps.source)];
      return normalizeCenterAlert(record, deps.source);
    },
  };
}
