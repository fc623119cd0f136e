import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { systemClock, type Clock } from '../../src/clock.js';
import { cidrContains, parseCidr, parseIp, type CidrRange } from '../../src/engine/cidr.js';
import { SourceError, VigieError } from '../../src/errors.js';
import type { VigieEvent } from '../../src/events.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import type { TextFormat } from '../../src/pipeline/formats.js';
import { accountAddress } from './config.js';

/**
 * Dovecot 2.3 log lines (log_path with `%b %d %H:%M:%S`, syslog, or ISO timestamps) turned into
 * sign-ins and mailbox downloads. Three parts: a pure line parser, a bounded session tracker that
 * joins a logout to its login (and recognises the monitor's own master-user sessions), and the
 * event builder. The TextFormat (for `vigie replay`) and the LogStream (a live file, across
 * rotations) are both built from them.
 */

// ---------------------------------------------------------------------------------------------
// 1. Lines

export type LoginService = 'imap' | 'pop3' | 'submission' | 'managesieve' | 'lmtp' | 'other';

export type DovecotLine =
  | { kind: 'login'; time: string; service: LoginService; user: string; method?: string; rip?: string; session?: string }
  | {
      kind: 'login-failed';
      time: string;
      service: LoginService;
      user: string;
      reason: string;
      attempts?: number;
      method?: string;
      rip?: string;
      session?: string;
    }
  | { kind: 'auth-result'; time: string; user: string; rip?: string; session?: string; reason: string }
  | { kind: 'master-login'; time: string; user: string; session?: string }
  | { kind: 'logout'; time: string; service: LoginService; user: string; session?: string; items: number; bytes: number };

export interface LineContext {
  /** Milliseconds: lines without a year get the latest year that does not put them in the future. */
  now: number;
  /** IANA zone of timestamps without an offset; default the zone of this process. */
  timeZone?: string;
}

