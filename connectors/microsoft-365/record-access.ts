/**
 * Reading provider records defensively. Management Activity records come with keys in any case
 * (exports, SIEM re-emissions lower-case them), name/value lists, ports glued to addresses and
 * booleans as strings; everything here tolerates that and never throws on a missing field.
 */
export type Rec = Record<string, unknown>;

export function isRec(x: unknown): x is Rec {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A record whose keys are looked up case-insensitively. */
export function ciRecord(r: Rec): (key: string) => unknown {
  const map = new Map<string, unknown>();
  for (const [k, v] of Object.entries(r)) if (!map.has(k.toLowerCase())) map.set(k.toLowerCase(), v);
  return (key) => map.get(key.toLowerCase());
}

export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** `True`/`False`/`$true`/booleans/`1`/`0`; undefined when it is none of them. */
export function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = str(v)?.trim().toLowerCase().replace(/^\$/, '');
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return undefined;
}

/** `[{Name, Value}]` lists (Parameters, ExtendedProperties, OperationProperties) as a case-insensitive map. */
export function nameValues(list: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    if (!isRec(item)) continue;
    const get = ciRecord(item);
    const name = str(get('Name'));
    if (name === undefined || out.has(name.toLowerCase())) continue;
    const value = get('Value') ?? get('NewValue');
    out.set(name.toLowerCase(), typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
  }
  return out;
}

/**
 * An IP address without port or brackets: `198.51.100.7:51000`, `[2001:db8::5]:443`,
 * `::ffff:198.51.100.7`. Undefined for an empty or unusable value.
 */
export function cleanIp(v: unknown): string | undefined {
  let s = str(v)?.trim();
  if (!s) return undefined;
  const bracket = /^\[([0-9a-f:.]+)\](?::\d+)?$/i.exec(s);
  if (bracket) s = bracket[1]!;
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(s)) s = s.slice(0, s.lastIndexOf(':'));
  if (/^::ffff:\d{1,3}(?:\.\d{1,3}){3}$/i.test(s)) s = s.slice(7);
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(s) || (/^[0-9a-f:]+$/i.test(s) && s.includes(':'))) return s.toLowerCase();
  return undefined;
}

/**
 * Mail addresses out of an Exchange parameter value: `smtp:x@y`, `"Name" [SMTP:x@y]`, lists
 * separated by `;` or `,`. A bare name (an Exchange recipient identity) is kept as written:
 * enrichment treats it as inside the organisation, which is what Exchange resolved it to.
 */
export function addresses(v: unknown): string[] {
  const out = new Set<string>();
  const values = Array.isArray(v) ? v.map(str).filter((x): x is string => x !== undefined) : [str(v) ?? ''];
  for (const value of values) {
    for (const part of value.split(/[;,]/)) {
      const p = part.trim();
      if (!p) continue;
      const found = p.match(/[^\s"'<>[\]():;,]+@[^\s"'<>[\]():;,]+/g);
      if (found) for (const f of found) out.add(f.replace(/^smtp:/i, '').toLowerCase());
      else out.add(p.replace(/^smtp:/i, '').replace(/^"|"$/g, '').toLowerCase());
    }
  }
  return [...out];
}

/** UTC time of a record: `2024-03-05T08:12:44` (no zone, Management API) or full ISO-8601. */
export function isoTime(v: unknown): string {
  const s = str(v)?.trim();
  if (!s) throw new Error('the record has no time');
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) throw new Error(`"${s.slice(0, 40)}" is not a time`);
  return new Date(ms).toISOString();
}

export function lower(v: unknown): string | undefined {
  const s = str(v)?.trim();
  return s ? s.toLowerCase() : undefined;
}

/** Graph `modifiedProperties` values are JSON-encoded strings (`"\"False\""`); UAL ones are plain. */
export function decodeValue(v: unknown): string {
  const s = str(v);
  if (s === undefined) return '';
  try {
    const parsed = JSON.parse(s) as unknown;
    if (typeof parsed === 'string') return parsed;
    if (Array.isArray(parsed)) return parsed.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
    return s;
  } catch {
    return s;
  }
}

/** The scopes out of `ConsentAction.Permissions` (`... Scope: Mail.Read offline_access, CreatedDateTime ...`). */
export function consentScopes(text: string): string[] {
  const scopes = new Set<string>();
  for (const m of text.matchAll(/Scope:\s*([^,\]]*)/gi)) for (const s of m[1]!.trim().split(/\s+/)) if (s) scopes.add(s);
  return [...scopes];
}
