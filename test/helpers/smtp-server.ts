import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** One message as the server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The session had upgraded to TLS (STARTTLS or implicit). */
  secure: boolean;
  user: string | undefined;
}

export interface SmtpReply {
  code: number;
  message: string;
}

export interface TestSmtpServer {
  host: string;
  port: number;
  /** PEM of the self-signed certificate, to trust it as a CA. */
  ca: string;
  mails: ReceivedMail[];
  /** Answers to the next DATA commands, in order; after they run out, 250. */
  scriptData(...replies: SmtpReply[]): void;
  close(): Promise<void>;
}

let certs: { key: string; cert: string } | undefined;

/** A throwaway self-signed certificate for 127.0.0.1, made once per test process (no network). */
function selfSigned(): { key: string; cert: string } {
  if (certs) return certs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-smtp-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    { stdio: 'ignore' },
  );
  certs = { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') };
  fs.rmSync(dir, { recursive: true, force: true });
  return certs;
}

/**
 * A real SMTP server (smtp-server) on 127.0.0.1 with STARTTLS and AUTH PLAIN/LOGIN, recording
 * every message. `users` maps user → password; with none, AUTH is not offered.
 */
export async function startSmtpServer(opts: { users?: Record<string, string>; secure?: boolean } = {}): Promise<TestSmtpServer> {
  const { key, cert } = selfSigned();
  const mails: ReceivedMail[] = [];
  const dataReplies: SmtpReply[] = [];
  const users = opts.users ?? {};
  const server = new SMTPServer({
    secure: opts.secure ?? false,
    key,
    cert,
    logger: false,
    authOptional: Object.keys(users).length === 0,
    ...(Object.keys(users).length === 0 ? { disabledCommands: ['AUTH'] } : {}),
    onAuth(auth, _session, cb) {
      if (auth.username !== undefined && users[auth.username] !== undefined && users[auth.username] === auth.password) {
        cb(null, { user: auth.username });
        return;
      }
      const err = Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 });
      cb(err);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const reply = dataReplies.shift();
        if (reply && reply.code >= 400) {
          cb(Object.assign(new Error(reply.message), { responseCode: reply.code }));
          return;
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    ca: cert,
    mails,
    scriptData: (...r) => void dataReplies.push(...r),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
