import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { VigieEvent } from '../events.js';

/**
 * The contract between the core and a connector (DESIGN §4). Connectors only fetch and translate:
 * locking, cursors, retries of the run, dedupe, metrics and the transaction belong to the runner.
 */
export interface StreamContext {
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
  /** How far a first run looks back. */
  backfillMs: number;
  /** How much each window re-reads behind the cursor (late and out-of-order delivery). */
  overlapMs: number;
}

export interface LogPage<R = unknown> {
  records: R[];
  /** Opaque JSON owned by the connector: where to resume *after* this page. */
  cursor: unknown;
}

/** An append-only provider log (sign-ins, audit records, Dovecot log). */
export interface LogStream<R = unknown> {
  kind: 'log';
  name: string;
  /**
   * Whether a first run's backfill only feeds baselines (default true). Streams that replay
   * exported files whose events are all "old" turn it off.
   */
  learnFromBackfill?: boolean;
  pull(cursor: unknown | undefined, ctx: StreamContext): AsyncIterable<LogPage<R>>;
  /** Pure. Throws on a malformed record; the runner logs and skips it. */
  normalize(record: R): VigieEvent[];
}

/**
 * One object of current state. `event` is what the object means, without `id` and `details.change`:
 * the core diffs snapshots and fills those in.
 */
export interface SnapshotObject {
  key: string;
  event: Omit<VigieEvent, 'id'>;
}

export interface SnapshotScope {
  /** e.g. one mailbox. Objects of scopes that are not yielded in a run are left as they were. */
  scope: string;
  objects: SnapshotObject[];
}

/** Current state that logs miss or that predates Vigie (inbox rules, forwarding, Sieve scripts). */
export interface StateStream {
  kind: 'state';
  name: string;
  snapshot(ctx: StreamContext): AsyncIterable<SnapshotScope>;
}

export type Stream = LogStream | StateStream;

export interface Connector {
  /** The instance name from the config (`source` on every event). */
  name: string;
  type: string;
  streams: Stream[];
  close?(): Promise<void>;
}
