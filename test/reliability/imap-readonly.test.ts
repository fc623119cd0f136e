import fs from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDovecot, type DovecotServer } from '../helpers/dovecot.js';
import { tmpDir } from '../helpers/tmp.js';
import { appendMany, mail, userClient } from '../connectors/imap/mailbox-fixtures.js';

/**
 * P18, read-only by construction, checked on the wire: a recording TCP proxy sits between
 * `vigie once` and Dovecot (IMAP and ManageSieve) and parses every client command. Any command
 * that could change a mailbox or a Sieve script fails the test: SELECT, STORE, COPY, MOVE,
 * EXPUNGE, APPEND, CREATE, DELETE, RENAME, SUBSCRIBE, a FETCH of BODY[ without .PEEK, and
 * PUTSCRIPT, DELETESCRIPT, SETACTIVE, RENAMESCRIPT over ManageSieve. Flags are compared before and after.
 */
const IMAP_FORBIDDEN = /^(SELECT|STORE|UID STORE|COPY|UID COPY|MOVE|UID MOVE|EXPUNGE|UID EXPUNGE|APPEND|CREATE|DELETE|RENAME|SUBSCRIBE|UNSUBSCRIBE|SETACL|DELETEACL|SETMETADATA|SETQUOTA)$/;
const SIEVE_FORBIDDEN = /^(PUTSCRIPT|DELETESCRIPT|SETACTIVE|RENAMESCRIPT)$/i;

interface Proxy {
  port: number;
  /** Client command lines (literals skipped). */
  lines: string[];
  close(): Promise<void>;
}

/** A TCP proxy that records the client's command lines, skipping the bytes of IMAP literals. */
async function recordingProxy(targetPort: number): Promise<Proxy> {
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let buf = Buffer.alloc(0);
    let literal = 0;
    client.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        if (literal > 0) {
          const take = Math.min(literal, buf.length);
          buf = buf.subarray(take);
          literal -= take;
          if (literal > 0) break;
        }
        const nl = buf.indexOf(0x0a);
        if (nl < 0) break;
        const line = buf.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        buf = buf.subarray(nl + 1);
        lines.push(line);
        const m = /\{(\d+)\+?\}$/.exec(line);
        if (m) literal = Number(m[1]);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    lines,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** IMAP command verbs (`UID FETCH`, `EXAMINE`…), or undefined for continuation data. */
function imapVerb(line: string): string | undefined {
  return /^[A-Za-z0-9.]+ (UID [A-Za-z]+|[A-Za-z]+)/.exec(line)?.[1]?.toUpperCase();
}

function imapViolations(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    const verb = imapVerb(line);
    if (!verb) return false;
    if (IMAP_FORBIDDEN.test(verb)) return true;
    // A FETCH of BODY[...] without PEEK sets \Seen; RFC822 and RFC822.TEXT do too.
    return /FETCH/.test(verb) && (/BODY\[/i.test(line) || /\bRFC822(\.TEXT)?\b/i.test(line));
  });
}

const dir = tmpDir('vigie-imap-readonly-');
let dovecot: DovecotServer;
let imap: Proxy;
let sieve: Proxy;
let config: string;

async function flags(): Promise<string> {
  const out: string[] = [];
  for (const u of ['alice', 'bob']) out.push(await dovecot.doveadm(['fetch', '-u', u, 'mailbox uid flags', 'all']));
  return out.join('\n');
}

beforeAll(async () => {
  dovecot = await startDovecot({ users: ['alice', 'bob'] });
  [imap, sieve] = await Promise.all([recordingProxy(dovecot.imapPort), recordingProxy(dovecot.sievePort)]);
  fs.writeFileSync(path.join(dir, 'master-password'), `${dovecot.master.password}\n`, { mode: 0o600 });
  config = path.join(dir, 'vigie.yml');
  fs.writeFileSync(
    config,
    `organisation: { name: Branch, domains: [party.example] }
state: { path: ./vigie.db }
connectors:
  - name: branch
    type: imap
    host: 127.0.0.1
    port: ${imap.port}
    tls: false
    master_user: { user: ${dovecot.master.user}, password_file: ./master-password }
    accounts: [alice, bob]
    domain: party.example
    managesieve: { port: ${sieve.port} }
receivers:
  - { name: out, type: console }
`,
  );
});
afterAll(async () => {
  await Promise.all([imap?.close(), sieve?.close()]);
  await dovecot?.dispose();
});

describe('read-only on the wire (IMAP and ManageSieve through a recording proxy)', () => {
  it('never sends a command that could change a mailbox or a script, and leaves every flag as it was', async () => {
    const c = await userClient(dovecot, 'alice');
    await c.mailboxCreate('Archive');
    await appendMany(c, 'INBOX', [mail(), mail(), mail()]);
    await appendMany(c, 'Archive', [mail(), mail()]);
    await c.logout();

    expect((await runCli(['once', '-c', config])).code).toBe(0);

    // The intruder works: new mail, a new folder, deleted mail, a Sieve redirect.
    const c2 = await userClient(dovecot, 'alice');
    await appendMany(c2, 'INBOX', [mail(), mail()]);
    await c2.mailboxCreate('Hidden');
    await c2.mailboxOpen('Archive');
    await c2.messageDelete('1:*');
    await c2.logout();
    await dovecot.doveadm(['sieve', 'put', '-u', 'bob', '-a', 'roundcube'], 'redirect "drop@outside.example";\n');

    const before = await flags();
    const r = await runCli(['once', '-c', config], { env: { VIGIE_LOG_LEVEL: 'info' } });
    expect(r.code, r.stderr).toBe(0);
    expect((await runCli(['once', '-c', config])).code).toBe(0);
    expect(await flags()).toBe(before);

    const imapVerbs = [...new Set(imap.lines.map(imapVerb).filter((v): v is string => !!v))].sort();
    const sieveVerbs = [...new Set(sieve.lines.map((l) => /^([A-Za-z]+)/.exec(l)?.[1]?.toUpperCase()).filter((v): v is string => !!v))].sort();
    expect(imap.lines.length).toBeGreaterThan(10);
    expect(imapVerbs).toContain('EXAMINE');
    expect(imapViolations(imap.lines)).toEqual([]);
    expect(sieve.lines.filter((l) => SIEVE_FORBIDDEN.test(/^([A-Za-z]+)/.exec(l)?.[1] ?? ''))).toEqual([]);
    console.log(`[reliability] read-only: ${imap.lines.length} IMAP lines (${imapVerbs.join(', ')}), ${sieve.lines.length} ManageSieve lines (${sieveVerbs.join(', ')}), mailbox writes 0`);
  }, 60_000);

  it('the proxy check itself catches a write', () => {
    expect(imapViolations(['a1 SELECT INBOX', 'a2 UID STORE 1 +FLAGS (\\Seen)', 'a3 UID FETCH 1:* (BODY[])', 'a4 UID FETCH 1:* (BODY.PEEK[HEADER])', 'a5 EXAMINE INBOX'])).toEqual([
      'a1 SELECT INBOX',
      'a2 UID STORE 1 +FLAGS (\\Seen)',
      'a3 UID FETCH 1:* (BODY[])',
    ]);
  });
});
