/** Every component takes a clock so that tests control time and never sleep. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function fixedClock(start: number | string): Clock & { advance(ms: number): void; set(t: number | string): void } {
  let t = typeof start === 'string' ? Date.parse(start) : start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
    set: (v: number | string) => {
      t = typeof v === 'string' ? Date.parse(v) : v;
    },
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `30m`, `24h`, `7d`, `2w` (or a bare number of milliseconds). */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (use e.g. 90s, 30m, 24h, 7d)`);
  return Math.round(Number(m[1]) * UNITS[m[2] as string]!);
}

export const DURATION_PATTERN = /^\s*\d+(?:\.\d+)?\s*(ms|s|m|h|d|w)\s*$/;
