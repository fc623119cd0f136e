import cron, { type ScheduledTask } from 'node-cron';
import { errorMessage, VigieError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Connector, Stream } from './connector.js';
import type { Runner, StreamSettings } from './runner.js';

export interface ScheduledStream {
  connector: Connector;
  stream: Stream;
  schedule: string;
  settings: StreamSettings;
}

/**
 * One cron job per (connector, stream). A run that is still going when its next tick comes is not
 * started twice (node-cron `noOverlap`, and the runner's lock across processes).
 */
export function createScheduler(opts: { runner: Runner; streams: ScheduledStream[]; log: Logger; timezone?: string }) {
  const controller = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  const log = opts.log.child({ component: 'scheduler' });

  const runOne = (s: ScheduledStream): Promise<void> => {
    if (controller.signal.aborted) return Promise.resolve();
    const p = opts.runner
      .runStream(s.connector, s.stream, s.settings, controller.signal)
      .then(() => undefined)
      .catch((err: unknown) => {
        if (err instanceof VigieError && err.code === 'STREAM_LOCKED') log.warn({ source: s.connector.name, stream: s.stream.name }, 'Skipped a run: the stream is locked by another run.');
        // Other failures are already logged and recorded by the runner; the next tick retries.
      });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    return p;
  };

  return {
    /** Starts every job and runs each stream once right away, so a restart does not wait a whole interval. */
    start(): void {
      for (const s of opts.streams) {
        const task = cron.schedule(s.schedule, () => runOne(s), {
          name: `${s.connector.name}/${s.stream.name}`,
          noOverlap: true,
          ...(opts.timezone ? { timezone: opts.timezone } : {}),
        });
        tasks.push(task);
        void runOne(s);
      }
      log.info({ streams: opts.streams.length }, 'Scheduler started.');
    },
    /** Stops scheduling, lets each run finish its page in hand, and resolves when all have returned. */
    async stop(): Promise<void> {
      controller.abort();
      await Promise.all(tasks.map(async (t) => {
        try {
          await t.stop();
          await t.destroy();
        } catch (err) {
          log.warn({ error: errorMessage(err) }, 'A scheduled job did not stop cleanly.');
        }
      }));
      await Promise.allSettled([...inFlight]);
      log.info('Scheduler stopped.');
    },
    signal: controller.signal,
  };
}