const MAX_LINE_CHARS = 16 * 1024;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const BSD_TIME = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? /;
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})? /;
const SYSLOG_HOST = /^\S+ dovecot(?:\[\d+\])?: /;
/** `imap-login`, `imap(alice)<29068><SnOH20Vhkt9/AAAB>`, `auth-worker(123)`, then an optional level. */
const PROCESS = /^([a-z][a-z0-9-]{0,40})(?:\((.{0,512}?)\))?((?:<[^<>]{0,64}>){0,2}): (?:(?:Info|Warning|Error|Fatal|Panic|Debug): )?/;
const LOGIN_SERVICES: Record<string, LoginService> = { imap: 'imap', pop3: 'pop3', submission: 'submission', managesieve: 'managesieve', lmtp: 'lmtp' };
/** Reasons a login process gives for a failed login (client_get_extra_disconnect_reason, 2.3 and 2.4). */
const FAILURE_REASONS: Array<[RegExp, string]> = [
  [/\(auth failed, (\d+) attempts?/, 'auth_failed'],
  [/\(authorization failed, (\d+) attempts?/, 'authorization_failed'],
  [/\(user disabled\)/, 'user_disabled'],
  [/\(password expired\)/, 'password_expired'],
  [/\(tried to use disallowed plaintext auth\)/, 'plaintext_disallowed'],
];

function serviceOf(name: string): LoginService {
  return LOGIN_SERVICES[name] ?? 'other';
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();
/** Offsets change at most on the hour: one Intl call per zone and hour, not per line. */
const offsetCache = new Map<string, number>();

/** Offset of `timeZone` from UTC at `instant`, in ms. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const key = `${timeZone}:${Math.floor(instant / 3_600_000)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const offset = computeZoneOffsetMs(instant, timeZone);
  if (offsetCache.size > 4096) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

function computeZoneOffsetMs(instant: number, timeZone: string): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(instant)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** A wall-clock time in a zone (or in this process's zone) as epoch ms; NaN when the date does not exist. */
function wallToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number, timeZone: string | undefined): number {
  const probe = new Date(Date.UTC(y, mo, d));
  if (probe.getUTCMonth() !== mo || probe.getUTCDate() !== d || h > 23 || mi > 59 || s > 60) return NaN;
  if (!timeZone) return new Date(y, mo, d, h, mi, s, ms).getTime();
  if (timeZone === 'UTC') return Date.UTC(y, mo, d, h, mi, s, ms);
  const guess = Date.UTC(y, mo, d, h, mi, s, ms);
  const first = guess - zoneOffsetMs(guess, timeZone);
  const second = zoneOffsetMs(first, timeZone);
  return guess - second;
}

/** A server clock or zone slightly ahead of ours must not push a fresh line into last year. */
const FUTURE_TOLERANCE_MS = 86_400_000;

function parseTimestamp(text: string, ctx: LineContext): { time: number; rest: string } | undefined {
  let m = BSD_TIME.exec(text);
  if (m) {
    const month = MONTHS[m[1]!];
    if (month === undefined) return undefined;
    const ms = m[6] ? Number(m[6].slice(0, 3).padEnd(3, '0')) : 0;
    const thisYear = new Date(ctx.now).getUTCFullYear() + 1;
    // The latest year in which this date exists and is not in the future (Feb 29 looks back to a leap year).
    for (let y = thisYear; y > thisYear - 9; y--) {
      const t = wallToEpoch(y, month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), ms, ctx.timeZone);
      if (!Number.isNaN(t) && t <= ctx.now + FUTURE_TOLERANCE_MS) return { time: t, rest: text.slice(m[0].length) };
    }
    return undefined;
  }
  m = ISO_TIME.exec(text);
  if (m) {
    const [, y, mo, d, h, mi, s, frac, zone] = m;
    const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
    let t: number;
    if (zone) {
      const utc = wallToEpoch(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms, 'UTC');
      const off = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) * 60_000;
      t = utc - off;
    } else {
      t = wallToEpoch(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms, ctx.timeZone);
    }
    return Number.isNaN(t) ? undefined : { time: t, rest: text.slice(m[0].length) };
  }
  return undefined;
}

/** `key=value` counters of a logout line (`body_count=12`, `retr=5/1234`). */
function counters(msg: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of msg.matchAll(/(?:^|[\s,])([a-z_]{1,32})=([0-9][0-9/]{0,40})(?=[\s,]|$)/g)) out.set(m[1]!, m[2]!);
  return out;
}

