import type { FetchMessageObject, ImapFlow, MailboxObject, MessageAddressObject } from 'imapflow';
import { SourceError, errorMessage } from '../../src/errors.js';
import type { VigieEvent } from '../../src/events.js';
import type { Logger } from '../../src/log.js';
import type { LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import type { ResolvedAccount } from './config.js';
import { isUnreachable, openSession, scanError, type ImapEndpoint } from './mailbox-connection.js';
import {
  addressesOf,
  cleanText,
  normalizeMailboxRecord,
  pickHeaders,
  sentFingerprint,
  SENT_HEADER_FIELDS,
  type MailboxRecord,
  type SentRecord,
} from './mailbox-events.js';
import {
  diffFolders,
  folderFilter,
  rememberSent,
  uidSet,
  type AccountCursor,
  type FolderState,
  type ListedFolder,
  type MailboxCursor,
} from './mailbox-folders.js';

export interface MailboxStreamOptions {
  /** The connector instance name (`source` on every event). */
  source: string;
  endpoint: ImapEndpoint;
  accounts: readonly ResolvedAccount[];
  /** The organisation's own mail domains: recipients outside them are `external_recipients`. */
  domains: readonly string[];
  /** Folders to scan; all when absent. */
  folders?: readonly string[];
  /** Sees every command line the client sends (credentials already hidden). For tests and the bench. */
  onCommand?: (line: string) => void;
}

/**
 * A new folder or one whose UIDVALIDITY changed is scanned from the previous poll's time, minus
 * this much for the clock difference between the monitor and the server; the Message-ID memory
 * (`recentSent`) absorbs what this re-reads.
 */
export const BASELINE_SKEW_MS = 15 * 60_000;
/** Bytes of a Sent message's header block read (BODY.PEEK[HEADER]<0.N>): a hostile header cannot make the scan heavy. */
export const SENT_HEADER_CAP = 16 * 1024;
/** UIDs per FETCH: bounds the memory one command can fill. */
const FETCH_CHUNK = 500;
const SENT = '\\Sent';
const TRASH = '\\Trash';

const STATUS_QUERY = { messages: true, uidNext: true, uidValidity: true, highestModseq: true } as const;

/**
 * The `mailbox` log stream: per account and folder, what changed since the last poll, from IMAP
 * alone (folders created, renamed, deleted; messages expunged; messages in the Sent folder).
 *
 * Read-only by construction: folders are only ever opened with EXAMINE, and only ENVELOPE, size,
 * INTERNALDATE and a capped BODY.PEEK[HEADER] of Sent messages are fetched. An unchanged folder
 * costs nothing beyond its line in the one LIST-STATUS of the account, and is never opened.
 *
 * Expunges are counted by arithmetic that holds on every server: messages the cursor knew about
 * (UID below its UIDNEXT) minus those still there. When no UID was assigned since the last poll
 * the STATUS numbers alone give it; otherwise one EXAMINE and a count of the new UIDs do.
 */
export function createMailboxStream(opts: MailboxStreamOptions): LogStream<MailboxRecord> {
  const filter = folderFilter(opts.folders);
  return {
    kind: 'log',
    name: 'mailbox',
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<MailboxRecord>> {
      const state = readCursor(cursor, ctx.log);
      const configured = new Set(opts.accounts.map((a) => a.address));
      for (const address of Object.keys(state.accounts)) if (!configured.has(address)) delete state.accounts[address];
      // The state as of the last page handed out: a failed account goes back to it, so that work
      // that produced no page yet is never committed by another account's page.
      let committed = structuredClone(state);
      const page = (records: MailboxRecord[]): LogPage<MailboxRecord> => {
        committed = structuredClone(state);
        return { records, cursor: structuredClone(state) };
      };
      const failures: { account: string; error: SourceError }[] = [];
      let skipped = 0;
      for (const [i, account] of opts.accounts.entries()) {
        if (ctx.signal.aborted) return;
        try {
          for await (const records of scanAccount(account, state, ctx, opts, filter)) yield page(records);
        } catch (err) {
          const failure = err instanceof SourceError ? err : new SourceError('SOURCE_FAILED', errorMessage(err), { cause: err });
          failures.push({ account: account.address, error: failure });
          const last = committed.accounts[account.address];
          if (last) state.accounts[account.address] = structuredClone(last);
          else delete state.accounts[account.address];
          ctx.log.warn({ account: account.address, error: failure.message }, 'The IMAP account could not be scanned.');
          // The server itself is unreachable: every other account would wait for the same timeout.
          if (isUnreachable(failure.cause)) {
            skipped = opts.accounts.length - i - 1;
            break;
          }
        }
      }
      const first = failures[0];
      if (first) {
        // One account's failure does not hide the others: they were scanned (and committed) first.
        const others = failures.slice(1).map((f) => f.account);
        const text = [
          first.error.message,
          others.length ? `Also failed: ${others.join(', ')}.` : '',
          skipped ? `Not scanned, the server being unreachable: ${skipped} more account${skipped > 1 ? 's' : ''}.` : '',
        ].filter(Boolean).join(' ');
        throw new SourceError(first.error.code === 'SOURCE_UNAUTHORIZED' ? 'SOURCE_UNAUTHORIZED' : 'SOURCE_FAILED', text, { cause: first.error });
      }
    },
    normalize(record: MailboxRecord): VigieEvent[] {
      return normalizeMailboxRecord(record, { source: opts.source, domains: opts.domains });
    },
  };
}

function readCursor(cursor: unknown, log: Logger): MailboxCursor {
  if (cursor === undefined || cursor === null) return { v: 1, accounts: {} };
  const c = cursor as Partial<MailboxCursor>;
  if (c.v === 1 && c.accounts && typeof c.accounts === 'object') return structuredClone(c as MailboxCursor);
  log.warn('The mailbox cursor has an unknown shape; every folder starts from a new baseline.');
  return { v: 1, accounts: {} };
}

/** A folder the next scan treats as new: its Sent messages from `since` on are reported. */
function pendingState(f: ListedFolder, since: number): FolderState {
  return { uidValidity: f.uidValidity, uidNext: 0, messages: 0, ...(f.specialUse ? { specialUse: f.specialUse } : {}), baselineSince: since };
}

function listedState(f: ListedFolder): FolderState {
  return {
    uidValidity: f.uidValidity,
    uidNext: f.uidNext,
    messages: f.messages,
    ...(f.highestModseq !== undefined ? { highestModseq: f.highestModseq } : {}),
    ...(f.specialUse ? { specialUse: f.specialUse } : {}),
  };
}

/** Scans one account; yields the records of each unit of work once the state in `state` reflects it. */
async function* scanAccount(
  account: ResolvedAccount,
  state: MailboxCursor,
  ctx: StreamContext,
  opts: MailboxStreamOptions,
  filter: (path: string) => boolean,
): AsyncGenerator<MailboxRecord[]> {
  const address = account.address;
  const log = ctx.log.child({ account: address });
  const scanStart = ctx.clock.now();
  const now = () => new Date(ctx.clock.now()).toISOString();
  const session = await openSession(opts.endpoint, account, log.child({ component: 'imapflow' }), opts.onCommand);
  const { client } = session;
  try {
    let listed: ListedFolder[];
    try {
      listed = await listFolders(client, address, filter);
    } catch (err) {
      throw scanError(err, client, opts.endpoint, address);
    }

    const prev = state.accounts[address];
    const acct: AccountCursor = prev
      ? { scannedAt: prev.scannedAt, folders: { ...prev.folders }, recentSent: [...prev.recentSent] }
      : { scannedAt: 0, folders: {}, recentSent: [] };
    const structure: MailboxRecord[] = [];
    if (!prev) {
      // First run: everything is history, except Sent mail within the backfill (it feeds baselines).
      for (const f of listed) acct.folders[f.path] = pendingState(f, scanStart - ctx.backfillMs);
    } else {
      const epoch = prev.scannedAt.toString(36);
      const since = prev.scannedAt - BASELINE_SKEW_MS;
      const folderRecord = (action: 'folder_created' | 'folder_deleted' | 'folder_renamed', folder: string, uv: string, messages: number, specialUse?: string, from?: string): MailboxRecord => ({
        type: 'folder',
        account: address,
        action,
        folder,
        ...(from !== undefined ? { from } : {}),
        uidValidity: uv,
        ...(specialUse ? { specialUse } : {}),
        messages,
        epoch,
        time: now(),
      });
      for (const ch of diffFolders(prev.folders, listed)) {
        switch (ch.kind) {
          case 'same':
            break;
          case 'renamed': {
            delete acct.folders[ch.from];
            const { specialUse: _old, ...rest } = ch.prev;
            acct.folders[ch.path] = { ...rest, ...(ch.now.specialUse ? { specialUse: ch.now.specialUse } : {}) };
            structure.push(folderRecord('folder_renamed', ch.path, ch.now.uidValidity, ch.now.messages, ch.now.specialUse, ch.from));
            break;
          }
          case 'created':
            acct.folders[ch.path] = pendingState(ch.now, since);
            structure.push(folderRecord('folder_created', ch.path, ch.now.uidValidity, ch.now.messages, ch.now.specialUse));
            break;
          case 'deleted':
            delete acct.folders[ch.path];
            structure.push(folderRecord('folder_deleted', ch.path, ch.prev.uidValidity, ch.prev.messages, ch.prev.specialUse));
            break;
          case 'reset':
            // P17: the old UIDs mean nothing now. A new baseline, and Sent mail since the last poll.
            log.info({ folder: ch.path, before: ch.prev.uidValidity, after: ch.now.uidValidity }, 'The folder has a new UIDVALIDITY; it is scanned again from the last poll.');
            acct.folders[ch.path] = pendingState(ch.now, since);
            break;
        }
      }
    }
    state.accounts[address] = acct;
    if (structure.length) yield structure;

    for (const f of listed) {
      if (ctx.signal.aborted) return;
      const st = acct.folders[f.path];
      if (!st) continue;
      let result: FolderResult;
      try {
        result = await scanFolder(client, f, st, acct, ctx, address);
      } catch (err) {
        throw scanError(err, client, opts.endpoint, address, f.path);
      }
      acct.folders[f.path] = result.state;
      if (result.sent.length) acct.recentSent = rememberSent(acct.recentSent, result.sent.map(sentFingerprint));
      if (result.records.length) yield result.records;
    }
    acct.scannedAt = scanStart;
    yield [];
  } finally {
    await session.close();
  }
}

/** One LIST-STATUS of the account as ListedFolder entries (exported for tests). */
export async function listFolders(client: ImapFlow, address: string, filter: (path: string) => boolean): Promise<ListedFolder[]> {
  // LIST-STATUS (Dovecot has it): the whole account in one round trip; imapflow falls back to one
  // STATUS per folder on servers without it.
  const entries = await client.list({ statusQuery: STATUS_QUERY });
  const out: ListedFolder[] = [];
  for (const e of entries) {
    if (e.flags.has('\\Noselect') || e.flags.has('\\NonExistent') || !filter(e.path)) continue;
    const st = e.status as (NonNullable<typeof e.status> & { error?: unknown }) | undefined;
    if (!st || st.error !== undefined) {
      throw new SourceError('SOURCE_FAILED', `The IMAP server gave no STATUS for folder "${e.path}" of ${address}${st?.error ? `: ${errorMessage(st.error)}` : ''}.`);
    }
    if (st.uidValidity === undefined || st.uidValidity === null) {
      // P17: without UIDVALIDITY no UID can be trusted; guessing would mean duplicates or misses.
      throw new SourceError('SOURCE_FAILED', `The IMAP server reported no UIDVALIDITY for folder "${e.path}" of ${address}; its UIDs cannot be trusted, so the scan stops instead of guessing.`);
    }
    if (typeof st.uidNext !== 'number' || typeof st.messages !== 'number') {
      throw new SourceError('SOURCE_FAILED', `The IMAP server reported no UIDNEXT or message count for folder "${e.path}" of ${address}.`);
    }
    out.push({
      path: e.path,
      ...(e.specialUse ? { specialUse: e.specialUse } : {}),
      uidValidity: String(st.uidValidity),
      uidNext: st.uidNext,
      messages: st.messages,
      ...(st.highestModseq !== undefined ? { highestModseq: String(st.highestModseq) } : {}),
    });
  }
  return out;
}

interface FolderResult {
  records: MailboxRecord[];
  state: FolderState;
  sent: SentRecord[];
}

interface Examined {
  uidValidity: string;
  uidNext: number;
  exists: number;
  highestModseq?: string;
}

async function scanFolder(client: ImapFlow, f: ListedFolder, st: FolderState, acct: AccountCursor, ctx: StreamContext, address: string): Promise<FolderResult> {
  const isSent = f.specialUse === SENT;
  if (st.baselineSince !== undefined) return baselineScan(client, f, st.baselineSince, acct, address, ctx);
  const unchanged: FolderResult = { records: [], state: listedState(f), sent: [] };
  if (f.uidNext === st.uidNext && f.messages === st.messages) return unchanged; // at most flags changed
  const time = new Date(ctx.clock.now()).toISOString();
  const expunged = (count: number, after: FolderState): MailboxRecord[] =>
    count > 0
      ? [
          {
            type: 'expunged',
            account: address,
            folder: f.path,
            uidValidity: f.uidValidity,
            ...(f.specialUse ? { specialUse: f.specialUse } : {}),
            count,
            before: numbers(st),
            after: numbers(after),
            time,
          },
        ]
      : [];
  if (f.uidNext === st.uidNext) {
    // No UID was assigned since the last poll, so every message missing now was expunged.
    const count = Math.max(0, st.messages - f.messages);
    return { records: expunged(count, unchanged.state), state: unchanged.state, sent: [] };
  }

  const mb = await examine(client, f.path, address);
  if (!mb) return { records: [], state: st, sent: [] }; // deleted since LIST: the next LIST reports it
  if (mb.uidValidity !== st.uidValidity) {
    ctx.log.info({ folder: f.path }, 'The folder got a new UIDVALIDITY during the scan; it is scanned again from the last poll.');
    return baselineScan(client, { ...f, uidValidity: mb.uidValidity }, acct.scannedAt - BASELINE_SKEW_MS, acct, address, ctx, mb);
  }
  const lo = st.uidNext;
  const hi = mb.uidNext - 1;
  let newMessages = 0;
  let sent: SentRecord[] = [];
  if (hi >= lo) {
    if (isSent) {
      // Explicit lo:hi, never lo:* — "*" would match the last message even below lo.
      sent = await fetchSent(client, uidChunks(lo, hi), f, address, ctx);
      newMessages = sent.length;
    } else {
      newMessages = await countUids(client, lo, hi);
    }
  }
  const after = examinedState(mb, f);
  // Old messages still there = now - new; the rest of the old ones were expunged.
  const count = st.messages - (mb.exists - newMessages);
  if (count < 0) ctx.log.debug({ folder: f.path, count }, 'Messages changed during the scan; no expunge counted.');
  const trashed: MailboxRecord[] =
    f.specialUse === TRASH && newMessages > 0
      ? [{ type: 'trashed', account: address, folder: f.path, uidValidity: mb.uidValidity, count: newMessages, uids: { from: lo, to: mb.uidNext }, time }]
      : [];
  return { records: [...expunged(Math.max(0, count), after), ...trashed, ...sent], state: after, sent };
}

function examinedState(mb: Examined, f: ListedFolder): FolderState {
  return {
    uidValidity: mb.uidValidity,
    uidNext: mb.uidNext,
    messages: mb.exists,
    ...(mb.highestModseq !== undefined ? { highestModseq: mb.highestModseq } : {}),
    ...(f.specialUse ? { specialUse: f.specialUse } : {}),
  };
}

function numbers(s: FolderState): { uidNext: number; messages: number; highestModseq?: string } {
  return { uidNext: s.uidNext, messages: s.messages, ...(s.highestModseq !== undefined ? { highestModseq: s.highestModseq } : {}) };
}

/**
 * A folder seen for the first time (first run, new folder, UIDVALIDITY reset): its numbers become
 * the baseline. Only a Sent folder is opened: its messages with an INTERNALDATE from `since` on
 * are reported, except those the account already reported (`recentSent`).
 */
async function baselineScan(
  client: ImapFlow,
  f: ListedFolder,
  since: number,
  acct: AccountCursor,
  address: string,
  ctx: StreamContext,
  opened?: Examined,
): Promise<FolderResult> {
  if (f.specialUse !== SENT || (!opened && f.messages === 0)) return { records: [], state: opened ? examinedState(opened, f) : listedState(f), sent: [] };
  const mb = opened ?? (await examine(client, f.path, address));
  if (!mb) return { records: [], state: listedState(f), sent: [] };
  const state = examinedState(mb, f);
  if (mb.exists === 0) return { records: [], state, sent: [] };
  // SEARCH SINCE compares dates only (in the server's time zone): ask a day early, filter exactly below.
  const found = await client.search({ since: new Date(since - 86_400_000) }, { uid: true });
  if (!Array.isArray(found)) throw new SourceError('SOURCE_FAILED', `The IMAP server refused a SEARCH in folder "${f.path}" of ${address}.`);
  const uids = found.filter((u) => u < mb.uidNext).sort((a, b) => a - b);
  const chunks: string[] = [];
  for (let i = 0; i < uids.length; i += FETCH_CHUNK) chunks.push(uidSet(uids.slice(i, i + FETCH_CHUNK)));
  const known = new Set(acct.recentSent);
  const sent = (await fetchSent(client, chunks, { ...f, uidValidity: mb.uidValidity }, address, ctx)).filter(
    (r) => Date.parse(r.time) >= since && !known.has(sentFingerprint(r)),
  );
  return { records: sent, state, sent };
}

/** EXAMINE, never SELECT. Undefined when the folder disappeared since LIST. */
async function examine(client: ImapFlow, path: string, address: string): Promise<Examined | undefined> {
  let mb: MailboxObject;
  try {
    mb = await client.mailboxOpen(path, { readOnly: true });
  } catch (err) {
    const e = err as { serverResponseCode?: unknown; responseText?: unknown };
    if (e.serverResponseCode === 'NONEXISTENT' || (typeof e.responseText === 'string' && /doesn't exist|does not exist/i.test(e.responseText))) return undefined;
    throw err;
  }
  if (mb.readOnly !== true) {
    // Defence in depth for P18: the server must have confirmed a read-only session.
    throw new SourceError('INTERNAL', `Folder "${path}" of ${address} was not opened read-only; the scan stops rather than risk changing the mailbox.`);
  }
  if (mb.uidValidity === undefined || mb.uidValidity === null) {
    throw new SourceError('SOURCE_FAILED', `The IMAP server reported no UIDVALIDITY when opening folder "${path}" of ${address}; its UIDs cannot be trusted.`);
  }
  return {
    uidValidity: String(mb.uidValidity),
    uidNext: mb.uidNext,
    exists: mb.exists,
    ...(mb.highestModseq !== undefined ? { highestModseq: String(mb.highestModseq) } : {}),
  };
}

/** How many of the UIDs lo..hi exist: ESEARCH COUNT where offered (Dovecot), the UID list otherwise. */
async function countUids(client: ImapFlow, lo: number, hi: number): Promise<number> {
  const r = await client.search({ uid: `${lo}:${hi}` }, { uid: true, returnOptions: ['COUNT'] });
  if (Array.isArray(r)) return r.filter((u) => u >= lo && u <= hi).length;
  if (r && typeof r === 'object') return r.count ?? 0;
  throw new SourceError('SOURCE_FAILED', `The IMAP server refused a UID SEARCH (${lo}:${hi}).`);
}

function uidChunks(lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let a = lo; a <= hi; a += FETCH_CHUNK) out.push(`${a}:${Math.min(hi, a + FETCH_CHUNK - 1)}`);
  return out;
}

async function fetchSent(client: ImapFlow, ranges: readonly string[], f: ListedFolder, address: string, ctx: StreamContext): Promise<SentRecord[]> {
  const out: SentRecord[] = [];
  for (const range of ranges) {
    const batch: FetchMessageObject[] = [];
    // No other command may run inside this loop (imapflow would deadlock): collect, then build.
    for await (const msg of client.fetch(
      range,
      { uid: true, envelope: true, internalDate: true, size: true, bodyParts: [{ key: 'HEADER', maxLength: SENT_HEADER_CAP }] },
      { uid: true },
    )) {
      batch.push(msg);
    }
    for (const msg of batch) out.push(sentRecord(msg, f, address, ctx));
  }
  return out.sort((a, b) => a.uid - b.uid);
}

const addrs = (list: MessageAddressObject[] | undefined): string[] =>
  (list ?? []).map((a) => a.address?.trim().toLowerCase()).filter((a): a is string => !!a && a.includes('@'));

function sentRecord(msg: FetchMessageObject, f: ListedFolder, address: string, ctx: StreamContext): SentRecord {
  const env = msg.envelope ?? {};
  const internal = msg.internalDate instanceof Date ? msg.internalDate : new Date(String(msg.internalDate ?? ''));
  const envDate = env.date instanceof Date ? env.date : new Date(String(env.date ?? ''));
  const time = !Number.isNaN(internal.getTime()) ? internal : !Number.isNaN(envDate.getTime()) ? envDate : new Date(ctx.clock.now());
  // imapflow files BODY[HEADER]<0> under `headers`; older releases under bodyParts.
  const rawHeaders = msg.headers ?? msg.bodyParts?.get('header');
  const h = pickHeaders(rawHeaders, SENT_HEADER_FIELDS);
  const first = (name: string) => cleanText(h.get(name)?.[0]);
  const messageId = cleanText(env.messageId);
  const client = first('user-agent') ?? first('x-mailer');
  const autoSubmitted = first('auto-submitted');
  return {
    type: 'sent',
    account: address,
    folder: f.path,
    uidValidity: f.uidValidity,
    uid: msg.uid,
    time: time.toISOString(),
    ...(messageId ? { messageId } : {}),
    from: addrs(env.from),
    recipients: [...new Set([...addrs(env.to), ...addrs(env.cc), ...addrs(env.bcc)])],
    resentTo: addressesOf(h.get('resent-to')),
    ...(client ? { client } : {}),
    ...(autoSubmitted ? { autoSubmitted } : {}),
    ...(typeof msg.size === 'number' ? { size: msg.size } : {}),
  };
}
