import { afterEach } from 'vitest';
import { fixedClock } from '../../../src/clock.js';
import { silentLogger } from '../../../src/log.js';
import type { LogPage, LogStream, StateStream, StreamContext, SnapshotScope } from '../../../src/pipeline/connector.js';
import { createGoogleWorkspaceConnector, googleWorkspaceConnectorSchema } from '../../../connectors/google-workspace/index.js';
import { fakeAuth, startGoogleFake, type GoogleFake, type GoogleFakeOptions } from '../../fakes/google-workspace/server.js';
import { STORY } from '../../fakes/google-workspace/dataset.js';

export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const fakes: GoogleFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

/** A fake Google, a connector pointed at it, test auth, and a sleep that only records its delays. */
export async function setup(opts: { at?: number | string; fake?: Omit<GoogleFakeOptions, 'clock'>; config?: Record<string, unknown> } = {}) {
  const clock = fixedClock(opts.at ?? STORY.end);
  const fake = await startGoogleFake({ clock, ...opts.fake });
  fakes.push(fake);
  const auth = fakeAuth();
  const sleeps: number[] = [];
  const cfg = {
    name: 'party-google',
    ...googleWorkspaceConnectorSchema.parse({
      service_account_file: '/nonexistent/key.json',
      admin_subject: STORY.admin,
      base_url: fake.url,
      gmail_settings: true,
      ...opts.config,
    }),
  };
  const connector = createGoogleWorkspaceConnector(cfg, {
    baseDir: '/',
    domains: [STORY.domain],
    clock,
    log: silentLogger,
    auth,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  const stream = (name: string) => {
    const s = connector.streams.find((x) => x.name === name);
    if (!s) throw new Error(`no stream ${name}`);
    return s;
  };
  const ctx = (over: Partial<StreamContext> = {}): StreamContext => ({
    clock,
    log: silentLogger,
    signal: new AbortController().signal,
    backfillMs: 10 * DAY,
    overlapMs: 3 * HOUR,
    ...over,
  });
  return { clock, fake, auth, sleeps, connector, stream, ctx, cfg };
}

/** Every page of one pull, and the error that ended it if any. */
export async function pullAll<R>(stream: LogStream<R>, cursor: unknown, ctx: StreamContext): Promise<{ pages: LogPage<R>[]; error?: unknown }> {
  const pages: LogPage<R>[] = [];
  try {
    for await (const p of stream.pull(cursor, ctx)) pages.push(p);
  } catch (error) {
    return { pages, error };
  }
  return { pages };
}

export async function snapshotAll(stream: StateStream, ctx: StreamContext): Promise<SnapshotScope[]> {
  const out: SnapshotScope[] = [];
  for await (const s of stream.snapshot(ctx)) out.push(s);
  return out;
}

export { STORY };
