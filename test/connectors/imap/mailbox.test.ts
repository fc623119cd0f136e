import fs from 'node:fs';
import path from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailboxStream, type MailboxStreamOptions } from '../../../connectors/imap/mailbox-stream.js';
import type { MailboxRecord } from '../../../connectors/imap/mailbox-events.js';
import type { LogPage, LogStream } from '../../../src/pipeline/connector.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';
import { account, appendMany, DOMAINS, endpoint, forbiddenCommands, mail, pipeline, SOURCE, userClient, verbs } from './mailbox-fixtures.js';

let dovecot: DovecotServer;

beforeAll(async () => {
  dovecot = await startDovecot({ users: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina'] });
});

afterAll(async () => {
  await dovecot?.stop();
});

function stream(users: string[], extra: Partial<MailboxStreamOptions> = {}) {
  const commands: string[] = [];
  const s = createMailboxStream({
    source: SOURCE,
    endpoint: endpoint(dovecot),
    accounts: users.map((u) => account(dovecot, u)),
    domains: DOMAINS,
    onCommand: (line) => commands.push(line),
    ...extra,
  });
  return { stream: s, commands };
}

/**
 * The harness stops Dovecot's master; the imap processes it forked keep serving their sessions.
 * A server that goes away takes them along: SIGKILL, by pid, to this test's own Dovecot only.
 */
function killSessions(d: DovecotServer): void {
  const title = new RegExp(`^dovecot-vigie-test-${path.basename(d.dir)}/imap(\\s|\\0|$)`);
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (title.test(cmdline)) process.kill(Number(pid), 'SIGKILL');
  }
}

async function withUser<T>(user: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = await userClient(dovecot, user);
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

describe('IMAP mailbox stream against Dovecot', () => {
  it('reports 300 expunged messages as one event, from STATUS alone, and nothing on the next poll', async () => {
    await withUser('alice', async (c) => {
      await c.mailboxCreate('Archive');
      await appendMany(c, 'Archive', Array.from({ length: 300 }, () => mail()));
      await appendMany(c, 'INBOX', [mail(), mail()]);
    });
    const { stream: s, commands } = stream(['alice']);
    const p = pipeline(s);
    await p.run();
    expect(p.takeEvents()).toEqual([]); // the first run is a baseline

    await withUser('alice', async (c) => {
      await c.mailboxOpen('Archive');
      await c.messageDelete('1:*');
    });
    commands.length = 0;
    await p.run();
    const events = p.takeEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: 'mail_activity',
      provider: 'imap',
      source: SOURCE,
      account: 'alice@party.example',
      details: { action: 'expunged', folder: 'Archive', count: 300, messages_before: 300, messages_after: 0 },
    });
    expect(events[0]!.id).toMatch(/^imap:mailbox:alice@party\.example:Archive:\d+:expunged:m\d+-m\d+$/);
    // No UID was assigned since the last poll: the LIST-STATUS numbers say it all, no folder is opened.
    expect(verbs(commands)).not.toContain('EXAMINE');

    commands.length = 0;
    await p.run();
    expect(p.takeEvents()).toEqual([]);
    expect(verbs(commands).filter((v) => !['ID', 'AUTHENTICATE', 'LOGIN', 'NAMESPACE', 'ENABLE', 'CAPABILITY', 'LOGOUT'].includes(v))).toEqual(['LIST']);
  });

  it('counts expunges exactly when new mail arrived in the same poll', async () => {
    await withUser('alice', async (c) => {
      await appendMany(c, 'Archive', Array.from({ length: 10 }, () => mail()));
    });
    const { stream: s } = stream(['alice']);
    const p = pipeline(s);
    await p.run();
    p.takeEvents();
    await withUser('alice', async (c) => {
      await c.mailboxOpen('Archive');
      await c.messageDelete('2:5'); // 4 old ones
      await appendMany(c, 'Archive', [mail(), mail(), mail()]);
      await c.mailboxOpen('Archive');
      await c.messageDelete('*', {}); // and one of the new ones: never seen, so not counted
    });
    await p.run();
    const events = p.takeEvents();
    expect(events.map((e) => e.details)).toEqual([
      expect.objectContaining({ action: 'expunged', folder: 'Archive', count: 4, messages_before: 10, messages_after: 8 }),
    ]);
  });

  it('reports mail moved to Trash as deleted there (and gone from where it was)', async () => {
    await withUser('alice', async (c) => {
      await c.mailboxCreate('Trash');
      await appendMany(c, 'INBOX', Array.from({ length: 20 }, () => mail()));
    });
    const { stream: s } = stream(['alice'], { folders: ['INBOX', 'Trash'] });
    const p = pipeline(s);
    await p.run();
    p.takeEvents();
    await withUser('alice', async (c) => {
      await c.mailboxOpen('INBOX');
      await c.messageMove('1:20', 'Trash');
    });
    await p.run();
    const details = p.takeEvents().map((e) => e.details);
    expect(details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'deleted', folder: 'Trash', special_use: '\\Trash', count: 20 }),
        expect.objectContaining({ action: 'expunged', folder: 'INBOX', count: 20 }),
      ]),
    );
    expect(details).toHaveLength(2);
  });

  it('reports a renamed folder once, as a rename, and created and deleted folders', async () => {
    await withUser('bob', async (c) => {
      await c.mailboxCreate('Projects');
      await c.mailboxCreate('Old');
      await appendMany(c, 'Projects', [mail(), mail()]);
    });
    const { stream: s } = stream(['bob']);
    const p = pipeline(s);
    await p.run();
    expect(p.takeEvents()).toEqual([]);

    await withUser('bob', async (c) => {
      await c.mailboxRename('Projects', 'Projects-2025');
      await c.mailboxDelete('Old');
      await c.mailboxCreate('Exfil');
    });
    await p.run();
    const events = p.takeEvents();
    const byAction = Object.fromEntries(events.map((e) => [e.details.action as string, e]));
    expect(events).toHaveLength(3);
    expect(byAction.folder_renamed).toMatchObject({ details: { folder: 'Projects-2025', from_folder: 'Projects', count: 2 } });
    expect(byAction.folder_deleted).toMatchObject({ details: { folder: 'Old', count: 0 } });
    expect(byAction.folder_created).toMatchObject({ details: { folder: 'Exfil', count: 0 } });

    // The renamed folder kept its state: mail deleted in it afterwards is counted against it.
    await withUser('bob', async (c) => {
      await c.mailboxOpen('Projects-2025');
      await c.messageDelete('1');
    });
    await p.run();
    expect(p.takeEvents().map((e) => e.details)).toEqual([expect.objectContaining({ action: 'expunged', folder: 'Projects-2025', count: 1 })]);
  });

  it('reports new Sent messages with recipient counts, external recipients, the client and forwarding markers', async () => {
    const old = mail({ to: ['x@elsewhere.example'], messageId: '<old@party.example>' });
    const recent = mail({ to: ['bob@party.example'], messageId: '<recent@party.example>' });
    await withUser('carol', async (c) => {
      await c.mailboxCreate('Sent');
      await c.append('Sent', old, ['\\Seen'], new Date(Date.now() - 30 * 86_400_000));
      await c.append('Sent', recent, ['\\Seen']);
    });
    const { stream: s } = stream(['carol']);
    const p = pipeline(s);
    await p.run();
    // First run: Sent mail within the backfill (7 days) is read, older mail is history.
    expect(p.takeEvents().map((e) => e.details.message_id)).toEqual(['<recent@party.example>']);

    await withUser('carol', async (c) => {
      await appendMany(
        c,
        'Sent',
        [
          mail({ from: 'carol@party.example', to: ['bob@party.example', 'eve@evil.example'], cc: ['Dan <dan@sub.party.example>'], headers: { 'X-Mailer': 'Microsoft Outlook 16.0' } }),
          mail({ from: 'carol@party.example', to: ['alice@party.example'], bcc: ['drop@exfil.example', 'drop2@exfil.example'], headers: { 'User-Agent': 'Mozilla/5.0 Thunderbird/128.3.0', 'X-Mailer': 'ignored' } }),
          mail({
            from: 'boss@party.example',
            to: ['carol@party.example'],
            headers: { 'Resent-From': 'carol@party.example', 'Resent-To': '"Eve" <eve@evil.example>', 'Resent-Date': new Date().toUTCString(), 'Auto-Submitted': 'auto-forwarded' },
          }),
        ],
        ['\\Seen'],
      );
    });
    await p.run();
    const events = p.takeEvents().sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    expect(events).toHaveLength(3);
    for (const e of events) {
      expect(e).toMatchObject({ kind: 'mail_activity', provider: 'imap', account: 'carol@party.example' });
      expect(e.id).toMatch(/^imap:mailbox:carol@party\.example:Sent:\d+:\d+$/);
      expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(5 * 60_000);
    }
    expect(events[0]!.details).toMatchObject({ action: 'sent', count: 1, folder: 'Sent', recipients: 3, external_recipients: ['eve@evil.example'], external_recipient_count: 1, client: 'Microsoft Outlook 16.0', auto_forwarded: false });
    expect(events[1]!.details).toMatchObject({ recipients: 3, external_recipients: ['drop@exfil.example', 'drop2@exfil.example'], external_recipient_count: 2, client: 'Mozilla/5.0 Thunderbird/128.3.0', auto_forwarded: false });
    expect(events[2]!.details).toMatchObject({ recipients: 2, external_recipients: ['eve@evil.example'], resent_to: ['eve@evil.example'], auto_forwarded: true, auto_submitted: 'auto-forwarded' });
    // Nothing private is kept: no subject, no body.
    expect(JSON.stringify(events)).not.toMatch(/Subject|message \d+|Private body/);
  });

  it('never changes the mailbox: flags and HIGHESTMODSEQ are the same after full scans of every folder', async () => {
    const folders = ['INBOX', 'Sent', 'Work', 'Work.Deep'];
    await withUser('dave', async (c) => {
      for (const f of folders.slice(1)) await c.mailboxCreate(f);
      for (const f of folders) {
        await appendMany(c, f, [mail({ to: ['x@evil.example'] }), mail()]); // unseen
        await appendMany(c, f, [mail()], ['\\Seen', '\\Flagged']);
      }
    });
    const { stream: s, commands } = stream(['dave']);
    const p = pipeline(s);
    await p.run();
    p.takeEvents();
    // New mail in every folder: the next poll opens and reads each of them.
    await withUser('dave', async (c) => {
      for (const f of folders) await appendMany(c, f, [mail({ to: ['y@evil.example'] }), mail()]);
    });

    const snapshot = () =>
      withUser('dave', async (c) => {
        const out: Record<string, unknown> = {};
        for (const f of folders) {
          const st = await c.status(f, { highestModseq: true, messages: true, uidNext: true });
          await c.mailboxOpen(f, { readOnly: true });
          const flags: Record<number, string[]> = {};
          for await (const m of c.fetch('1:*', { uid: true, flags: true }, { uid: true })) flags[m.uid] = [...(m.flags ?? [])].sort();
          out[f] = { modseq: st && String(st.highestModseq), messages: st && st.messages, flags };
        }
        return out;
      });
    const before = await snapshot();
    commands.length = 0;
    await p.run();
    await p.run();
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(Object.values(before).every((f) => Object.values((f as { flags: Record<number, string[]> }).flags).some((fl) => !fl.includes('\\Seen')))).toBe(true);

    const used = verbs(commands);
    expect(used.filter((v) => v === 'EXAMINE')).toHaveLength(folders.length);
    expect(used).toContain('UID FETCH');
    expect(forbiddenCommands(commands)).toEqual([]);
    expect(commands.filter((l) => /FETCH/.test(l)).every((l) => /BODY\.PEEK\[HEADER\]<0\.\d+>/.test(l))).toBe(true);
    expect(p.takeEvents().filter((e) => e.details.action === 'sent')).toHaveLength(2);
  });

  it('survives a UIDVALIDITY change: no duplicate events, no missed new message', async () => {
    await withUser('erin', async (c) => {
      await c.mailboxCreate('Sent');
      await c.mailboxCreate('Notes');
      await appendMany(c, 'Sent', [mail({ messageId: '<a@party.example>', to: ['x@evil.example'] }), mail({ messageId: '<b@party.example>' })], ['\\Seen']);
      await appendMany(c, 'Notes', [mail(), mail(), mail()]);
    });
    const { stream: s } = stream(['erin']);
    const p = pipeline(s);
    await p.run();
    expect(p.takeEvents().map((e) => e.details.message_id).sort()).toEqual(['<a@party.example>', '<b@party.example>']);
    const uvBefore = ((p.cursor() as { accounts: Record<string, { folders: Record<string, { uidValidity: string }> }> }).accounts['erin@party.example']!.folders.Sent!.uidValidity);

    // The folders are deleted and made again; the old Sent mail comes back (a client re-uploading
    // its copy) next to one genuinely new message; Notes comes back with fewer messages.
    await withUser('erin', async (c) => {
      await c.mailboxDelete('Sent');
      await c.mailboxDelete('Notes');
      await c.mailboxCreate('Sent');
      await c.mailboxCreate('Notes');
      await appendMany(
        c,
        'Sent',
        [mail({ messageId: '<a@party.example>', to: ['x@evil.example'] }), mail({ messageId: '<b@party.example>' }), mail({ messageId: '<c@party.example>', to: ['z@evil.example'] })],
        ['\\Seen'],
      );
      await appendMany(c, 'Notes', [mail()]);
    });
    await p.run();
    const events = p.takeEvents();
    expect(events.map((e) => [e.details.action, e.details.message_id])).toEqual([['sent', '<c@party.example>']]);
    expect(events[0]!.details.external_recipients).toEqual(['z@evil.example']);
    const uvAfter = (p.cursor() as { accounts: Record<string, { folders: Record<string, { uidValidity: string }> }> }).accounts['erin@party.example']!.folders.Sent!.uidValidity;
    expect(uvAfter).not.toBe(uvBefore);

    // And the new incarnation is followed normally from there.
    await withUser('erin', async (c) => appendMany(c, 'Sent', [mail({ messageId: '<d@party.example>' })], ['\\Seen']));
    await p.run();
    expect(p.takeEvents().map((e) => e.details.message_id)).toEqual(['<d@party.example>']);
  });

  it('fails loudly when Dovecot goes away mid-scan, keeps the last committed page, and the next run completes', async () => {
    for (const user of ['frank', 'gina']) {
      await withUser(user, async (c) => {
        await c.mailboxCreate('Sent');
        await c.mailboxCreate('Box');
        await appendMany(c, 'Box', Array.from({ length: 5 }, () => mail()));
      });
    }
    const { stream: inner } = stream(['frank', 'gina']);
    const pages: LogPage<MailboxRecord>[] = [];
    let stopAfterFirstPage = false;
    const s: LogStream<MailboxRecord> = {
      ...inner,
      async *pull(cursor, ctx) {
        for await (const page of inner.pull(cursor, ctx)) {
          pages.push(page);
          yield page;
          // Resumed: the runner committed the page. Now the server goes away under the scan.
          if (stopAfterFirstPage) {
            stopAfterFirstPage = false;
            await dovecot.stop();
            killSessions(dovecot);
          }
        }
      },
    };
    const p = pipeline(s);
    await p.run();
    p.takeEvents();

    // Both folders of both accounts need the server next time: new mail plus an expunge in Box,
    // new mail in Sent.
    for (const user of ['frank', 'gina']) {
      await withUser(user, async (c) => {
        await appendMany(c, 'Sent', [mail({ to: ['out@evil.example'] }), mail({ to: ['in@party.example'] })], ['\\Seen']);
        await c.mailboxOpen('Box');
        await c.messageDelete('1:2');
        await appendMany(c, 'Box', [mail()]);
      });
    }
    pages.length = 0;
    stopAfterFirstPage = true;
    const failed = p.run();
    await expect(failed).rejects.toMatchObject({ code: 'SOURCE_FAILED' });
    await expect(failed).rejects.toThrow(/IMAP .*frank@party\.example.*(lost|Cannot connect)|Cannot connect .*frank/);
    expect(pages).toHaveLength(1);
    expect(p.cursor()).toEqual(pages[0]!.cursor);
    const firstRun = p.takeEvents();
    expect(firstRun.length).toBeGreaterThan(0);
    expect(p.store.streamStatuses()[0]).toMatchObject({ source: SOURCE, stream: 'mailbox', consecutive_failures: 1 });

    await dovecot.start();
    await p.run();
    const everything = [...firstRun, ...p.takeEvents()];
    // The failure itself became a monitor event (runner), with the clear message.
    expect(everything.filter((e) => e.kind === 'monitor')).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ type: 'source_failing', stream: 'mailbox', error: expect.stringMatching(/frank@party\.example/) }) }),
    ]);
    const all = everything.filter((e) => e.kind === 'mail_activity');
    const ids = all.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    const summary = all.map((e) => `${e.account} ${String(e.details.action)} ${String(e.details.folder)} ${String(e.details.count)}`).sort();
    expect(summary).toEqual([
      'frank@party.example expunged Box 2',
      'frank@party.example sent Sent 1',
      'frank@party.example sent Sent 1',
      'gina@party.example expunged Box 2',
      'gina@party.example sent Sent 1',
      'gina@party.example sent Sent 1',
    ]);
    expect(p.store.streamStatuses()[0]).toMatchObject({ consecutive_failures: 0 });
  });
});
