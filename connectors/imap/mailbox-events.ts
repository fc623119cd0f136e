import { createHash } from 'node:crypto';
import { parseAddressHeader } from 'mailparser';
import { isInternalAddress } from '../../src/enrich/addresses.js';
import type { VigieEvent } from '../../src/events.js';

/**
 * What the mailbox stream's pull hands to normalize: plain JSON facts read from the server, so
 * normalize stays pure and a record can be logged or replayed as it is.
 */
export type MailboxRecord = FolderRecord | ExpungedRecord | TrashedRecord | SentRecord;

export interface FolderRecord {
  type: 'folder';
  account: string;
  action: 'folder_created' | 'folder_deleted' | 'folder_renamed';
  folder: string;
  /** The old name of a renamed folder. */
  from?: string;
  uidValidity: string;
  specialUse?: string;
  /** Messages in the folder: now for a created or renamed folder, at the last scan for a deleted one. */
  messages: number;
  /** The previous scan of the account (base 36 ms): a replay of the same poll gives the same event id. */
  epoch: string;
  /** When the scan saw it (the server keeps no time for folder changes). */
  time: string;
}

export interface ExpungedRecord {
  type: 'expunged';
  account: string;
  folder: string;
  uidValidity: string;
  specialUse?: string;
  count: number;
  before: FolderNumbers;
  after: FolderNumbers;
  time: string;
}

/** Messages that arrived in the Trash folder: what mail clients do on "delete". */
export interface TrashedRecord {
  type: 'trashed';
  account: string;
  folder: string;
  uidValidity: string;
  count: number;
  /** The UIDs assigned since the last poll: [from, to). */
  uids: { from: number; to: number };
  time: string;
}

export interface FolderNumbers {
  uidNext: number;
  messages: number;
  highestModseq?: string;
}

export interface SentRecord {
  type: 'sent';
  account: string;
  folder: string;
  uidValidity: string;
  uid: number;
  /** INTERNALDATE: when the server stored the message (the envelope Date is the client's word). */
  time: string;
  messageId?: string;
  from: string[];
  /** To, Cc and Bcc (a Sent copy keeps the Bcc the sender typed), lower-cased, deduplicated. */
  recipients: string[];
  /** Resent-To of a message redirected ("bounced") by the user's client. */
  resentTo: string[];
  client?: string;
  autoSubmitted?: string;
  size?: number;
}

/** Header fields read from Sent messages, never more (RFC 5322 names, matched case-insensitively). */
export const SENT_HEADER_FIELDS = ['user-agent', 'x-mailer', 'auto-submitted', 'resent-to', 'resent-from', 'resent-date'] as const;

const MAX_LISTED_EXTERNAL = 100;
const MAX_TEXT = 200;

/** Unfolds a header block and returns the wanted fields (lower-cased names), each value as many times as it occurs. */
export function pickHeaders(raw: Buffer | string | undefined, names: readonly string[]): Map<string, string[]> {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out = new Map<string, string[]>();
  if (!raw) return out;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let current: { name: string; value: string } | undefined;
  const flush = () => {
    if (current && wanted.has(current.name)) out.set(current.name, [...(out.get(current.name) ?? []), current.value.trim()]);
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break; // end of the header block
    if ((line.startsWith(' ') || line.startsWith('\t')) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    current = { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) };
  }
  // The block may have been cut at the size cap: a truncated last field is still better than none.
  flush();
  return out;
}

/** Header text as evidence: no control characters (they could forge log lines or alerts), bounded. */
export function cleanText(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return t ? t.slice(0, MAX_TEXT) : undefined;
}

export function addressesOf(values: readonly string[] | undefined): string[] {
  if (!values || values.length === 0) return [];
  const out: string[] = [];
  const walk = (list: readonly { address?: string | undefined; group?: readonly unknown[] | undefined }[]) => {
    for (const a of list) {
      if (a.address) out.push(a.address.trim().toLowerCase());
      if (a.group) walk(a.group as { address?: string }[]);
    }
  };
  walk(parseAddressHeader([...values]).value);
  return [...new Set(out.filter((a) => a.includes('@')))];
}

