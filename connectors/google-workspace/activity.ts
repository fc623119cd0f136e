/** The parts of a Reports API activity (admin#reports#activity) that Vigie reads. */
export interface ActivityParameter {
  name?: string;
  value?: string;
  intValue?: string;
  boolValue?: boolean;
  multiValue?: string[];
  multiIntValue?: string[];
  messageValue?: { parameter?: ActivityParameter[] };
}

export interface ActivityEvent {
  type?: string;
  name?: string;
  parameters?: ActivityParameter[];
}

export interface Activity {
  kind?: string;
  id?: { time?: string; uniqueQualifier?: string; applicationName?: string; customerId?: string };
  actor?: {
    callerType?: string;
    email?: string;
    profileId?: string;
    key?: string;
    applicationInfo?: { applicationName?: string; impersonation?: boolean; oauthClientId?: string };
  };
  ipAddress?: string;
  networkInfo?: { ipAsn?: number[]; regionCode?: string; subdivisionCode?: string };
  events?: ActivityEvent[];
}

export type ParamValue = string | boolean | string[];

/** Flattens an event's parameters by name: booleans, lists, then strings (int values stay strings). */
export function readParams(event: ActivityEvent): Map<string, ParamValue> {
  const out = new Map<string, ParamValue>();
  for (const p of event.parameters ?? []) {
    if (!p || typeof p.name !== 'string') continue;
    if (typeof p.boolValue === 'boolean') out.set(p.name, p.boolValue);
    else if (Array.isArray(p.multiValue)) out.set(p.name, p.multiValue.map(String));
    else if (Array.isArray(p.multiIntValue)) out.set(p.name, p.multiIntValue.map(String));
    else if (typeof p.value === 'string') out.set(p.name, p.value);
    else if (p.intValue !== undefined) out.set(p.name, String(p.intValue));
  }
  return out;
}

export function str(params: Map<string, ParamValue>, name: string): string | undefined {
  const v = params.get(name);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

export function list(params: Map<string, ParamValue>, name: string): string[] {
  const v = params.get(name);
  if (Array.isArray(v)) return v;
  if (typeof v === 'string' && v !== '') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}

export function bool(params: Map<string, ParamValue>, name: string): boolean | undefined {
  const v = params.get(name);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.toLowerCase() === 'true' ? true : v.toLowerCase() === 'false' ? false : undefined;
  return undefined;
}

/** True for what looks like a Reports activity: `vigie replay` recognises them by this. */
export function looksLikeActivity(x: unknown): boolean {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return false;
  const o = x as Activity;
  if (o.kind === 'admin#reports#activity') return true;
  return typeof o.id?.applicationName === 'string' && Array.isArray(o.events);
}