function num(s: string | undefined): number {
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

/**
 * The elements of a login line: `user=<u>, method=M, rip=R, lip=L, mpid=P, secured, session=<S>`.
 * The user of a failed login is whatever the client sent: the elements after it are read from the
 * end, so a user name holding `>, rip=...` cannot forge them.
 */
function loginElements(text: string): { user: string; method?: string; rip?: string; session?: string } | undefined {
  const start = text.indexOf('user=<');
  if (start < 0) return undefined;
  const after = text.slice(start + 6);
  const session = /(?:^|, )session=<([^<>]{1,64})>$/.exec(after)?.[1];
  // The user ends before the first element Dovecot writes after it (method in the default format);
  // its last occurrence is the real one, since everything the client chose comes before it.
  let userEnd = -1;
  for (const key of ['method=', 'rip=', 'lip=', 'mpid=', 'session=']) {
    userEnd = after.lastIndexOf(`>, ${key}`);
    if (userEnd >= 0) break;
  }
  if (userEnd < 0) userEnd = after.endsWith('>') ? after.length - 1 : -1;
  if (userEnd < 0) return undefined;
  const user = after.slice(0, userEnd);
  const tail = after.slice(userEnd + 1);
  const el = (key: string): string | undefined => {
    const at = tail.lastIndexOf(`, ${key}=`);
    if (at < 0) return undefined;
    const value = tail.slice(at + key.length + 3).split(',', 1)[0]!;
    return value || undefined;
  };
  const rip = el('rip');
  const method = el('method');
  return {
    user,
    ...(method !== undefined && /^[A-Za-z0-9_-]{1,32}$/.test(method) && { method }),
    ...(rip !== undefined && parseIp(rip) && { rip }),
    ...(session !== undefined && { session }),
  };
}

/** Reads one line. Lines that are not about logins, auth or logouts, or that we cannot read, are undefined. */
export function parseDovecotLine(raw: string, ctx: LineContext): DovecotLine | undefined {
  try {
    if (typeof raw !== 'string' || raw.length > MAX_LINE_CHARS) return undefined;
    const text = raw.replace(/\r$/, '');
    const ts = parseTimestamp(text, ctx);
    if (!ts) return undefined;
    const time = new Date(ts.time).toISOString();
    const rest = ts.rest.replace(SYSLOG_HOST, '');
    const p = PROCESS.exec(rest);
    if (!p) return undefined;
    const proc = p[1]!;
    const procUser = p[2];
    const ids = [...(p[3] ?? '').matchAll(/<([^<>]*)>/g)].map((x) => x[1]!);
    const msg = rest.slice(p[0].length);

    if (proc.endsWith('-login')) {
      const service = serviceOf(proc.slice(0, -'-login'.length));
      if (msg.startsWith('Login: ')) {
        const el = loginElements(msg);
        return el ? { kind: 'login', time, service, ...el } : undefined;
      }
      if (/^(?:Disconnected|Aborted login|Login aborted)\b/.test(msg)) {
        for (const [re, reason] of FAILURE_REASONS) {
          const m = re.exec(msg);
          if (!m) continue;
          const el = loginElements(msg);
          if (!el || el.user === '') return undefined;
          return { kind: 'login-failed', time, service, reason, ...(m[1] !== undefined && { attempts: Number(m[1]) }), ...el };
        }
      }
      return undefined;
    }

    if (proc === 'auth' || proc === 'auth-worker') {
      // `Master user logging in as alice`, bare or behind a passdb prefix.
      const master = /(?:^|: )Master user logging in as (.{1,512})$/.exec(msg);
      if (master) {
        const pre = /^[a-z0-9_-]+\(.*,[^,]*,<([^<>]{1,64})>\): /.exec(msg);
        return { kind: 'master-login', time, user: master[1]!, ...(pre && { session: pre[1]! }) };
      }
      // `passwd-file(user,ip,<session>): Password mismatch` (`...,ip,master,<session>` for a master passdb):
      // the user may hold commas, the ip and session cannot.
      const m = /^[a-z0-9_-]{1,32}\((.{0,512}),([0-9a-fA-F.:]{0,64})(?:,[a-z]{1,16})?,<([^<>]{0,64})>\): (.{1,300})$/.exec(msg);
      if (!m) return undefined;
      const what = m[4]!;
      const reason = /^Password mismatch/.test(what)
        ? 'password_mismatch'
        : /^unknown user/.test(what)
          ? 'unknown_user'
          : /^(?:Account|User) (?:is )?disabled|^user disabled/i.test(what)
            ? 'user_disabled'
            : /password expired/i.test(what)
              ? 'password_expired'
              : /^allow_nets check failed/.test(what)
                ? 'ip_not_allowed'
                : undefined;
      if (!reason) return undefined;
      return { kind: 'auth-result', time, user: m[1]!, ...(m[2] && { rip: m[2] }), ...(m[3] && { session: m[3] }), reason };
    }

    const service = LOGIN_SERVICES[proc];
    if (service && procUser !== undefined && /(?:^|: )(?:Disconnected|Logged out|Connection closed)\b/.test(msg)) {
      const c = counters(msg);
      let items = 0;
      let bytes = 0;
      if (service === 'imap') {
        items = num(c.get('body_count'));
        bytes = num(c.get('body_bytes'));
      } else if (service === 'pop3') {
        const [n, b] = (c.get('retr') ?? '').split('/');
        items = num(n);
        bytes = num(b);
      }
      const session = ids[1];
      return { kind: 'logout', time, service, user: procUser, ...(session && { session }), items, bytes };
    }
    return undefined;
  } catch {
    return undefined;
  }
}

const DOVECOT_PROCESS_LINE =
  /^(?:(?:master|imap|pop3|submission|managesieve|lmtp|lda|auth|auth-worker|config|log|anvil|stats|indexer|indexer-worker|doveadm)(?:\([^)]*\))?(?:<[^<>]*>){0,2}: (?:Info|Warning|Error|Fatal|Panic|Debug): |(?:imap|pop3|submission|managesieve)-login: )/;

