import { Worker } from 'node:worker_threads';

/**
 * Named crash points for the crash tests: with VIGIE_FAILPOINT=<name> (and optionally
 * VIGIE_FAILPOINT_HIT=<n>, default 1) the process kills itself with SIGKILL the n-th time it
 * passes that point, exactly as a power cut would.
 */
export type FailpointName = 'after_detect_before_commit' | 'after_commit_before_send' | 'after_send_before_mark';

const hits = new Map<string, number>();

function reached(name: string): boolean {
  if (process.env.VIGIE_FAILPOINT !== name) return false;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  return n >= Number(process.env.VIGIE_FAILPOINT_HIT ?? '1');
}

export function failpoint(name: FailpointName): void {
  if (reached(name)) process.kill(process.pid, 'SIGKILL');
}

/**
 * `during_checkpoint`: runs `checkpoint` (a synchronous WAL checkpoint) while another thread
 * sends SIGKILL after VIGIE_FAILPOINT_DELAY_US microseconds (default 0–300, random), so that the
 * kill lands while SQLite copies the WAL into the database file. If the checkpoint was faster
 * than the delay, the process still dies right after it. Without the variable this does nothing.
 */
export function checkpointFailpoint(checkpoint: () => void): void {
  if (!reached('during_checkpoint')) return;
  const delayUs = Number(process.env.VIGIE_FAILPOINT_DELAY_US ?? Math.floor(Math.random() * 300));
  const flag = new Int32Array(new SharedArrayBuffer(4));
  // The worker spins (no timers: the main thread is blocked inside SQLite) and then kills us.
  new Worker(
    `const { workerData } = require('node:worker_threads');
     const flag = workerData.flag;
     while (Atomics.load(flag, 0) === 0) {}
     const end = process.hrtime.bigint() + BigInt(workerData.delayUs) * 1000n;
     while (process.hrtime.bigint() < end) {}
     process.kill(process.pid, 'SIGKILL');`,
    { eval: true, workerData: { flag, delayUs } },
  );
  // Give the worker time to start before the checkpoint begins.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  Atomics.store(flag, 0, 1);
  checkpoint();
  // Never go on: the point of this fail point is that the process dies here.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
}
