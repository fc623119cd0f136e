/**
 * Named crash points for the crash tests: with VIGIE_FAILPOINT=<name> (and optionally
 * VIGIE_FAILPOINT_HIT=<n>, default 1) the process kills itself with SIGKILL the n-th time it
 * passes that point, exactly as a power cut would.
 */
export type FailpointName = 'after_detect_before_commit' | 'after_commit_before_send' | 'after_send_before_mark';

const hits = new Map<string, number>();

export function failpoint(name: FailpointName): void {
  if (process.env.VIGIE_FAILPOINT !== name) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n >= Number(process.env.VIGIE_FAILPOINT_HIT ?? '1')) process.kill(process.pid, 'SIGKILL');
}
