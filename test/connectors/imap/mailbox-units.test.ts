import type { ImapFlow } from 'imapflow';
import { describe, expect, it } from 'vitest';
import {
  addressesOf,
  cleanText,
  normalizeMailboxRecord,
  pickHeaders,
  sentFingerprint,
  type SentRecord,
} from '../../../connectors/imap/mailbox-events.js';
import { listFolders } from '../../../connectors/imap/mailbox-stream.js';
import { diffFolders, folderFilter, rememberSent, RECENT_SENT_MAX, uidSet, type FolderState, type ListedFolder } from '../../../connectors/imap/mailbox-folders.js';

const st = (uidValidity: string, messages = 1): FolderState => ({ uidValidity, uidNext: messages + 1, messages });
const lf = (path: string, uidValidity: string, messages = 1): ListedFolder => ({ path, uidValidity, uidNext: messages + 1, messages });
const kinds = (changes: ReturnType<typeof diffFolders>) => changes.map((c) => (c.kind === 'renamed' ? `renamed ${c.from} -> ${c.path}` : `${c.kind} ${c.path}`)).sort();

describe('diffFolders', () => {
  it('tells same, created, deleted, renamed and reset folders apart', () => {
    const prev = { INBOX: st('1'), Projects: st('2', 5), Old: st('3'), Notes: st('4') };
    const now = [lf('INBOX', '1'), lf('Projects-2025', '2', 4), lf('New', '9'), lf('Notes', '10')];
    expect(kinds(diffFolders(prev, now))).toEqual(['created New', 'deleted Old', 'renamed Projects -> Projects-2025', 'reset Notes', 'same INBOX']);
  });

  it('sees "renamed away and a new folder under the old name" as a rename plus a creation', () => {
    expect(kinds(diffFolders({ A: st('1') }, [lf('A', '2'), lf('B', '1')]))).toEqual(['created A', 'renamed A -> B']);
  });

  it('does not pair renames that are not one-to-one', () => {
    // Two folders claiming one UIDVALIDITY cannot come from Dovecot: trust neither.
    expect(kinds(diffFolders({ A: st('7') }, [lf('B', '7'), lf('C', '7')]))).toEqual(['created B', 'created C', 'deleted A']);
  });

  it('renames whole subtrees folder by folder', () => {
    expect(kinds(diffFolders({ Work: st('1'), 'Work.Deep': st('2') }, [lf('Job', '1'), lf('Job.Deep', '2')]))).toEqual([
      'renamed Work -> Job',
      'renamed Work.Deep -> Job.Deep',
    ]);
  });
});

describe('folder helpers', () => {
  it('filters folders, INBOX in any case', () => {
    const f = folderFilter(['inbox', 'Sent']);
    expect(['INBOX', 'Sent', 'Trash'].filter(f)).toEqual(['INBOX', 'Sent']);
    expect(folderFilter(undefined)('Anything')).toBe(true);
  });

  it('writes compact UID sets', () => {
    expect(uidSet([9, 1, 2, 3, 7, 10, 3])).toBe('1:3,7,9:10');
    expect(uidSet([4])).toBe('4');
    expect(uidSet([])).toBe('');
  });

  it('remembers the latest Sent fingerprints, bounded, newest last', () => {
    expect(rememberSent(['a', 'b'], ['b', 'c'])).toEqual(['a', 'b', 'c']);
    const many = Array.from({ length: RECENT_SENT_MAX + 10 }, (_, i) => `f${i}`);
    const kept = rememberSent([], many);
    expect(kept).toHaveLength(RECENT_SENT_MAX);
    expect(kept.at(-1)).toBe(`f${RECENT_SENT_MAX + 9}`);
  });
});

