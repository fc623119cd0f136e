import { createHash } from 'node:crypto';
import { SourceError, VigieError, errorMessage } from '../../src/errors.js';
import type { VigieEvent } from '../../src/events.js';
import type { SnapshotObject, SnapshotScope, StateStream, StreamContext } from '../../src/pipeline/connector.js';
import type { ResolvedAccount, TlsMode } from './config.js';
import { ManageSieveClient, type ManageSieveOptions } from './managesieve.js';
import { joinConditions, parseSieve, summarizeSieve, type SieveRule } from './sieve-parser.js';

export interface SieveStreamOptions {
  connectorName: string;
  accounts: ResolvedAccount[];
  host: string;
  port: number;
  tls: TlsMode;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  ca?: string;
  localAddress?: string;
  /** Accounts read at the same time (default 4). */
  concurrency?: number;
}

/** `include` chains past this many scripts are an attack on the monitor, not a mail setup. */
const MAX_SCRIPTS_PER_ACCOUNT = 16;
const DEFAULT_CONCURRENCY = 4;

/** One Sieve script as read from the server, with where it came from. */
export interface FetchedScript {
  name: string;
  source: string;
  /** The active script that includes this one, when it is not the active script itself. */
  includedFrom?: string;
  /** Conditions under which the include runs. */
  conditions: string[];
}

/**
 * The Sieve scripts of each account over ManageSieve, as one state snapshot per account: one object
 * per rule of the ACTIVE script (and of the personal scripts it includes). Dovecot runs only the
 * active script, so an account with none has no objects, and deactivating a redirect reads as
 * `removed`. Sieve changes leave no line in Dovecot's log (ENVIRONMENT §13): polling is the only way.
 */
export function createSieveStream(opts: SieveStreamOptions): StateStream {
  const concurrency = Math.max(1, opts.concurrency ?? DEFAULT_CONCURRENCY);
  return {
    kind: 'state',
    name: 'sieve',
    async *snapshot(ctx: StreamContext): AsyncIterable<SnapshotScope> {
      const failures: Array<{ account: string; error: unknown }> = [];
      for (let i = 0; i < opts.accounts.length && !ctx.signal.aborted; i += concurrency) {
        const batch = opts.accounts.slice(i, i + concurrency);
        const results = await Promise.allSettled(batch.map((a) => readAccount(opts, a)));
        const now = new Date(ctx.clock.now()).toISOString();
        for (let k = 0; k < batch.length; k++) {
          const account = batch[k]!;
          const r = results[k]!;
          if (r.status === 'rejected') {
            // The account's stored rules stay as they were: a failed read must not look like removals.
            failures.push({ account: account.address, error: r.reason });
            ctx.log.warn({ account: account.address, error: errorMessage(r.reason) }, 'Could not read the Sieve scripts of an account.');
            continue;
          }
          yield { scope: account.address, objects: scriptObjects(opts.connectorName, account.address, r.value, now) };
        }
      }
      if (failures.length) throw summarizeFailures(failures, opts.accounts.length);
    },
  };
}

async function readAccount(opts: SieveStreamOptions, account: ResolvedAccount): Promise<FetchedScript[]> {
  const msOpts: ManageSieveOptions = {
    host: opts.host,
    port: opts.port,
    tls: opts.tls,
    user: account.loginUser,
    password: account.password,
    ...(opts.connectTimeoutMs !== undefined && { connectTimeoutMs: opts.connectTimeoutMs }),
    ...(opts.commandTimeoutMs !== undefined && { commandTimeoutMs: opts.commandTimeoutMs }),
    ...(opts.ca !== undefined && { ca: opts.ca }),
    ...(opts.localAddress !== undefined && { localAddress: opts.localAddress }),
  };
  const client = await ManageSieveClient.connect(msOpts);
  try {
    const list = await client.listScripts();
    const active = list.find((s) => s.active);
    if (!active) return [];
    const names = new Set(list.map((s) => s.name));
    const out: FetchedScript[] = [{ name: active.name, source: await client.getScript(active.name), conditions: [] }];
    // Personal scripts pulled in by `include` run as part of the active one: a redirect hidden in an
    // inactive script must not escape notice.
    const seen = new Set([active.name]);
    for (let k = 0; k < out.length && out.length < MAX_SCRIPTS_PER_ACCOUNT; k++) {
      const parsed = parseSieve(out[k]!.source);
      if (!parsed.ok) continue;
      for (const inc of summarizeSieve(parsed.commands).includes) {
        if (inc.location !== 'personal' || seen.has(inc.script) || !names.has(inc.script)) continue;
        if (out.length >= MAX_SCRIPTS_PER_ACCOUNT) break;
        seen.add(inc.script);
        out.push({ name: inc.script, source: await client.getScript(inc.script), includedFrom: active.name, conditions: [...out[k]!.conditions, ...inc.conditions] });
      }
    }
    return out;
  } finally {
    await client.logout();
  }
}

