/**
 * Plain-text helpers for alert text. Attacker-controlled strings (rule names, user agents, cities
 * from a provider) end up in summaries, so every value is flattened to one safe line here.
 */

// C0/C1 controls, line and paragraph separators, and bidi overrides that could reorder a line.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** One line of plain text: unsafe characters become a space, runs of spaces collapse, length capped. */
const UNSAFE_OR_SPACES = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]|\s\s|^\s|\s$/;

export function plainText(value: string, max = 200): string {
  // Most values are already clean: skip the rewriting.
  if (value.length <= max && !UNSAFE_OR_SPACES.test(value)) return value;
  const s = value.replace(UNSAFE, ' ').replace(/\s{2,}/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `2480` → `2,480`; fractions keep one decimal. */
export function formatNumber(n: number): string {
  return NUMBER.format(n);
}

export function formatInteger(n: number): string {
  return INTEGER.format(Math.round(n));
}

/** A human duration: `45 s`, `40 min`, `2 h 5 min`, `3 days`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 600) return s % 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s / 60} min`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const m = min % 60;
  if (h < 48) return m ? `${h} h ${m} min` : `${h} h`;
  const d = ms / 86_400_000;
  return `${formatNumber(Math.round(d * 10) / 10)} days`;
}

/** `2025-03-10 09:35 UTC`: readable and unambiguous. */
export function formatTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function json(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(typeof v);
  }
}

/** Renders any event value as plain text: arrays joined with ", ", objects as compact JSON. */
export function valueText(value: unknown, max = 200): string {
  if (value === undefined || value === null) return 'unknown';
  if (typeof value === 'string') return plainText(value, max) || 'unknown';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    return plainText(value.map((v) => (typeof v === 'string' ? v : json(v))).join(', '), max);
  }
  return plainText(json(value), max);
}

/** "a, b, c, … (+4 more)": a bounded list for explanation lines. */
export function listText(values: readonly string[], shown = 5): string {
  const head = values.slice(0, shown).map((v) => plainText(v, 80));
  const rest = values.length - head.length;
  return rest > 0 ? `${head.join(', ')}, … (+${rest} more)` : head.join(', ');
}
