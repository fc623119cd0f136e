import type { Locale } from '../alerts/i18n.js';
import { renderTeams } from '../alerts/render-teams.js';
import type { Clock } from '../clock.js';
import { createJsonPoster } from './http-post.js';
import type { Receiver } from './receiver.js';

export interface TeamsReceiverOptions {
  name: string;
  /** Workflows ("post to a channel when a webhook request is received") or incoming webhook URL; the URL is the secret. */
  url: string;
  timeoutMs: number;
  locale?: Locale;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** Microsoft Teams: one Adaptive Card per message. Workflows answer 202 Accepted, which is a 2xx like any other. */
export function createTeamsReceiver(opts: TeamsReceiverOptions): Receiver {
  const poster = createJsonPoster({ name: opts.name, what: 'Teams', url: opts.url, timeoutMs: opts.timeoutMs, ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    name: opts.name,
    type: 'teams',
    send: (alerts, ctx) => poster.post(JSON.stringify(renderTeams(alerts, opts.locale)), {}, ctx),
  };
}
