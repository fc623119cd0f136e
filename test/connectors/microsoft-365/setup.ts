import path from 'node:path';
import { createMicrosoft365Connector, microsoft365ConnectorSchema, type Microsoft365Config } from '../../../connectors/microsoft-365/index.js';
import type { Clock } from '../../../src/clock.js';
import type { VigieEvent } from '../../../src/events.js';
import { silentLogger, type Logger } from '../../../src/log.js';
import type { Connector, LogStream, StateStream, StreamContext } from '../../../src/pipeline/connector.js';
import type { FakeMicrosoft365 } from '../../fakes/microsoft-365/server.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');

/** A connector pointed at the fakes, through the real config schema, with a recording sleep. */
export function connectorFor(fake: FakeMicrosoft365, clock: Clock, over: Record<string, unknown> = {}, log: Logger = silentLogger, httpTimeoutMs?: number) {
  const sleeps: number[] = [];
  const cfg = {
    name: 'hq-m365',
    ...microsoft365ConnectorSchema.parse({
      tenant_id: fake.tenantId,
      client_id: fake.clientId,
      client_secret: fake.clientSecret,
      base_urls: { login: fake.loginUrl, graph: fake.graphUrl, manage: fake.manageUrl },
      ...over,
    }),
  } as Microsoft365Config;
  const connector = createMicrosoft365Connector(cfg, {
    baseDir: ROOT,
    domains: ['party.example'],
    clock,
    log,
    ca: fake.ca,
    random: () => 0.5,
    ...(httpTimeoutMs !== undefined ? { httpTimeoutMs } : {}),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { connector, sleeps, cfg };
}

export function ctxFor(clock: Clock, over: Partial<StreamContext> = {}): StreamContext {
  return { clock, log: silentLogger, signal: new AbortController().signal, backfillMs: 7 * 86_400_000, overlapMs: 0, ...over };
}

export function stream<T extends 'log' | 'state'>(c: Connector, name: string, _kind?: T): T extends 'log' ? LogStream : StateStream {
  const s = c.streams.find((x) => x.name === name);
  if (!s) throw new Error(`no stream ${name}`);
  return s as T extends 'log' ? LogStream : StateStream;
}

/** Runs one pull from `cursor` and returns every page, the events and the last cursor. */
export async function pullAll(s: LogStream, cursor: unknown, ctx: StreamContext) {
  const pages: Array<{ records: unknown[]; cursor: unknown }> = [];
  for await (const p of s.pull(cursor, ctx)) pages.push(p);
  const events: VigieEvent[] = pages.flatMap((p) => p.records.flatMap((r) => s.normalize(r)));
  return { pages, events, cursor: pages.length ? pages.at(-1)!.cursor : cursor };
}
