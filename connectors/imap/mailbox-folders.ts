/**
 * The mailbox stream's cursor and the comparison of one account's folder list with it. Pure: no
 * IMAP here, so every case of the folder diff is tested without a server.
 */

/** What the cursor remembers of one folder (IMAP numbers as the server gave them). */
export interface FolderState {
  /** Decimal string: UIDVALIDITY is 32-bit on the wire but imapflow hands it over as a bigint. */
  uidValidity: string;
  uidNext: number;
  messages: number;
  /** Decimal string; absent when the server has no CONDSTORE. */
  highestModseq?: string;
  specialUse?: string;
  /**
   * Set while the folder awaits its first scan (first run, new folder, UIDVALIDITY reset): Sent
   * messages with an INTERNALDATE from this time (ms) on are reported, older ones are history.
   */
  baselineSince?: number;
}

export interface AccountCursor {
  /** Monitor clock (ms) when the last complete scan of the account started. */
  scannedAt: number;
  folders: Record<string, FolderState>;
  /**
   * Fingerprints of the latest Sent messages reported (newest last, capped): a folder scanned
   * from a baseline again must not report what an earlier incarnation of it already did.
   */
  recentSent: string[];
}

export interface MailboxCursor {
  v: 1;
  accounts: Record<string, AccountCursor>;
}

/** One folder as LIST-STATUS (or LIST + STATUS) reported it in this run. */
export interface ListedFolder {
  path: string;
  specialUse?: string;
  uidValidity: string;
  uidNext: number;
  messages: number;
  highestModseq?: string;
}

export type FolderChange =
  /** Known folder, same name and UIDVALIDITY. */
  | { kind: 'same'; path: string; prev: FolderState; now: ListedFolder }
  /** Dovecot keeps UIDVALIDITY across RENAME: a folder gone and one new with its UIDVALIDITY. */
  | { kind: 'renamed'; from: string; path: string; prev: FolderState; now: ListedFolder }
  | { kind: 'created'; path: string; now: ListedFolder }
  | { kind: 'deleted'; path: string; prev: FolderState }
  /** Same name, new UIDVALIDITY: every UID the cursor holds for it is meaningless now. */
  | { kind: 'reset'; path: string; prev: FolderState; now: ListedFolder };

/**
 * Compares the cursor's folders with the listed ones. Renames are paired by UIDVALIDITY, which
 * Dovecot keeps across RENAME and never gives to two folders of one account; a pairing that is not
 * one-to-one is not trusted and reported as deletion plus creation.
 */
export function diffFolders(prev: Readonly<Record<string, FolderState>>, listed: readonly ListedFolder[]): FolderChange[] {
  const changes: FolderChange[] = [];
  const oldUnmatched = new Map<string, FolderState>();
  const newUnmatched = new Map<string, ListedFolder>();
  const listedByPath = new Map(listed.map((f) => [f.path, f]));
  for (const [path, state] of Object.entries(prev)) {
    const now = listedByPath.get(path);
    if (now && now.uidValidity === state.uidValidity) changes.push({ kind: 'same', path, prev: state, now });
    else oldUnmatched.set(path, state);
  }
  for (const f of listed) {
    const state = prev[f.path];
    if (!state || state.uidValidity !== f.uidValidity) newUnmatched.set(f.path, f);
  }

  const byValidity = <T>(entries: Iterable<[string, T]>, uv: (t: T) => string): Map<string, string[]> => {
    const m = new Map<string, string[]>();
    for (const [path, t] of entries) m.set(uv(t), [...(m.get(uv(t)) ?? []), path]);
    return m;
  };
  const oldByUv = byValidity(oldUnmatched, (s) => s.uidValidity);
  const newByUv = byValidity(newUnmatched, (f) => f.uidValidity);
  for (const [uv, oldPaths] of oldByUv) {
    const newPaths = newByUv.get(uv) ?? [];
    const from = oldPaths[0];
    const to = newPaths[0];
    if (oldPaths.length !== 1 || newPaths.length !== 1 || from === undefined || to === undefined || from === to) continue;
    changes.push({ kind: 'renamed', from, path: to, prev: oldUnmatched.get(from)!, now: newUnmatched.get(to)! });
    oldUnmatched.delete(from);
    newUnmatched.delete(to);
  }

  for (const [path, state] of oldUnmatched) {
    const now = newUnmatched.get(path);
    if (now) {
      changes.push({ kind: 'reset', path, prev: state, now });
      newUnmatched.delete(path);
    } else {
      changes.push({ kind: 'deleted', path, prev: state });
    }
  }
  for (const [path, now] of newUnmatched) changes.push({ kind: 'created', path, now });
  return changes;
}

/** Keeps only the configured folders (all when none are configured). INBOX is case-insensitive (RFC 3501). */
export function folderFilter(folders: readonly string[] | undefined): (path: string) => boolean {
  if (!folders || folders.length === 0) return () => true;
  const wanted = new Set(folders.map((f) => (f.toUpperCase() === 'INBOX' ? 'INBOX' : f)));
  return (path) => wanted.has(path.toUpperCase() === 'INBOX' ? 'INBOX' : path);
}

/** `[1,2,3,7,9,10]` → `1:3,7,9:10`: short UID sets for FETCH and SEARCH. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let start: number | undefined;
  let last: number | undefined;
  for (const u of sorted) {
    if (start !== undefined && last !== undefined && u === last + 1) {
      last = u;
      continue;
    }
    if (start !== undefined && last !== undefined) parts.push(start === last ? `${start}` : `${start}:${last}`);
    start = u;
    last = u;
  }
  if (start !== undefined && last !== undefined) parts.push(start === last ? `${start}` : `${start}:${last}`);
  return parts.join(',');
}

/** The numbers a cursor's `recentSent` keeps: enough for a burst, small enough for a JSON cursor. */
export const RECENT_SENT_MAX = 500;

export function rememberSent(recent: readonly string[], fingerprints: readonly string[]): string[] {
  if (fingerprints.length === 0) return [...recent];
  const seen = new Set(fingerprints);
  const kept = recent.filter((f) => !seen.has(f));
  return [...kept, ...fingerprints].slice(-RECENT_SENT_MAX);
}