/** Pure: the snapshot objects of one account's scripts. */
export function scriptObjects(connectorName: string, account: string, scripts: FetchedScript[], time: string): SnapshotObject[] {
  const objects: SnapshotObject[] = [];
  for (const script of scripts) {
    const base = (details: Record<string, unknown>): Omit<VigieEvent, 'id'> => ({
      kind: 'mailbox_rule',
      time,
      provider: 'imap',
      source: connectorName,
      account,
      details: {
        mechanism: 'sieve',
        name: script.name,
        enabled: true,
        forward_to: [],
        ...(script.includedFrom !== undefined && { included_from: script.includedFrom }),
        ...details,
      },
    });
    const parsed = parseSieve(script.source);
    if (!parsed.ok) {
      // Dovecot will not run a script it cannot compile either, but ours may be stricter or looser than
      // Pigeonhole: keep the change visible, and the redirects a plain scan can see.
      const key = `${script.name}:parse-error`;
      objects.push({
        key,
        event: base({
          rule_id: key,
          parse_error: `line ${parsed.line}: ${parsed.error}`,
          script_sha256: createHash('sha256').update(script.source).digest('hex'),
          redirect_to: scanRedirects(script.source),
          conditions: { summary: 'unknown (the script could not be parsed)', tests: [] },
        }),
      });
      continue;
    }
    for (const rule of summarizeSieve(parsed.commands).rules) {
      const key = `${script.name}:${rule.index}`;
      objects.push({ key, event: base({ rule_id: key, ...ruleDetails(rule, script.conditions) }) });
    }
  }
  return objects;
}

function ruleDetails(rule: SieveRule, outer: string[]): Record<string, unknown> {
  const tests = [...outer, ...rule.conditions];
  return {
    redirect_to: rule.redirect_to,
    keep_copy: rule.keep_copy,
    delete: rule.delete,
    ...(rule.move_to_folder !== undefined && { move_to_folder: rule.move_to_folder }),
    mark_as_read: rule.mark_as_read,
    stop_processing: rule.stop_processing,
    vacation: rule.vacation,
    reject: rule.reject,
    actions: rule.actions.map((a) => a.name),
    conditions: { summary: joinConditions(tests), tests },
  };
}

/** Redirect targets found without a parser, for scripts the parser refused. */
export function scanRedirects(source: string): string[] {
  const out = new Set<string>();
  for (const m of source.matchAll(/\bredirect\b([^;]{0,4096})/gi)) {
    const strings = [...m[1]!.matchAll(/"((?:[^"\\]|\\.){1,512})"/g)].map((s) => s[1]!.replace(/\\(.)/g, '$1'));
    const target = strings.at(-1);
    if (target) out.add(target);
    if (out.size >= 50) break;
  }
  return [...out];
}

function summarizeFailures(failures: Array<{ account: string; error: unknown }>, total: number): VigieError {
  const allUnauthorized = failures.every((f) => f.error instanceof VigieError && f.error.code === 'SOURCE_UNAUTHORIZED');
  const shown = failures.slice(0, 3).map((f) => `${f.account}: ${errorMessage(f.error)}`);
  const more = failures.length > 3 ? ` (and ${failures.length - 3} more)` : '';
  return new SourceError(
    allUnauthorized ? 'SOURCE_UNAUTHORIZED' : 'SOURCE_FAILED',
    `Sieve scripts of ${failures.length} of ${total} accounts could not be read: ${shown.join('; ')}${more}`,
    { cause: failures[0]?.error },
  );
}
