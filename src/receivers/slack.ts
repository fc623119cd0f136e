import type { Locale } from '../alerts/i18n.js';
import { renderSlack } from '../alerts/render-slack.js';
import type { Clock } from '../clock.js';
import { createJsonPoster } from './http-post.js';
import type { Receiver } from './receiver.js';

export interface SlackReceiverOptions {
  name: string;
  /** Incoming webhook URL; the URL is the secret (give it as `url_file`). */
  url: string;
  timeoutMs: number;
  locale?: Locale;
  fetch?: typeof fetch;
  clock?: Clock;
}

/**
 * Slack incoming webhook with a Block Kit message. Slack answers 200 `ok`, 400 `invalid_payload`,
 * 403/404 for a revoked hook or channel, 410 for an archived channel, 429 with Retry-After: the
 * generic HTTP classification already says the right thing for each.
 */
export function createSlackReceiver(opts: SlackReceiverOptions): Receiver {
  const poster = createJsonPoster({ name: opts.name, what: 'Slack', url: opts.url, timeoutMs: opts.timeoutMs, ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  return {
    name: opts.name,
    type: 'slack',
    send: (alerts, ctx) => poster.post(JSON.stringify(renderSlack(alerts, opts.locale)), {}, ctx),
  };
}
