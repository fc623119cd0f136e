import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A private Dovecot (IMAP + ManageSieve) for one test file.
 *
 * Dovecot delays logins from an address after a failed one (its auth penalty, 2 s and more): make
 * deliberately failing logins from another loopback address (`localAddress: '127.0.0.2'`).
 */
export interface DovecotServer {
  host: string;
  imapPort: number;
  sievePort: number;
  /** Scratch folder holding the config, users, mail and log. */
  dir: string;
  /** `dovecot.log`, written with `auth_verbose = yes`. */
  logPath: string;
  /** user -> password. */
  users: Record<string, string>;
  master: { user: string; password: string; passwordFile: string };
  /** PEM of the self-signed certificate when started with `tls: true`. */
  caPem?: string;
  /** Runs `doveadm -c <conf> ...args`, with `input` on stdin; resolves to stdout. */
  doveadm(args: string[], input?: string): Promise<string>;
  /** SIGTERM to the foreground master; resolves once it has exited. */
  stop(): Promise<void>;
  /** (Re)starts on the same ports and folders. */
  start(): Promise<void>;
  /** stop() and remove the scratch folder. */
  dispose(): Promise<void>;
}

export interface DovecotOptions {
  /** Default alice, bob, carol; each gets the password `<user>-pw`. */
  users?: string[];
  /** Self-signed certificate, `ssl = yes` (STARTTLS on IMAP and ManageSieve). Default off. */
  tls?: boolean;
  /**
   * Dovecot's delay before answering a failed authentication (default here 0, Dovecot's own 2 s
   * would make every wrong-password test wait).
   */
  authFailureDelaySecs?: number;
}

const HOST = '127.0.0.1';
const MAIL_UID = 5000;
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 15_000;

const DIR_PREFIX = 'vigie-dovecot-';

const running = new Set<ChildProcess>();
const scratchDirs = new Set<string>();
let exitHookInstalled = false;

/**
 * No stray Dovecot may outlive the test process. Vitest ends its workers with a signal, which skips
 * 'exit' handlers: the master is therefore started under `setpriv --pdeathsig TERM` (the kernel
 * signals it when we die) and this hook only covers the orderly exits.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
    for (const dir of scratchDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** Scratch folders of test processes that died without cleaning up (the pid is in the name). */