/** True when one of the first lines of a text looks like a Dovecot log line (log_path or syslog). */
export function looksLikeDovecotLog(firstLines: string[], now = Date.now()): boolean {
  return firstLines.some((l) => {
    const ts = parseTimestamp(l, { now, timeZone: 'UTC' });
    return !!ts && (/^\S+ dovecot(?:\[\d+\])?: /.test(ts.rest) || DOVECOT_PROCESS_LINE.test(ts.rest));
  });
}

// ---------------------------------------------------------------------------------------------
// 2. Sessions

/** What a logout needs from its login, carried across runs in the cursor. */
export interface SessionInfo {
  user: string;
  ip?: string;
  service: LoginService;
  method?: string;
  /** Epoch ms of the login. */
  at: number;
  /** A session the monitor itself opened (master-user login). */
  monitor?: true;
}

/** Serialisable and bounded: it rides in the stream cursor. */
export interface TrackerState {
  sessions: Array<[string, SessionInfo]>;
  /** Failure reasons from `auth:` lines, waiting for their login process's disconnect line. */
  reasons: Array<[string, string]>;
  /** Master-user logins not yet matched to a login line: [user, epoch ms]. */
  masters: Array<[string, number]>;
}

/** The join result a line's events depend on: travels with the raw line so that normalize stays pure. */
export type Join = { login?: SessionInfo; reason?: string; monitor?: true };

const MAX_SESSIONS = 5000;
const MAX_REASONS = 2000;
const MAX_MASTERS = 200;
/** IMAP sessions last hours, IDLE ones days; a login older than this lost its logout line. */
const SESSION_TTL_MS = 14 * 86_400_000;
/** How long after `Master user logging in as X` the login line of X may come. */
const MASTER_WINDOW_MS = 60_000;

function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
}

export class SessionTracker {
  #sessions = new Map<string, SessionInfo>();
  #reasons = new Map<string, string>();
  #masters: Array<[string, number]> = [];
  #latest = 0;

  constructor(state?: TrackerState) {
    if (!state) return;
    for (const [k, v] of state.sessions ?? []) this.#sessions.set(k, v);
    for (const [k, v] of state.reasons ?? []) this.#reasons.set(k, v);
    this.#masters = [...(state.masters ?? [])];
  }