describe('Sent headers', () => {
  it('unfolds the wanted fields, whatever their case, and stops at the end of the header', () => {
    const raw = 'X-MAILER: Outlook\r\n 16.0\r\nuser-agent: one\r\nResent-To: a@x.example,\r\n\tb@y.example\r\nResent-To: c@z.example\r\n\r\nX-Mailer: in the body\r\n';
    const h = pickHeaders(Buffer.from(raw), ['x-mailer', 'user-agent', 'resent-to']);
    expect(h.get('x-mailer')).toEqual(['Outlook 16.0']);
    expect(h.get('user-agent')).toEqual(['one']);
    expect(h.get('resent-to')).toEqual(['a@x.example, b@y.example', 'c@z.example']);
  });

  it('keeps a field cut by the size cap', () => {
    expect(pickHeaders('From: a@b.example\r\nUser-Agent: Thunderb', ['user-agent']).get('user-agent')).toEqual(['Thunderb']);
  });

  it('cleans control characters out of header text and bounds it', () => {
    expect(cleanText('Evil\r\nX-Injected: 1\u0000\u2028tail')).toBe('Evil X-Injected: 1 tail');
    expect(cleanText('x'.repeat(1000))).toHaveLength(200);
    expect(cleanText(' \t ')).toBeUndefined();
  });

  it('reads addresses, groups and encoded display names included', () => {
    expect(addressesOf(['"=?utf-8?q?=C3=88ve?=" <EVE@Evil.example>, team: a@x.example, b@y.example;', 'c@z.example'])).toEqual([
      'eve@evil.example',
      'a@x.example',
      'b@y.example',
      'c@z.example',
    ]);
    expect(addressesOf(undefined)).toEqual([]);
  });

  it('fingerprints by Message-ID, or by the envelope without one', () => {
    const base = { time: '2026-01-01T00:00:00.000Z', recipients: ['a@x.example'], size: 10 };
    expect(sentFingerprint({ ...base, messageId: '<A@x>' })).toBe(sentFingerprint({ ...base, time: 'other', messageId: '<a@x>' }));
    expect(sentFingerprint(base)).not.toBe(sentFingerprint({ ...base, size: 11 }));
  });
});

