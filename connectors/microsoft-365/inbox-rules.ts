import type { HttpClient } from '../../src/http/http-client.js';
import { backoffMs, parseRetryAfter } from '../../src/http/retry-after.js';
import type { SnapshotObject, SnapshotScope, StateStream, StreamContext } from '../../src/pipeline/connector.js';
import { isAccessDenied, stillResting, type SkipMark } from './access-status.js';
import type { Microsoft365Config } from './config.js';
import { messageRuleEvent } from './normalize-graph.js';

/**
 * The inbox rules of every mailbox, as current state (Graph messageRules, §A.3). Rules made before
 * Vigie, or by a client whose audit record was lost, only show here. Mailboxes are read 20 at a
 * time through `$batch` (§A.5), several batches in flight at once: one request per mailbox at a
 * time keeps far below Outlook's four concurrent requests per mailbox, and items throttled inside a
 * batch are re-queued after their own Retry-After (the outer request succeeded) while the other
 * batches go on.
 */
export interface InboxRulesOptions {
  graphBase: string;
  http: HttpClient;
  config: string;
  mailboxes: Microsoft365Config['mailboxes'];
  source: string;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  /** Attempts per mailbox before it is left as it was for this run. */
  maxAttempts?: number;
  /** `$batch` requests in flight at once (default 6). */
  concurrency?: number;
}

/** The scope holding the stream's own access status: one `monitor` object while access is missing. */
export const ACCESS_SCOPE = '_access';

interface Mailbox {
  id: string;
  upn: string;
}

interface BatchResponse {
  id?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: { value?: unknown[]; error?: { code?: string; message?: string } };
}