  /** Updates the state with one line and returns what its events need. */
  observe(line: DovecotLine): Join | undefined {
    const at = Date.parse(line.time);
    if (at > this.#latest) this.#latest = at;
    switch (line.kind) {
      case 'master-login': {
        this.#masters.push([line.user.toLowerCase(), at]);
        if (this.#masters.length > MAX_MASTERS) this.#masters.shift();
        return undefined;
      }
      case 'auth-result':
        if (line.session) boundedSet(this.#reasons, line.session, line.reason, MAX_REASONS);
        return undefined;
      case 'login': {
        const user = line.user.toLowerCase();
        const k = this.#masters.findIndex(([u, t]) => u === user && at - t <= MASTER_WINDOW_MS && t - at <= MASTER_WINDOW_MS);
        const monitor = k >= 0;
        if (monitor) this.#masters.splice(k, 1);
        const info: SessionInfo = {
          user: line.user,
          service: line.service,
          at,
          ...(line.rip !== undefined && { ip: line.rip }),
          ...(line.method !== undefined && { method: line.method }),
          ...(monitor && { monitor: true as const }),
        };
        if (line.session) boundedSet(this.#sessions, line.session, info, MAX_SESSIONS);
        return monitor ? { monitor: true } : {};
      }
      case 'login-failed': {
        const reason = line.session ? this.#reasons.get(line.session) : undefined;
        if (line.session) this.#reasons.delete(line.session);
        return reason ? { reason } : {};
      }
      case 'logout': {
        const login = line.session ? this.#sessions.get(line.session) : undefined;
        if (line.session) this.#sessions.delete(line.session);
        return login ? { login } : {};
      }
    }
  }

  state(): TrackerState {
    const cutoff = this.#latest - SESSION_TTL_MS;
    return {
      sessions: [...this.#sessions].filter(([, s]) => s.at >= cutoff),
      reasons: [...this.#reasons],
      masters: this.#masters.filter(([, t]) => t >= this.#latest - MASTER_WINDOW_MS),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Events

export interface EventOptions {
  source: string;
  /** Appended to bare user names. */
  domain?: string;
  /** The monitor's own addresses: their sessions are not reported. */
  excludeIps?: string[];
}

const CLIENTS: Record<LoginService, string> = { imap: 'imap', pop3: 'pop', submission: 'smtp', managesieve: 'other', lmtp: 'other', other: 'other' };

function excluder(ranges: string[] = []): (ip: string | undefined) => boolean {
  const parsed = ranges.map(parseCidr).filter((r): r is CidrRange => r !== undefined);
  return (ip) => {
    if (!ip || !parsed.length) return false;
    const a = parseIp(ip);
    return !!a && parsed.some((r) => cidrContains(r, a));
  };
}

function eventId(line: DovecotLine, what: string, raw: string): string {
  const session = 'session' in line && line.session ? line.session : `line-${createHash('sha256').update(raw).digest('hex').slice(0, 20)}`;
  return `imap:dovecot-log:${session}:${what}`;
}

/** `auth_verbose_passwords` can put the tried password into the auth lines: never keep it. */
function redact(raw: string): string {
  return raw.replace(/\(given password: .*\)/, '(given password: [redacted])').slice(0, 2000);
}

/** Builds a line's events given its join; pure. */
export function dovecotEvents(line: DovecotLine, join: Join | undefined, raw: string, opts: EventOptions & { isExcluded?: (ip: string | undefined) => boolean }): VigieEvent[] {
  const isExcluded = opts.isExcluded ?? excluder(opts.excludeIps);
  const base = { provider: 'imap' as const, source: opts.source, raw: redact(raw) };
  switch (line.kind) {
    case 'login': {
      if (join?.monitor || isExcluded(line.rip)) return [];
      return [
        {
          ...base,
          id: eventId(line, 'login', raw),
          kind: 'signin',
          time: line.time,
          account: accountAddress(line.user, opts.domain),
          ...(line.rip !== undefined && { ip: line.rip }),
          outcome: 'success',
          details: {
            client: CLIENTS[line.service],
            legacy_auth: false,
            interactive: false,
            user_agent: '',
            method: line.method ?? '',
            service: line.service,
            ...(line.session !== undefined && { session: line.session }),
          },
        },
      ];
    }
    case 'login-failed': {
      if (isExcluded(line.rip)) return [];
      return [
        {
          ...base,
          id: eventId(line, 'auth-failed', raw),
          kind: 'signin',
          time: line.time,
          account: accountAddress(line.user, opts.domain),
          ...(line.rip !== undefined && { ip: line.rip }),
          outcome: 'failure',
          details: {
            client: CLIENTS[line.service],
            legacy_auth: false,
            interactive: false,
            user_agent: '',
            method: line.method ?? '',
            service: line.service,
            failure_reason: join?.reason ?? line.reason,
            ...(line.attempts !== undefined && { attempts: line.attempts }),
            ...(line.session !== undefined && { session: line.session }),
          },
        },
      ];
    }
    case 'logout': {
      const login = join?.login;
      if (line.items <= 0 || login?.monitor || isExcluded(login?.ip)) return [];
      return [
        {
          ...base,
          id: eventId(line, 'logout', raw),
          kind: 'data_export',
          time: line.time,
          account: accountAddress(login?.user ?? line.user, opts.domain),
          ...(login?.ip !== undefined && { ip: login.ip }),
          details: {
            method: 'mailbox_download',
            phase: 'completed',
            items: line.items,
            bytes: line.bytes,
            client: CLIENTS[line.service],
            ...(line.session !== undefined && { session: line.session }),
            ...(login && { started: new Date(login.at).toISOString(), duration_s: Math.max(0, Math.round((Date.parse(line.time) - login.at) / 1000)) }),
            login_seen: !!login,
          },
        },
      ];
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Replay: a TextFormat

export interface DovecotLogOptions extends EventOptions {
  clock?: Clock;
  timeZone?: string;
}

/** A stateful reader of a Dovecot log's lines, in order. */
export function createDovecotLogReader(opts: DovecotLogOptions): { line(text: string): VigieEvent[]; flush(): VigieEvent[] } {
  const tracker = new SessionTracker();
  const clock = opts.clock ?? systemClock;
  const isExcluded = excluder(opts.excludeIps);
  return {
    line(text) {
      const parsed = parseDovecotLine(text, { now: clock.now(), ...(opts.timeZone && { timeZone: opts.timeZone }) });
      if (!parsed) return [];
      const join = tracker.observe(parsed);
      return dovecotEvents(parsed, join, text, { ...opts, isExcluded });
    },
    // Logins already produced their sign-in; an open session at the end has nothing left to say.
    flush: () => [],
  };
}

export function createDovecotLogFormat(opts: Omit<DovecotLogOptions, 'source'> = {}): TextFormat {
  return {
    name: 'dovecot-log',
    detect: (firstLines) => looksLikeDovecotLog(firstLines, (opts.clock ?? systemClock).now()),
    reader: (source) => createDovecotLogReader({ ...opts, source }),
  };
}

/** For `vigie replay` and the file connector: no domain, nothing excluded, today's clock. */
export const dovecotLogFormat: TextFormat = createDovecotLogFormat();

// ---------------------------------------------------------------------------------------------
// 5. The live log file: a LogStream

export interface DovecotLogStreamOptions {
  connectorName: string;
  path: string;
  domain?: string;
  excludeIps: string[];
  clock: Clock;
  timeZone?: string;
  /** Lines of interest per page (default 500). */
  pageSize?: number;
}

/** Where the reader stopped: the file by inode and by the hash of its first bytes (copytruncate reuses the inode). */
interface LogCursor {
  v: 1;
  inode: number;
  offset: number;
  head: { len: number; hash: string };
  state: TrackerState;
}

export type DovecotLogRecord =
  | { type: 'line'; text: string; readAt: number; join?: Join }
  | { type: 'gap'; time: string; file: string; detail: string };

const HEAD_BYTES = 256;
const CHUNK_BYTES = 256 * 1024;
/** Commit a page at least this often even when no line was of interest, so a crash does not re-read much. */
const MAX_LINES_PER_PAGE = 20_000;

function headOf(fd: number, size: number): { len: number; hash: string } {
  const len = Math.min(HEAD_BYTES, size);
  const buf = Buffer.alloc(len);
  const n = len ? fs.readSync(fd, buf, 0, len, 0) : 0;
  return { len: n, hash: createHash('sha256').update(buf.subarray(0, n)).digest('hex').slice(0, 32) };
}

/** Does the file start with the bytes the cursor remembers? */
function sameHead(fd: number, size: number, head: LogCursor['head']): boolean {
  if (size < head.len) return false;
  const buf = Buffer.alloc(head.len);
  const n = head.len ? fs.readSync(fd, buf, 0, head.len, 0) : 0;
  return n === head.len && createHash('sha256').update(buf).digest('hex').slice(0, 32) === head.hash;
}

interface OpenFile {
  fd: number;
  path: string;
  inode: number;
  size: number;
}

function openFile(p: string): OpenFile | undefined {
  let fd: number;
  try {
    fd = fs.openSync(p, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SourceError('SOURCE_FAILED', `Cannot read the Dovecot log ${p}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const st = fs.fstatSync(fd);
  return { fd, path: p, inode: st.ino, size: st.size };
}

/** Complete lines of `file` from `start`; a finished (rotated) file's unterminated last line counts, a live file's waits. */
function* readLines(file: OpenFile, start: number, final: boolean): Generator<{ text: string; end: number }> {
  const buf = Buffer.alloc(CHUNK_BYTES);
  const maxLine = MAX_LINE_CHARS * 4;
  let carry: Buffer = Buffer.alloc(0);
  let carryStart = start;
  /** Inside a line too long to hold: it is skipped up to its newline. */
  let skipping = false;
  let pos = start;
  // The size is taken once: a file still growing is read up to here now, and the rest next run.
  const size = fs.fstatSync(file.fd).size;
  while (pos < size) {
    const readAt = pos;
    const n = fs.readSync(file.fd, buf, 0, Math.min(CHUNK_BYTES, size - pos), pos);
    if (n <= 0) break;
    pos += n;
    const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : Buffer.from(buf.subarray(0, n));
    const chunkStart = carry.length ? carryStart : readAt;
    let from = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
      yield { text: skipping ? '' : chunk.subarray(from, nl).toString('utf8'), end: chunkStart + nl + 1 };
      skipping = false;
      from = nl + 1;
    }
    const rest = chunk.subarray(from);
    if (skipping || rest.length > maxLine) {
      skipping = true;
      carry = Buffer.alloc(0);
    } else {
      carry = rest;
      carryStart = chunkStart + from;
    }
  }
  if (final && carry.length && !skipping) yield { text: carry.toString('utf8'), end: carryStart + carry.length };
}

/**
 * The Dovecot log file, read from where the last run stopped. Rotation (logrotate's rename, or
 * copytruncate) is followed: the rest of the old file is read from `<path>.1` first, recognised by
 * inode or by its first bytes. A cursor whose file is gone is a `data_gap` monitor event.
 */
export function createDovecotLogStream(opts: DovecotLogStreamOptions): LogStream<DovecotLogRecord> {
  const pageSize = opts.pageSize ?? 500;
  const isExcluded = excluder(opts.excludeIps);
  const eventOpts = { source: opts.connectorName, ...(opts.domain !== undefined && { domain: opts.domain }), excludeIps: opts.excludeIps, isExcluded };
  const lineCtx = (now: number): LineContext => ({ now, ...(opts.timeZone && { timeZone: opts.timeZone }) });

  return {
    kind: 'log',
    name: 'dovecot-log',
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<DovecotLogRecord>> {
      const prev = validCursor(cursor);
      const tracker = new SessionTracker(prev?.state);
      const now = ctx.clock.now();
      // A first run reads the whole current file but reports only its last `backfill`.
      const notBefore = prev ? -Infinity : now - ctx.backfillMs;
      const current = openFile(opts.path);
      const opened: OpenFile[] = current ? [current] : [];
      try {
        const plan: Array<{ file: OpenFile; from: number; final: boolean }> = [];
        const gaps: DovecotLogRecord[] = [];
        if (!prev) {
          if (!current) throw new SourceError('SOURCE_FAILED', `The Dovecot log ${opts.path} does not exist (is it mounted into the container?).`);
          plan.push({ file: current, from: 0, final: false });
        } else if (current && current.inode === prev.inode && current.size >= prev.offset && sameHead(current.fd, current.size, prev.head)) {
          plan.push({ file: current, from: prev.offset, final: false });
        } else {
          // Rotated or truncated since the last run: finish the old file, then read the new one from its start.
          const old = openFile(`${opts.path}.1`);
          if (old) opened.push(old);
          const matches = !!old && old.size >= prev.offset && (old.inode === prev.inode || sameHead(old.fd, old.size, prev.head));
          if (!current && !matches) throw new SourceError('SOURCE_FAILED', `The Dovecot log ${opts.path} does not exist (is it mounted into the container?).`);
          // Dovecot writes to the old file until it reopens its log: the old file is finished only once the new one has lines.
          const oldFinished = !!current && current.size > 0;
          if (old && matches) plan.push({ file: old, from: prev.offset, final: oldFinished });
          else if (prev.offset > 0) {
            gaps.push({
              type: 'gap',
              time: new Date(now).toISOString(),
              file: opts.path,
              detail: `the log read up to byte ${prev.offset} was rotated or truncated, and ${opts.path}.1 is not it: lines written since the last run may be missing`,
            });
          }
          if (current && (oldFinished || !matches)) plan.push({ file: current, from: 0, final: false });
        }

        let records: DovecotLogRecord[] = [...gaps];
        let position: { file: OpenFile; offset: number } | undefined;
        const cursorNow = (): LogCursor | undefined => {
          const at = position ?? (current ? { file: current, offset: 0 } : undefined);
          if (!at) return prev;
          return { v: 1, inode: at.file.inode, offset: at.offset, head: headOf(at.file.fd, at.file.size), state: tracker.state() };
        };
        let linesInPage = 0;
        for (const step of plan) {
          position = { file: step.file, offset: step.from };
          for (const { text, end } of readLines(step.file, step.from, step.final)) {
            position = { file: step.file, offset: end };
            linesInPage++;
            const parsed = parseDovecotLine(text, lineCtx(now));
            if (parsed) {
              const join = tracker.observe(parsed);
              const relevant = parsed.kind === 'login' || parsed.kind === 'login-failed' || parsed.kind === 'logout';
              if (relevant && Date.parse(parsed.time) >= notBefore) records.push({ type: 'line', text, readAt: now, ...(join && { join }) });
            }
            if (records.length >= pageSize || linesInPage >= MAX_LINES_PER_PAGE) {
              yield { records, cursor: cursorNow() };
              records = [];
              linesInPage = 0;
              if (ctx.signal.aborted) return;
              // The file is read synchronously: let timers and the health server run between pages.
              await new Promise((resolve) => setImmediate(resolve));
            }
          }
          // The rotated file is done: the cursor moves to the start of the current one.
          if (step.final && current) position = { file: current, offset: 0 };
        }
        yield { records, cursor: cursorNow() };
      } finally {
        for (const f of opened) fs.closeSync(f.fd);
      }
    },
    normalize(record: DovecotLogRecord): VigieEvent[] {
      if (record.type === 'gap') {
        return [
          {
            id: `vigie:monitor:${opts.connectorName}:dovecot-log:gap:${record.time}`,
            kind: 'monitor',
            time: record.time,
            provider: 'vigie',
            source: opts.connectorName,
            account: '',
            details: { type: 'data_gap', stream: 'dovecot-log', file: record.file, detail: record.detail },
          },
        ];
      }
      const parsed = parseDovecotLine(record.text, lineCtx(record.readAt));
      if (!parsed) throw new VigieError('INPUT_INVALID', 'a Dovecot log line could not be read again');
      return dovecotEvents(parsed, record.join, record.text, eventOpts);
    },
  };
}

function validCursor(c: unknown): LogCursor | undefined {
  if (!c || typeof c !== 'object') return undefined;
  const o = c as Partial<LogCursor>;
  if (o.v !== 1 || typeof o.inode !== 'number' || typeof o.offset !== 'number' || !o.head || typeof o.head.hash !== 'string') return undefined;
  return { v: 1, inode: o.inode, offset: o.offset, head: o.head, state: o.state ?? { sessions: [], reasons: [], masters: [] } };
}
