import type { StreamContext } from '../../src/pipeline/connector.js';

/**
 * A Reports or Alert Center cursor: everything before `end` has been read completely once. The
 * next window starts `overlap` earlier, because Google delivers late and out of order.
 */
export interface WindowCursor {
  end: string;
}

/** Reports keeps 180 days; asking for more is an error. */
const MAX_LOOKBACK_MS = 180 * 86_400_000 - 3_600_000;

export function readCursor(cursor: unknown): WindowCursor | undefined {
  if (!cursor || typeof cursor !== 'object') return undefined;
  const end = (cursor as { end?: unknown }).end;
  return typeof end === 'string' && !Number.isNaN(Date.parse(end)) ? { end } : undefined;
}

/** Where the next window starts: the cursor minus the overlap, or the backfill on a first run. */
export function windowStart(cursor: WindowCursor | undefined, ctx: StreamContext, now: number): number {
  const start = cursor ? Date.parse(cursor.end) - ctx.overlapMs : now - ctx.backfillMs;
  return Math.max(start, now - MAX_LOOKBACK_MS);
}

/** Splits [start, end) into windows of at most `size`, oldest first, so a long backfill commits as it goes. */
export function windows(start: number, end: number, size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let s = start; s < end; s += size) out.push([s, Math.min(end, s + size)]);
  return out;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
