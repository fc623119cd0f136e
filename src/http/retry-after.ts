/** `Retry-After` as delta-seconds or an HTTP-date, in ms from `now`; undefined when absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Exponential backoff with full jitter (AWS architecture blog): spreads retries of many clients
 * hit by the same throttle instead of synchronising them. `attempt` starts at 1.
 */
export function backoffMs(attempt: number, opts: { baseMs: number; maxMs: number; random: () => number }): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  // Never zero: half the ceiling is guaranteed, the other half is jitter.
  return Math.round(ceiling / 2 + (opts.random() * ceiling) / 2);
}
