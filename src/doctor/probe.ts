import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { VigieEvent } from '../events.js';
import type { Logger } from '../log.js';
import type { Connector, Stream, StreamContext } from '../pipeline/connector.js';

export type CheckStatus = 'ok' | 'warn' | 'denied' | 'unlicensed' | 'failed';

export interface StreamCheck {
  source: string;
  type: string;
  stream: string;
  status: CheckStatus;
  /** One sentence: what was read, or what is missing. */
  detail: string;
  /** Event kinds seen in what was read (besides monitor). */
  kinds: string[];
  /** Raw records read (provider shapes), for provider-specific checks. */
  records: unknown[];
}

const DENIED_TYPES = new Set(['licence_missing', 'access_lost']);

/** A monitor event that means "not allowed" (licence, permission, role), as connectors report them. */
function denial(events: VigieEvent[]): VigieEvent | undefined {
  return events.find((e) => e.kind === 'monitor' && DENIED_TYPES.has(String((e.details as Record<string, unknown>).type)));
}

function deniedText(e: VigieEvent): string {
  const d = e.details as Record<string, unknown>;
  const missing = typeof d.missing === 'string' && d.missing ? `needs ${d.missing}` : '';
  const why = typeof d.error === 'string' ? d.error : typeof d.description === 'string' ? d.description : '';
  return [missing, why && `(${why})`].filter(Boolean).join(' ') || 'access denied';
}

/**
 * Reads the first page (log stream) or the first scope (state stream) of one stream, with the
 * connector's own clients, and says whether it works. Nothing is stored: no cursor moves.
 */
export async function probeStream(connector: Connector, stream: Stream, opts: { clock: Clock; log: Logger; timeoutMs: number }): Promise<StreamCheck> {
  const base = { source: connector.name, type: connector.type, stream: stream.name };
  const controller = new AbortController();
  const ctx: StreamContext = {
    clock: opts.clock,
    log: opts.log,
    signal: controller.signal,
    // A day is enough to see whether records flow; the real first run backfills more.
    backfillMs: 86_400_000,
    overlapMs: 0,
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${Math.round(opts.timeoutMs / 1000)} s`));
    }, opts.timeoutMs);
  });
  const read = async (): Promise<{ records: unknown[]; events: VigieEvent[]; pages: number }> => {
    if (stream.kind === 'log') {
      for await (const page of stream.pull(undefined, ctx)) {
        const events: VigieEvent[] = [];
        for (const r of page.records) {
          try {
            events.push(...stream.normalize(r));
          } catch {
            // A malformed record says nothing about access.
          }
        }
        return { records: page.records, events, pages: 1 };
      }
      return { records: [], events: [], pages: 0 };
    }
    for await (const scope of stream.snapshot(ctx)) {
      return { records: scope.objects, events: scope.objects.map((o) => ({ id: o.key, ...o.event }) as VigieEvent), pages: 1 };
    }
    return { records: [], events: [], pages: 0 };
  };
  try {
    const { records, events } = await Promise.race([read(), timeout]);
    const denied = denial(events);
    if (denied) return { ...base, status: 'denied', detail: deniedText(denied), kinds: [], records };
    const kinds = [...new Set(events.filter((e) => e.kind !== 'monitor').map((e) => e.kind))].sort();
    const what = stream.kind === 'log' ? 'record' : 'object';
    return {
      ...base,
      status: 'ok',
      detail: records.length ? `read ${records.length} ${what}${records.length === 1 ? '' : 's'} (first ${stream.kind === 'log' ? 'page' : 'scope'})` : `answers; nothing in the last day`,
      kinds,
      records,
    };
  } catch (err) {
    return { ...base, status: 'failed', detail: errorMessage(err), kinds: [], records: [] };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

export interface ReceiverCheck {
  receiver: string;
  type: string;
  status: CheckStatus;
  detail: string;
}

/** Where a receiver sends to, from its config keys: `url`, or `host` + `port` (SMTP). */
function endpointOf(entry: Record<string, unknown>): { host: string; port: number; tls: boolean; label: string } | undefined {
  if (typeof entry.url === 'string') {
    try {
      const u = new URL(entry.url);
      const tlsOn = u.protocol === 'https:';
      return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (tlsOn ? 443 : 80)), tls: tlsOn, label: `${u.protocol}//${u.host}` };
    } catch {
      return undefined;
    }
  }
  if (typeof entry.host === 'string') {
    const port = typeof entry.port === 'number' ? entry.port : 587;
    return { host: entry.host, port, tls: entry.secure === true || port === 465, label: `${entry.host}:${port}` };
  }
  return undefined;
}

/**
 * Whether a receiver's endpoint can be reached: a TCP (and TLS, for https) connection, nothing
 * sent. `vigie test-alert` sends a real message when that is wanted.
 */
export async function checkReceiver(entry: Record<string, unknown>, opts: { timeoutMs: number; ca?: string }): Promise<ReceiverCheck> {
  const name = String(entry.name);
  const type = String(entry.type);
  if (type === 'console') return { receiver: name, type, status: 'ok', detail: 'writes to the standard output' };
  const ep = endpointOf(entry);
  if (!ep) return { receiver: name, type, status: 'warn', detail: 'no URL or host to check; try `vigie test-alert`' };
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = ep.tls
        ? tls.connect({ host: ep.host, port: ep.port, servername: net.isIP(ep.host) ? undefined : ep.host, ...(opts.ca ? { ca: opts.ca } : {}) }, () => done())
        : net.connect({ host: ep.host, port: ep.port }, () => done());
      const timer = setTimeout(() => fail(new Error(`no connection within ${Math.round(opts.timeoutMs / 1000)} s`)), opts.timeoutMs);
      function done() {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      }
      function fail(err: Error) {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      }
      socket.once('error', fail);
    });
    return { receiver: name, type, status: 'ok', detail: `${ep.label} accepts connections${ep.tls ? ' (TLS verified)' : ''}` };
  } catch (err) {
    return { receiver: name, type, status: 'failed', detail: `${ep.label} cannot be reached: ${errorMessage(err)}` };
  }
}