describe('normalizeMailboxRecord', () => {
  const opts = { source: 'nord', domains: ['party.example'] };
  const sent: SentRecord = {
    type: 'sent',
    account: 'alice@party.example',
    folder: 'Sent',
    uidValidity: '1700000000',
    uid: 42,
    time: '2026-03-10T09:00:00.000Z',
    messageId: '<m@party.example>',
    from: ['alice@party.example'],
    recipients: ['bob@party.example', 'dan@sub.party.example', 'eve@evil.example', 'localuser'],
    resentTo: [],
    client: 'Thunderbird',
    autoSubmitted: 'no',
    size: 1234,
  };

  it('makes one sent event per message, id from UIDVALIDITY and UID', () => {
    const [e] = normalizeMailboxRecord(sent, opts);
    expect(e).toEqual({
      id: 'imap:mailbox:alice@party.example:Sent:1700000000:42',
      kind: 'mail_activity',
      provider: 'imap',
      source: 'nord',
      account: 'alice@party.example',
      time: '2026-03-10T09:00:00.000Z',
      details: {
        action: 'sent',
        count: 1,
        folder: 'Sent',
        recipients: 4,
        external_recipients: ['eve@evil.example'],
        external_recipient_count: 1,
        from: 'alice@party.example',
        client: 'Thunderbird',
        auto_forwarded: false,
        message_id: '<m@party.example>',
        size: 1234,
      },
    });
  });

  it('marks redirects and auto-forwards', () => {
    const [e] = normalizeMailboxRecord({ ...sent, recipients: [], resentTo: ['eve@evil.example'], autoSubmitted: 'Auto-Forwarded; x=1' }, opts);
    expect(e!.details).toMatchObject({ recipients: 1, external_recipients: ['eve@evil.example'], resent_to: ['eve@evil.example'], auto_forwarded: true, auto_submitted: 'auto-forwarded' });
  });

  it('gives an expunge the id of its modseq range, or of its UIDNEXT and count range without CONDSTORE', () => {
    const rec = {
      type: 'expunged' as const,
      account: 'alice@party.example',
      folder: 'A:B/C',
      uidValidity: '5',
      count: 3,
      before: { uidNext: 10, messages: 9, highestModseq: '20' },
      after: { uidNext: 10, messages: 6, highestModseq: '23' },
      time: '2026-03-10T09:00:00.000Z',
    };
    expect(normalizeMailboxRecord(rec, opts)[0]!.id).toBe('imap:mailbox:alice@party.example:A%3AB%2FC:5:expunged:m20-m23');
    const { highestModseq: _a, ...b } = rec.before;
    const { highestModseq: _b, ...a } = rec.after;
    expect(normalizeMailboxRecord({ ...rec, before: b, after: a }, opts)[0]!.id).toBe('imap:mailbox:alice@party.example:A%3AB%2FC:5:expunged:u10n9-u10n6');
    expect(normalizeMailboxRecord({ ...rec, count: 0 }, opts)).toEqual([]);
  });

  it('turns arrivals in Trash into one deleted event, its id from the UIDs of the poll', () => {
    const rec = { type: 'trashed' as const, account: 'a@party.example', folder: 'Trash', uidValidity: '7', count: 20, uids: { from: 31, to: 51 }, time: '2026-03-10T09:00:00.000Z' };
    expect(normalizeMailboxRecord(rec, opts)).toEqual([
      expect.objectContaining({ id: 'imap:mailbox:a@party.example:Trash:7:deleted:u31-u51', details: { action: 'deleted', folder: 'Trash', special_use: '\\Trash', count: 20 } }),
    ]);
  });

  it('ties folder events to the poll that saw them', () => {
    const rec = { type: 'folder' as const, account: 'a@party.example', action: 'folder_renamed' as const, folder: 'New', from: 'Old', uidValidity: '7', messages: 3, epoch: 'abc', time: '2026-03-10T09:00:00.000Z' };
    const [e] = normalizeMailboxRecord(rec, opts);
    expect(e).toMatchObject({ id: 'imap:mailbox:a@party.example:New:7:folder_renamed:Old:abc', details: { action: 'folder_renamed', folder: 'New', from_folder: 'Old', count: 3 } });
    expect(normalizeMailboxRecord({ ...rec, epoch: 'abd' }, opts)[0]!.id).not.toBe(e!.id);
  });
});

describe('listFolders (P17)', () => {
  const client = (status: Record<string, unknown> | undefined, flags: string[] = []) =>
    ({ list: async () => [{ path: 'INBOX', specialUse: '\\Inbox', flags: new Set(flags), status }] }) as unknown as ImapFlow;

  it('refuses a folder without UIDVALIDITY instead of guessing', async () => {
    await expect(listFolders(client({ messages: 3, uidNext: 4 }), 'a@party.example', () => true)).rejects.toMatchObject({
      code: 'SOURCE_FAILED',
      message: expect.stringMatching(/no UIDVALIDITY for folder "INBOX" of a@party\.example/),
    });
  });

  it('refuses a folder whose STATUS failed', async () => {
    await expect(listFolders(client({ error: new Error('NO [SERVERBUG]') }), 'a@party.example', () => true)).rejects.toThrow(/no STATUS for folder "INBOX".*SERVERBUG/);
  });

  it('skips folders that cannot hold mail and folders not configured', async () => {
    expect(await listFolders(client(undefined, ['\\Noselect']), 'a@party.example', () => true)).toEqual([]);
    expect(await listFolders(client({ messages: 1, uidNext: 2, uidValidity: 9n }), 'a@party.example', () => false)).toEqual([]);
    expect(await listFolders(client({ messages: 1, uidNext: 2, uidValidity: 9n, highestModseq: 12n }), 'a@party.example', () => true)).toEqual([
      { path: 'INBOX', specialUse: '\\Inbox', uidValidity: '9', uidNext: 2, messages: 1, highestModseq: '12' },
    ]);
  });
});
