import { ImapFlow } from 'imapflow';
import type { Clock } from '../../../src/clock.js';
import { createEnricher } from '../../../src/enrich/index.js';
import type { Engine } from '../../../src/engine/types.js';
import type { VigieEvent } from '../../../src/events.js';
import { silentLogger } from '../../../src/log.js';
import type { Connector, LogStream } from '../../../src/pipeline/connector.js';
import { createProcessor } from '../../../src/pipeline/process.js';
import { Runner, type StreamSettings } from '../../../src/pipeline/runner.js';
import { Store } from '../../../src/store/store.js';
import type { DovecotServer } from '../../helpers/dovecot.js';

export const DOMAINS = ['party.example'];
export const SOURCE = 'nord';

/** Real time: the server stamps INTERNALDATE with its own clock, and the stream compares with it. */
export const wallClock: Clock = { now: () => Date.now() };

export const settings: StreamSettings = { backfillMs: 7 * 86_400_000, overlapMs: 0, learnFromBackfill: false };

/** An engine that only remembers every fresh event it was shown (after dedupe), in full. */
export function recordingEngine(): Engine & { events: VigieEvent[] } {
  const events: VigieEvent[] = [];
  return {
    events,
    rules: [],
    evaluate(event) {
      events.push(event);
      return [];
    },
  };
}

/** The real runner, processor and an in-memory store, so cursor semantics are the production ones. */
export function pipeline(stream: LogStream, clock: Clock = wallClock) {
  const store = Store.open({ path: ':memory:', clock });
  const engine = recordingEngine();
  const processor = createProcessor({
    store,
    engine,
    enrich: createEnricher({ domains: DOMAINS }),
    routes: [],
    receivers: [],
    clock,
    log: silentLogger,
    seenTtlMs: 30 * 86_400_000,
  });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  const connector: Connector = { name: SOURCE, type: 'imap', streams: [stream] };
  let seen = 0;
  return {
    store,
    engine,
    connector,
    run: () => runner.runStream(connector, stream, settings, new AbortController().signal),
    /** Fresh events since the last call. */
    takeEvents(): VigieEvent[] {
      const out = engine.events.slice(seen);
      seen = engine.events.length;
      return out;
    },
    cursor: () => (store.getCursor(SOURCE, stream.name) as { c: unknown } | undefined)?.c,
  };
}

export function account(dovecot: DovecotServer, user: string) {
  return { address: `${user}@party.example`, loginUser: user, password: dovecot.users[user] ?? `${user}-pw` };
}

export function endpoint(dovecot: DovecotServer) {
  return { host: dovecot.host, port: dovecot.imapPort, tls: false as const, connectTimeoutMs: 5_000, commandTimeoutMs: 10_000 };
}

/** A read-write session as the user: the test may change the mailbox, the monitor never does. */
export async function userClient(dovecot: DovecotServer, user: string): Promise<ImapFlow> {
  const c = new ImapFlow({
    host: dovecot.host,
    port: dovecot.imapPort,
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass: dovecot.users[user] ?? `${user}-pw` },
    logger: false,
    disableAutoIdle: true,
  });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}

export interface MailSpec {
  from?: string;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  messageId?: string;
  subject?: string;
  headers?: Record<string, string>;
}

let serial = 0;
export function mail(spec: MailSpec = {}): string {
  serial++;
  const lines = [
    ...Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
    `From: ${spec.from ?? 'someone@party.example'}`,
    ...(spec.to?.length ? [`To: ${spec.to.join(', ')}`] : []),
    ...(spec.cc?.length ? [`Cc: ${spec.cc.join(', ')}`] : []),
    ...(spec.bcc?.length ? [`Bcc: ${spec.bcc.join(', ')}`] : []),
    `Subject: ${spec.subject ?? `message ${serial}`}`,
    `Message-ID: ${spec.messageId ?? `<m${serial}.${Date.now()}@party.example>`}`,
    `Date: ${new Date().toUTCString()}`,
    '',
    'Private body text that the monitor must never read.',
    '',
  ];
  return lines.join('\r\n');
}

/** Appends with the folder selected (Dovecot appends several times faster then). */
export async function appendMany(c: ImapFlow, folder: string, messages: string[], flags: string[] = []): Promise<void> {
  const lock = await c.getMailboxLock(folder);
  try {
    for (const m of messages) await c.append(folder, m, flags);
  } finally {
    lock.release();
  }
}

/** P18's allow-list: what a monitor may send. Anything else (SELECT, STORE, EXPUNGE, ...) is a bug. */
const ALLOWED = /^(CAPABILITY|ID|AUTHENTICATE|LOGIN|NAMESPACE|ENABLE|LIST|STATUS|EXAMINE|UID SEARCH|SEARCH|UID FETCH|NOOP|LOGOUT)$/;

export function forbiddenCommands(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    const m = /^\S+ (UID \S+|\S+)/.exec(line);
    if (!m) return false; // continuation data (SASL response), not a command
    const verb = m[1]!.toUpperCase();
    if (!ALLOWED.test(verb)) return true;
    // A FETCH of BODY[...] without PEEK would set \Seen.
    return /FETCH/.test(verb) && /BODY\[/i.test(line);
  });
}

export function verbs(lines: readonly string[]): string[] {
  return lines.map((l) => /^\S+ (UID \S+|\S+)/.exec(l)?.[1]?.toUpperCase()).filter((v): v is string => !!v);
}