function sweepStaleDirs(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^vigie-dovecot-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export async function startDovecot(opts: DovecotOptions = {}): Promise<DovecotServer> {
  installExitHook();
  sweepStaleDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  scratchDirs.add(dir);
  // mkdtemp makes 0700: Dovecot's auth process (user dovecot) could not read the passwd-file.
  fs.chmodSync(dir, 0o755);
  const [imapPort, sievePort] = (await freePorts(2)) as [number, number];
  const users: Record<string, string> = {};
  for (const u of opts.users ?? ['alice', 'bob', 'carol']) users[u] = `${u}-pw`;
  const master = { user: 'monitor', password: 'monitor-pw', passwordFile: path.join(dir, 'master-password') };
  const confPath = path.join(dir, 'dovecot.conf');
  const logPath = path.join(dir, 'dovecot.log');
  const mailDir = path.join(dir, 'mail');
  for (const sub of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
  fs.chownSync(mailDir, MAIL_UID, MAIL_UID);
  fs.writeFileSync(
    path.join(dir, 'users'),
    Object.entries(users)
      .map(([u, p]) => `${u}:{PLAIN}${p}:${MAIL_UID}:${MAIL_UID}::${path.join(mailDir, u)}::\n`)
      .join(''),
  );
  fs.writeFileSync(path.join(dir, 'master-users'), `${master.user}:{PLAIN}${master.password}\n`);
  fs.writeFileSync(master.passwordFile, `${master.password}\n`);

  let caPem: string | undefined;
  let sslLines = 'ssl = no';
  if (opts.tls) {
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', `subjectAltName=IP:${HOST},DNS:localhost`]);
    caPem = fs.readFileSync(cert, 'utf8');
    sslLines = `ssl = yes\nssl_cert = <${cert}\nssl_key = <${key}`;
  }

  fs.writeFileSync(
    confPath,
    `protocols = imap sieve
listen = ${HOST}
base_dir = ${path.join(dir, 'run')}
state_dir = ${path.join(dir, 'state')}
instance_name = vigie-test-${path.basename(dir)}
log_path = ${logPath}
${sslLines}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
auth_failure_delay = ${opts.authFailureDelaySecs ?? 0} secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${path.join(dir, 'users')}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${path.join(dir, 'users')}
}
auth_master_user_separator = *
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN ${path.join(dir, 'master-users')}
  result_success = continue
}
mail_location = maildir:~/Maildir
mail_uid = ${MAIL_UID}
mail_gid = ${MAIL_UID}
first_valid_uid = ${MAIL_UID}
mail_fsync = never
service imap-login {
  inet_listener imap {
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service managesieve-login {
  inet_listener sieve {
    port = ${sievePort}
  }
}
protocol imap {
  mail_max_userip_connections = 50
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
}
`,
  );

  let child: ChildProcess | undefined;
  let stderr = '';

  const start = async (): Promise<void> => {
    if (child) return;
    stderr = '';
    const c = spawn('setpriv', ['--pdeathsig', 'TERM', 'dovecot', '-F', '-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child = c;
    running.add(c);
    const exited = new Promise<never>((_, reject) => {
      c.once('exit', (code, signal) => {
        running.delete(c);
        if (child === c) child = undefined;
        reject(new Error(`dovecot exited during start (code ${code}, signal ${signal}): ${stderr.trim()}`));
      });
      c.once('error', reject);
    });
    exited.catch(() => undefined);
    await Promise.race([Promise.all([waitForGreeting(imapPort, 'imap'), waitForGreeting(sievePort, 'sieve')]), exited]);
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null || c.signalCode !== null) {
      running.delete(c);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        c.kill('SIGKILL');
        reject(new Error(`dovecot did not stop within ${STOP_TIMEOUT_MS} ms`));
      }, STOP_TIMEOUT_MS);
      c.once('exit', () => {
        clearTimeout(timer);
        running.delete(c);
        resolve();
      });
      c.kill('SIGTERM');
    });
  };

  const doveadm = (args: string[], input?: string): Promise<string> => run('doveadm', ['-c', confPath, ...args], input);

  const dispose = async (): Promise<void> => {
    await stop();
    fs.rmSync(dir, { recursive: true, force: true });
    scratchDirs.delete(dir);
  };

  await start();
  return { host: HOST, imapPort, sievePort, dir, logPath, users, master, ...(caPem ? { caPem } : {}), doveadm, stop, start, dispose };
}

/** Ports the kernel says are free now; Dovecot binds them a moment later. */
async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, HOST, resolve);
      });
      ports.push((s.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/**
 * Ready means a full greeting and a polite logout: a client that drops before the greeting makes
 * Dovecot's later shutdown take 6 s instead of 1.
 */
async function waitForGreeting(port: number, proto: 'imap' | 'sieve'): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let delay = 10;
  for (;;) {
    try {
      await greetOnce(port, proto);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`dovecot ${proto} port ${port} not ready: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }
}

function greetOnce(port: number, proto: 'imap' | 'sieve'): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: HOST, port });
    let buf = '';
    let greeted = false;
    sock.setTimeout(2000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (!greeted && (proto === 'imap' ? /^\* OK.*\r\n/m.test(buf) : /^OK.*\r\n/m.test(buf))) {
        greeted = true;
        sock.write(proto === 'imap' ? 'z LOGOUT\r\n' : 'LOGOUT\r\n');
      }
    });
    sock.on('error', reject);
    sock.on('close', () => (greeted ? resolve() : reject(new Error('closed before the greeting'))));
  });
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}