/** Stable across a UIDVALIDITY reset: the Message-ID, or what the envelope says when there is none. */
export function sentFingerprint(r: Pick<SentRecord, 'messageId' | 'time' | 'recipients' | 'size'>): string {
  const basis = r.messageId ? `mid:${r.messageId.trim().toLowerCase()}` : `env:${r.time}|${r.recipients.join(',')}|${r.size ?? ''}`;
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

const enc = (s: string) => encodeURIComponent(s);

/** `imap:mailbox:<account>:<folder>:<uidvalidity>:...`; folder names are encoded so a `:` in one cannot collide. */
function eventId(account: string, folder: string, uidValidity: string, rest: string): string {
  return `imap:mailbox:${account}:${enc(folder)}:${uidValidity}:${rest}`;
}

function rangeOf(n: FolderNumbers): string {
  return n.highestModseq !== undefined ? `m${n.highestModseq}` : `u${n.uidNext}n${n.messages}`;
}

export function normalizeMailboxRecord(rec: MailboxRecord, opts: { source: string; domains: readonly string[] }): VigieEvent[] {
  const base = { kind: 'mail_activity' as const, provider: 'imap' as const, source: opts.source, account: rec.account };
  switch (rec.type) {
    case 'folder': {
      const id =
        rec.action === 'folder_renamed'
          ? eventId(rec.account, rec.folder, rec.uidValidity, `folder_renamed:${enc(rec.from ?? '')}:${rec.epoch}`)
          : eventId(rec.account, rec.folder, rec.uidValidity, `${rec.action}:${rec.epoch}`);
      return [
        {
          ...base,
          id,
          time: rec.time,
          details: {
            action: rec.action,
            folder: rec.folder,
            ...(rec.from !== undefined ? { from_folder: rec.from } : {}),
            ...(rec.specialUse ? { special_use: rec.specialUse } : {}),
            count: rec.messages,
          },
        },
      ];
    }
    case 'expunged': {
      if (rec.count <= 0) return [];
      return [
        {
          ...base,
          // The modseq (or UIDNEXT/count) range of this poll: the same poll replayed gives the same id.
          id: eventId(rec.account, rec.folder, rec.uidValidity, `expunged:${rangeOf(rec.before)}-${rangeOf(rec.after)}`),
          time: rec.time,
          details: {
            action: 'expunged',
            folder: rec.folder,
            ...(rec.specialUse ? { special_use: rec.specialUse } : {}),
            count: rec.count,
            messages_before: rec.before.messages,
            messages_after: rec.after.messages,
          },
        },
      ];
    }
    case 'trashed': {
      if (rec.count <= 0) return [];
      return [
        {
          ...base,
          id: eventId(rec.account, rec.folder, rec.uidValidity, `deleted:u${rec.uids.from}-u${rec.uids.to}`),
          time: rec.time,
          details: { action: 'deleted', folder: rec.folder, special_use: '\\Trash', count: rec.count },
        },
      ];
    }
    case 'sent': {
      const all = [...new Set([...rec.recipients, ...rec.resentTo])];
      const external = all.filter((a) => !isInternalAddress(a, opts.domains));
      const autoSubmitted = rec.autoSubmitted?.split(';')[0]?.trim().toLowerCase();
      return [
        {
          ...base,
          id: eventId(rec.account, rec.folder, rec.uidValidity, String(rec.uid)),
          time: rec.time,
          details: {
            action: 'sent',
            count: 1,
            folder: rec.folder,
            recipients: all.length,
            external_recipients: external.slice(0, MAX_LISTED_EXTERNAL),
            external_recipient_count: external.length,
            ...(rec.from[0] ? { from: rec.from[0] } : {}),
            ...(rec.client ? { client: rec.client } : {}),
            // A redirect keeps the original message and adds Resent-*; auto-forwarding MUAs and
            // Sieve-like agents mark theirs with Auto-Submitted (RFC 3834).
            auto_forwarded: autoSubmitted === 'auto-forwarded' || rec.resentTo.length > 0,
            ...(autoSubmitted && autoSubmitted !== 'no' ? { auto_submitted: autoSubmitted } : {}),
            ...(rec.resentTo.length ? { resent_to: rec.resentTo.slice(0, MAX_LISTED_EXTERNAL) } : {}),
            ...(rec.messageId ? { message_id: rec.messageId } : {}),
            ...(rec.size !== undefined ? { size: rec.size } : {}),
          },
        },
      ];
    }
  }
}
