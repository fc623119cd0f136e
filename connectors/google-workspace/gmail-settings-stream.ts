import { admin } from '@googleapis/admin';
import { gmail } from '@googleapis/gmail';
import type { SnapshotScope, StateStream, StreamContext } from '../../src/pipeline/connector.js';
import { SCOPES } from './config.js';
import { callGoogle, defaultRetryPolicy, GooglePreconditionError, type RetryPolicy } from './google-call.js';
import { gmailSettingsObjects, type GmailSettings } from './gmail-settings-objects.js';
import type { ApiDeps } from './reports-stream.js';

const USERS_PAGE = 500;

const directoryMissing = (subject: string) =>
  `the admin ${subject} needs the "Users > Read" admin privilege, and the service account's client ID needs the scope ${SCOPES.directory} in domain-wide delegation`;
const gmailMissing = `the service account's client ID needs the scope ${SCOPES.gmailSettings} in domain-wide delegation, and the user needs Gmail turned on`;

async function readMailbox(email: string, deps: ApiDeps, policy: RetryPolicy, signal: AbortSignal): Promise<GmailSettings> {
  // Gmail settings are read as the user: domain-wide delegation impersonates each mailbox in turn.
  const api = gmail({ version: 'v1', auth: deps.auth(email, [SCOPES.gmailSettings]), ...(deps.rootUrl && { rootUrl: deps.rootUrl }) });
  const s = api.users.settings;
  const opts = { retry: false, signal };
  const call = <T>(fn: () => Promise<{ data: T }>) => callGoogle(`Gmail API (${email})`, gmailMissing, fn, policy, signal).then((r) => r.data);
  const [autoForwarding, forwarding, filters, delegates, imap, pop] = await Promise.all([
    call(() => s.getAutoForwarding({ userId: email }, opts)),
    call(() => s.forwardingAddresses.list({ userId: email }, opts)),
    call(() => s.filters.list({ userId: email }, opts)),
    call(() => s.delegates.list({ userId: email }, opts)),
    call(() => s.getImap({ userId: email }, opts)),
    call(() => s.getPop({ userId: email }, opts)),
  ]);
  return {
    account: email,
    autoForwarding,
    forwardingAddresses: forwarding.forwardingAddresses ?? [],
    // The list's key is the singular "filter", and it is absent when there are none.
    filters: filters.filter ?? [],
    delegates: delegates.delegates ?? [],
    imap,
    pop,
  };
}

/**
 * Every active user's forwarding, hiding filters, delegates and IMAP/POP access, one scope per
 * mailbox. A mailbox that cannot be read this time keeps its previous snapshot.
 */
export function gmailSettingsStream(deps: ApiDeps): StateStream {
  return {
    kind: 'state',
    name: 'gmail-settings',
    async *snapshot(ctx: StreamContext): AsyncIterable<SnapshotScope> {
      const policy = defaultRetryPolicy(deps.sleep, () => ctx.clock.now());
      const directory = admin({
        version: 'directory_v1',
        auth: deps.auth(deps.adminSubject, [SCOPES.directory]),
        ...(deps.rootUrl && { rootUrl: deps.rootUrl }),
      });
      let pageToken: string | undefined;
      do {
        const res = await callGoogle(
          'Directory API',
          directoryMissing(deps.adminSubject),
          () =>
            directory.users.list(
              { customer: deps.customer, maxResults: USERS_PAGE, orderBy: 'email', projection: 'basic', ...(pageToken && { pageToken }) },
              { retry: false, signal: ctx.signal },
            ),
          policy,
          ctx.signal,
        );
        pageToken = res.data.nextPageToken ?? undefined;
        for (const user of res.data.users ?? []) {
          if (!user.primaryEmail || user.suspended || user.archived) continue;
          const email = user.primaryEmail.toLowerCase();
          let settings: GmailSettings;
          try {
            settings = await readMailbox(email, deps, policy, ctx.signal);
          } catch (err) {
            if (!(err instanceof GooglePreconditionError)) throw err;
            ctx.log.info({ account: email, error: err.message }, 'Skipped a mailbox whose Gmail settings cannot be read.');
            continue;
          }
          yield { scope: email, objects: gmailSettingsObjects(settings, new Date(ctx.clock.now()).toISOString()) };
          if (ctx.signal.aborted) return;
        }
      } while (pageToken);
    },
  };
}
