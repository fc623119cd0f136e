import net from 'node:net';
import tls from 'node:tls';
import { SourceError } from '../../src/errors.js';
import type { TlsMode } from './config.js';

/**
 * A read-only ManageSieve client (RFC 5804): greeting, STARTTLS, AUTHENTICATE PLAIN, LISTSCRIPTS,
 * GETSCRIPT, LOGOUT. No npm client exists (ENVIRONMENT §6). It deliberately has no command that
 * changes a script: Vigie never changes a mailbox.
 */
export interface ManageSieveOptions {
  host: string;
  port: number;
  tls: TlsMode;
  /** SASL authentication id: the user, or `user*master` for a Dovecot master-user login. */
  user: string;
  password: string;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Extra trusted CA (PEM) for self-signed servers; NODE_EXTRA_CA_CERTS works too. */
  ca?: string;
  /** Source address to connect from, so the monitor's sessions match `exclude_ips` on multi-homed hosts. */
  localAddress?: string;
}

export interface SieveScriptInfo {
  name: string;
  active: boolean;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
/** Larger than any sane script (Dovecot's own limit is 1 MB); a server sending more is broken or hostile. */
const MAX_LITERAL_BYTES = 8 * 1024 * 1024;
const MAX_LINE_BYTES = 64 * 1024;
const MAX_LINES_PER_RESPONSE = 100_000;

type Item = { kind: 'atom'; value: string } | { kind: 'string'; value: string } | { kind: 'paren'; value: '(' | ')' };

interface Final {
  status: 'OK' | 'NO' | 'BYE';
  code: string;
  text: string;
}

class ProtocolError extends Error {}

/**
 * One logical response line from `buf`: items up to CRLF, where `{n}` literals may carry CRLFs.
 * Returns undefined while the line is incomplete.
 */
export function parseResponseLine(buf: Buffer): { items: Item[]; consumed: number } | undefined {
  const items: Item[] = [];
  let i = 0;
  let literalBytes = 0;
  while (i < buf.length) {
    if (i - literalBytes > MAX_LINE_BYTES) throw new ProtocolError('response line too long');
    const c = buf[i]!;
    if (c === 0x0d && buf[i + 1] === 0x0a) return { items, consumed: i + 2 };
    if (c === 0x0d && i + 1 === buf.length) return undefined;
    if (c === 0x0d || c === 0x0a) throw new ProtocolError('bare CR or LF in response');
    if (c === 0x20) {
      i++;
    } else if (c === 0x22) {
      const bytes: number[] = [];
      let j = i + 1;
      for (;;) {
        if (j >= buf.length) return undefined;
        const d = buf[j]!;
        if (d === 0x22) break;
        if (d === 0x0d || d === 0x0a) throw new ProtocolError('line break inside a quoted string');
        if (d === 0x5c) {
          if (j + 1 >= buf.length) return undefined;
          bytes.push(buf[j + 1]!);
          j += 2;
        } else {
          bytes.push(d);
          j++;
        }
        if (j - literalBytes > MAX_LINE_BYTES) throw new ProtocolError('response line too long');
      }
      items.push({ kind: 'string', value: Buffer.from(bytes).toString('utf8') });
      i = j + 1;
    } else if (c === 0x7b) {
      const close = buf.indexOf('}', i);
      if (close < 0) {
        if (buf.length - i > 32) throw new ProtocolError('malformed literal');
        return undefined;
      }
      const m = /^\{(\d{1,10})\+?\}$/.exec(buf.subarray(i, close + 1).toString('latin1'));
      if (!m) throw new ProtocolError('malformed literal');
      const n = Number(m[1]);
      if (n > MAX_LITERAL_BYTES) throw new ProtocolError(`literal of ${n} bytes is larger than ${MAX_LITERAL_BYTES}`);
      if (close + 2 >= buf.length) return undefined;
      if (buf[close + 1] !== 0x0d || buf[close + 2] !== 0x0a) throw new ProtocolError('literal size not followed by CRLF');
      const start = close + 3;
      if (buf.length < start + n) return undefined;
      items.push({ kind: 'string', value: buf.subarray(start, start + n).toString('utf8') });
      literalBytes += n;
      i = start + n;
    } else if (c === 0x28 || c === 0x29) {
      items.push({ kind: 'paren', value: c === 0x28 ? '(' : ')' });
      i++;
    } else {
      let j = i;
      while (j < buf.length && ![0x20, 0x0d, 0x0a, 0x28, 0x29, 0x22].includes(buf[j]!)) j++;
      if (j - literalBytes > MAX_LINE_BYTES) throw new ProtocolError('response line too long');
      if (j >= buf.length) return undefined;
      items.push({ kind: 'atom', value: buf.subarray(i, j).toString('latin1') });
      i = j;
    }
  }
  return undefined;
}

function asFinal(items: Item[]): Final | undefined {
  const head = items[0];
  if (head?.kind !== 'atom') return undefined;
  const status = head.value.toUpperCase();
  if (status !== 'OK' && status !== 'NO' && status !== 'BYE') return undefined;
  let k = 1;
  const code: string[] = [];
  if (items[k]?.kind === 'paren' && items[k]!.value === '(') {
    for (k++; k < items.length && !(items[k]!.kind === 'paren' && items[k]!.value === ')'); k++) code.push(items[k]!.value);
    k++;
  }
  const text = items.slice(k).find((x) => x.kind === 'string')?.value ?? '';
  return { status, code: code.join(' '), text };
}

/** Server text for an error message: one line, no control characters, bounded. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 200);
}

function quoteArg(s: string): string {
  // RFC 5804 client literals are non-synchronising ({n+}); quoted strings may hold neither CR, LF nor NUL.
  if (/[\r\n\0]/.test(s) || s.length > 1000) return `{${Buffer.byteLength(s)}+}\r\n${s}`;
  return `"${s.replace(/[\\"]/g, (m) => `\\${m}`)}"`;
}

export class ManageSieveClient {
  readonly capabilities = new Map<string, string>();
  #sock: net.Socket;
  #buf: Buffer = Buffer.alloc(0);
  #wake: (() => void) | undefined;
  #failure: Error | undefined;
  #opts: ManageSieveOptions;
  #where: string;

  private constructor(sock: net.Socket, opts: ManageSieveOptions) {
    this.#sock = sock;
    this.#opts = opts;
    this.#where = `ManageSieve ${opts.host}:${opts.port} as ${opts.user}`;
    this.#attach(sock);
  }

  /** Connects, upgrades to TLS as configured, reads the capabilities and authenticates. */
  static async connect(opts: ManageSieveOptions): Promise<ManageSieveClient> {
    const connectMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const sock = await openSocket(opts, connectMs);
    const client = new ManageSieveClient(sock, opts);
    try {
      await client.#timed(client.#readCapabilities(), connectMs, 'the greeting');
      if (opts.tls === 'starttls') await client.#startTls(connectMs);
      await client.#authenticate();
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  async listScripts(): Promise<SieveScriptInfo[]> {
    const { lines } = await this.#command('LISTSCRIPTS', 'LISTSCRIPTS');
    const out: SieveScriptInfo[] = [];
    for (const items of lines) {
      const name = items[0];
      if (name?.kind !== 'string') throw this.#error(`unexpected LISTSCRIPTS line`);
      out.push({ name: name.value, active: items.some((x, k) => k > 0 && x.kind === 'atom' && x.value.toUpperCase() === 'ACTIVE') });
    }
    return out;
  }

  async getScript(name: string): Promise<string> {
    const { lines } = await this.#command(`GETSCRIPT ${quoteArg(name)}`, 'GETSCRIPT');
    const body = lines[0]?.[0];
    if (body?.kind !== 'string') throw this.#error('GETSCRIPT returned no script');
    return body.value;
  }

  /** Polite end of the session; the socket is closed whatever the server answers. */
  async logout(): Promise<void> {
    try {
      if (!this.#failure) await this.#command('LOGOUT', 'LOGOUT', { byeIsOk: true });
    } catch {
      // The session is over either way.
    } finally {
      this.close();
    }
  }

  close(): void {
    this.#failure ??= new SourceError('SOURCE_FAILED', `${this.#where}: connection closed`);
    this.#sock.destroy();
  }

  #attach(sock: net.Socket): void {
    sock.on('data', (d: Buffer) => {
      this.#buf = this.#buf.length ? Buffer.concat([this.#buf, d]) : d;
      if (this.#buf.length > MAX_LITERAL_BYTES + MAX_LINE_BYTES) this.#fail(this.#error('the server sent more than any response may hold'));
      this.#wake?.();
    });
    sock.on('error', (err) => this.#fail(this.#error(`connection error (${(err as NodeJS.ErrnoException).code ?? err.message})`, err)));
    sock.on('close', () => this.#fail(this.#error('the server closed the connection')));
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#wake?.();
  }

  #error(message: string, cause?: unknown, code: 'SOURCE_FAILED' | 'SOURCE_UNAUTHORIZED' = 'SOURCE_FAILED'): SourceError {
    return new SourceError(code, `${this.#where}: ${message}`, cause === undefined ? undefined : { cause });
  }

  async #readLine(): Promise<Item[]> {
    for (;;) {
      let parsed: ReturnType<typeof parseResponseLine>;
      try {
        parsed = parseResponseLine(this.#buf);
      } catch (err) {
        const e = this.#error(`unreadable response (${(err as Error).message})`);
        this.#fail(e);
        this.#sock.destroy();
        throw e;
      }
      if (parsed) {
        this.#buf = this.#buf.subarray(parsed.consumed);
        return parsed.items;
      }
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  /** Data lines up to the final OK/NO/BYE. */
  async #readResponse(): Promise<{ lines: Item[][]; final: Final }> {
    const lines: Item[][] = [];
    for (;;) {
      const items = await this.#readLine();
      const final = asFinal(items);
      if (final) return { lines, final };
      if (lines.length >= MAX_LINES_PER_RESPONSE) throw this.#error('response has too many lines');
      lines.push(items);
    }
  }

  async #timed<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = this.#error(`no answer to ${what} within ${ms} ms`);
        this.#fail(err);
        this.#sock.destroy();
        reject(err);
      }, ms);
    });
    try {
      return await Promise.race([p, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `label` names the command in errors: the written line may hold a credential. */
  async #command(line: string, label: string, opts: { byeIsOk?: boolean; unauthorizedOnNo?: boolean } = {}): Promise<{ lines: Item[][]; final: Final }> {
    if (this.#failure) throw this.#failure;
    this.#sock.write(`${line}\r\n`);
    const r = await this.#timed(this.#readResponse(), this.#opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, label);
    if (r.final.status === 'OK' || (r.final.status === 'BYE' && opts.byeIsOk)) return r;
    const detail = [r.final.code && `(${clean(r.final.code)})`, clean(r.final.text)].filter(Boolean).join(' ');
    throw this.#error(`${label} refused: ${r.final.status}${detail ? ` ${detail}` : ''}`, undefined, opts.unauthorizedOnNo && r.final.status === 'NO' ? 'SOURCE_UNAUTHORIZED' : 'SOURCE_FAILED');
  }

  async #readCapabilities(): Promise<void> {
    const { lines, final } = await this.#readResponse();
    if (final.status !== 'OK') throw this.#error(`the server refused the session: ${final.status} ${clean(final.text)}`);
    this.capabilities.clear();
    for (const items of lines) {
      const name = items[0];
      if (name?.kind !== 'string') continue;
      const value = items[1];
      this.capabilities.set(name.value.toUpperCase(), value && value.kind !== 'paren' ? value.value : '');
    }
  }

  async #startTls(timeoutMs: number): Promise<void> {
    if (!this.capabilities.has('STARTTLS')) throw this.#error('the server does not offer STARTTLS (set managesieve.tls to false only on a trusted network)');
    await this.#command('STARTTLS', 'STARTTLS');
    const plain = this.#sock;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.#buf = Buffer.alloc(0);
    const secure = await this.#timed(upgrade(plain, this.#opts), timeoutMs, 'the TLS handshake');
    this.#sock = secure;
    this.#attach(secure);
    // RFC 5804 2.2: the server re-issues its capabilities once TLS is up.
    await this.#timed(this.#readCapabilities(), timeoutMs, 'the capabilities after STARTTLS');
  }

  async #authenticate(): Promise<void> {
    const sasl = (this.capabilities.get('SASL') ?? '').toUpperCase().split(/\s+/);
    if (!sasl.includes('PLAIN')) {
      throw this.#error(`the server does not offer SASL PLAIN${this.#opts.tls === false ? ' over a plain connection (use TLS or STARTTLS)' : ''}`);
    }
    const token = Buffer.from(`\0${this.#opts.user}\0${this.#opts.password}`, 'utf8').toString('base64');
    await this.#command(`AUTHENTICATE "PLAIN" "${token}"`, 'AUTHENTICATE PLAIN', { unauthorizedOnNo: true });
  }
}

function tlsOptions(opts: ManageSieveOptions): tls.ConnectionOptions {
  return {
    ...(net.isIP(opts.host) ? {} : { servername: opts.host }),
    ...(opts.ca ? { ca: [...tls.rootCertificates, opts.ca] } : {}),
  };
}

function local(opts: ManageSieveOptions): { localAddress?: string } {
  return opts.localAddress ? { localAddress: opts.localAddress } : {};
}

function openSocket(opts: ManageSieveOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const where = `ManageSieve ${opts.host}:${opts.port}`;
    const sock =
      opts.tls === true
        ? tls.connect({ host: opts.host, port: opts.port, ...local(opts), ...tlsOptions(opts) })
        : net.connect({ host: opts.host, port: opts.port, ...local(opts) });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new SourceError('SOURCE_FAILED', `${where}: could not connect within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once(opts.tls === true ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new SourceError('SOURCE_FAILED', `${where}: cannot connect (${(err as NodeJS.ErrnoException).code ?? err.message})`, { cause: err }));
    });
  });
}

function upgrade(plain: net.Socket, opts: ManageSieveOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ socket: plain, ...tlsOptions(opts) });
    secure.once('secureConnect', () => {
      secure.removeAllListeners('error');
      resolve(secure);
    });
    secure.once('error', (err) => {
      secure.destroy();
      reject(new SourceError('SOURCE_FAILED', `ManageSieve ${opts.host}:${opts.port}: TLS handshake failed (${(err as NodeJS.ErrnoException).code ?? err.message})`, { cause: err }));
    });
  });
}

/** Runs `fn` in one authenticated session and always ends it. */
export async function withManageSieve<T>(opts: ManageSieveOptions, fn: (client: ManageSieveClient) => Promise<T>): Promise<T> {
  const client = await ManageSieveClient.connect(opts);
  try {
    return await fn(client);
  } finally {
    await client.logout();
  }
}
