import path from 'node:path';
import type { Clock } from '../../src/clock.js';
import type { Connector, Stream } from '../../src/pipeline/connector.js';
import type { FormatRegistry } from '../../src/pipeline/formats.js';
import { managesieveTls, resolveAccounts, type ImapConnectorConfig } from './config.js';
import { createDovecotLogStream, dovecotLogFormat } from './dovecot-log.js';
import { createMailboxStream } from './mailbox-stream.js';
import { createSieveStream } from './sieve-stream.js';

export { imapConnectorSchema, imapSecrets, type ImapConnectorConfig } from './config.js';

export interface ImapConnectorDeps {
  /** The config file's folder: password files and the Dovecot log path are relative to it. */
  baseDir: string;
  /** `organisation.domains`: recipients outside them are external. */
  domains: string[];
  clock: Clock;
}

/**
 * An IMAP/Dovecot connector: the `mailbox` log stream (folders, expunges, Sent mail) always; the
 * `sieve` state stream when `managesieve` is configured; the `dovecot-log` log stream when
 * `dovecot_log` is. Passwords are read once, here, when the connector is built.
 */
export function createImapConnector(cfg: ImapConnectorConfig & { name: string }, deps: ImapConnectorDeps): Connector {
  const accounts = resolveAccounts(cfg, deps.baseDir);
  const timeouts = {
    ...(cfg.timeouts?.connect !== undefined ? { connectTimeoutMs: cfg.timeouts.connect } : {}),
    ...(cfg.timeouts?.command !== undefined ? { commandTimeoutMs: cfg.timeouts.command } : {}),
  };
  const streams: Stream[] = [
    createMailboxStream({
      source: cfg.name,
      endpoint: { host: cfg.host, port: cfg.port, tls: cfg.tls, ...timeouts },
      accounts,
      domains: deps.domains,
      ...(cfg.folders ? { folders: cfg.folders } : {}),
    }),
  ];
  if (cfg.managesieve) {
    streams.push(
      createSieveStream({
        connectorName: cfg.name,
        accounts,
        host: cfg.host,
        port: cfg.managesieve.port,
        tls: managesieveTls(cfg),
        ...timeouts,
      }),
    );
  }
  if (cfg.dovecot_log) {
    streams.push(
      createDovecotLogStream({
        connectorName: cfg.name,
        path: path.resolve(deps.baseDir, cfg.dovecot_log.path),
        ...(cfg.domain !== undefined ? { domain: cfg.domain } : {}),
        excludeIps: cfg.exclude_ips,
        clock: deps.clock,
        ...(cfg.dovecot_log.timezone ? { timeZone: cfg.dovecot_log.timezone } : {}),
      }),
    );
  }
  return { name: cfg.name, type: 'imap', streams };
}

/** Raw formats of this connector that `vigie replay` and the file connector recognise. */
export const imapFormats: Partial<FormatRegistry> = { texts: [dovecotLogFormat] };