export function createInboxRulesStream(o: InboxRulesOptions): StateStream {
  let resting: SkipMark | undefined;
  let restingScope: SnapshotScope | undefined;
  const random = o.random ?? Math.random;
  const maxAttempts = o.maxAttempts ?? 6;
  const concurrency = Math.max(1, o.concurrency ?? 6);

  const accessScope = (ctx: StreamContext, missing: string, error: string): SnapshotScope => ({
    scope: ACCESS_SCOPE,
    objects: [
      {
        key: 'permission',
        event: {
          kind: 'monitor',
          time: new Date(ctx.clock.now()).toISOString(),
          provider: 'microsoft-365',
          source: o.source,
          account: '',
          details: {
            type: 'access_lost',
            stream: 'inbox-rules',
            missing,
            description: `The inbox-rules stream is skipped: it needs ${missing}. The other streams keep running.`,
            error,
          },
        },
      },
    ],
  });

  return {
    kind: 'state',
    name: 'inbox-rules',
    async *snapshot(ctx) {
      if (stillResting(resting, o.config, ctx.clock.now()) && restingScope) {
        yield restingScope;
        return;
      }
      let mailboxes: Mailbox[];
      try {
        mailboxes = selectMailboxes(await listMailboxes(ctx), o.mailboxes);
      } catch (err) {
        if (!isAccessDenied(err)) throw err;
        yield* rest(ctx, 'the User.Read.All application permission (Microsoft Graph) with admin consent', err.message);
        return;
      }
      type Item = { m: Mailbox; attempts: number };
      type Done = { chunk: Item[]; res?: { body: { responses?: BatchResponse[] } }; err?: unknown };
      const queue: Item[] = mailboxes.map((m) => ({ m, attempts: 0 }));
      let denied = 0;
      let read = 0;
      let firstDenial = '';
      // Several batches in flight at once; a mailbox is in at most one of them, so it never has
      // more than one request open (Outlook allows four). Items a batch got back as throttled wait
      // their own Retry-After and re-enter the queue, while the other batches keep going.
      const inFlight = new Map<number, Promise<{ key: number; done: Done }>>();
      const waiting = new Map<number, Promise<{ key: number; done?: undefined }>>();
      let nextKey = 0;
      const send = (chunk: Item[]): void => {
        const key = nextKey++;
        inFlight.set(
          key,
          o.http
            .postJson<{ responses?: BatchResponse[] }>(
              `${o.graphBase}/v1.0/$batch`,
              { requests: chunk.map((c, i) => ({ id: String(i), method: 'GET', url: `/users/${encodeURIComponent(c.m.id)}/mailFolders/inbox/messageRules` })) },
              { signal: ctx.signal },
            )
            .then(
              (res) => ({ key, done: { chunk, res } }),
              (err: unknown) => ({ key, done: { chunk, err } }),
            ),
        );
      };
      const later = (items: Item[], ms: number): void => {
        const key = nextKey++;
        waiting.set(
          key,
          o.sleep(ms).then(() => {
            queue.push(...items);
            return { key };
          }),
        );
      };
      while (queue.length || inFlight.size || waiting.size) {
        while (queue.length && inFlight.size < concurrency) send(queue.splice(0, 20));
        const next = await Promise.race([...inFlight.values(), ...waiting.values()]);
        if (!next.done) {
          waiting.delete(next.key);
          continue;
        }
        inFlight.delete(next.key);
        const { chunk, res, err } = next.done;
        if (err !== undefined || !res) throw err;
        const byId = new Map((res.body.responses ?? []).map((r) => [String(r.id), r]));
        let wait = 0;
        const again: Item[] = [];
        for (const [i, c] of chunk.entries()) {
          const r = byId.get(String(i));
          const status = r?.status ?? 0;
          if (status === 200) {
            read++;
            const now = new Date(ctx.clock.now()).toISOString();
            const objects: SnapshotObject[] = [];
            for (const rule of Array.isArray(r?.body?.value) ? r.body.value : []) {
              try {
                const event = messageRuleEvent(rule, c.m.upn, o.source, now);
                objects.push({ key: String(event.details.rule_id), event });
              } catch (err) {
                ctx.log.warn({ error: (err as Error).message }, 'Skipped an inbox rule that could not be read.');
              }
            }
            yield { scope: c.m.upn, objects };
          } else if ((status === 429 || status >= 500 || status === 0) && c.attempts + 1 < maxAttempts) {
            c.attempts++;
            again.push(c);
            const header = Object.entries(r?.headers ?? {}).find(([k]) => k.toLowerCase() === 'retry-after')?.[1];
            wait = Math.max(wait, parseRetryAfter(header, ctx.clock.now()) ?? backoffMs(c.attempts, { baseMs: 2000, maxMs: 60_000, random }));
          } else if (status === 403) {
            // An application access policy can scope the app out of some mailboxes; all of them is a missing permission.
            denied++;
            firstDenial ||= `${status} ${r?.body?.error?.code ?? ''}`.trim();
          } else if (status !== 404) {
            ctx.log.warn({ status, code: r?.body?.error?.code, attempts: c.attempts + 1 }, 'Could not read the inbox rules of one mailbox; it keeps its last known rules.');
          }
        }
        if (ctx.signal.aborted) return;
        if (again.length) {
          if (wait > 0) later(again, wait);
          else queue.push(...again);
        }
      }
      if (denied > 0 && read === 0) {
        yield* rest(ctx, 'the MailboxSettings.Read application permission (Microsoft Graph) with admin consent', `messageRules answered ${firstDenial} for every mailbox`);
        return;
      }
      resting = undefined;
      restingScope = undefined;
      // Access works: a monitor object left from an earlier failure is removed (access restored).
      yield { scope: ACCESS_SCOPE, objects: [] };
    },
  };

  async function* rest(ctx: StreamContext, missing: string, error: string): AsyncGenerator<SnapshotScope> {
    resting = { reason: 'access_lost', config: o.config, at: ctx.clock.now() };
    restingScope = accessScope(ctx, missing, error);
    ctx.log.warn({ stream: 'inbox-rules', missing }, 'A Microsoft 365 stream is not allowed for this tenant; it is skipped until the configuration changes.');
    yield restingScope;
  }

  async function listMailboxes(ctx: StreamContext): Promise<Mailbox[]> {
    const out: Mailbox[] = [];
    let url: string | undefined = `${o.graphBase}/v1.0/users?$select=id,userPrincipalName,mail,userType,accountEnabled&$top=999`;
    while (url) {
      const res: { body: { value?: unknown[]; '@odata.nextLink'?: unknown } } = await o.http.getJson(url, { signal: ctx.signal });
      for (const u of res.body.value ?? []) {
        if (!u || typeof u !== 'object') continue;
        const r = u as Record<string, unknown>;
        // No `mail`: no Exchange mailbox. Guests have their mailbox in another tenant.
        if (typeof r.id !== 'string' || typeof r.mail !== 'string' || !r.mail || r.userType === 'Guest') continue;
        out.push({ id: r.id, upn: String(r.userPrincipalName ?? r.mail).toLowerCase() });
      }
      const next = res.body['@odata.nextLink'];
      url = typeof next === 'string' ? next : undefined;
    }
    return out;
  }
}

export function selectMailboxes<M extends { upn: string }>(all: M[], sel: Microsoft365Config['mailboxes']): M[] {
  if (sel === 'all') return all;
  if (Array.isArray(sel)) {
    const wanted = new Set(sel.map((s) => s.toLowerCase()));
    return all.filter((m) => wanted.has(m.upn));
  }
  const excluded = new Set(sel.exclude.map((s) => s.toLowerCase()));
  return all.filter((m) => !excluded.has(m.upn));
}

