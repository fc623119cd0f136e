import type { Locale } from '../alerts/i18n.js';
import { renderAlertText } from '../alerts/render-text.js';
import { errorMessage } from '../errors.js';
import { plainText } from '../alerts/sanitize.js';
import type { Receiver } from './receiver.js';

export interface ConsoleReceiverOptions {
  name: string;
  /** Where the text goes; stdout by default (logs go to stderr, so the two never interleave). */
  write?: (text: string) => void;
  locale?: Locale;
}

/** Prints each alert as a text block: for `vigie run` in a terminal, demos and as a last-resort channel. */
export function createConsoleReceiver(opts: ConsoleReceiverOptions): Receiver {
  const write = opts.write ?? ((text: string) => void process.stdout.write(text));
  return {
    name: opts.name,
    type: 'console',
    async send(alerts) {
      try {
        write(alerts.map((a) => `${renderAlertText(a, opts.locale)}\n\n`).join(''));
        return { status: 'ok' };
      } catch (err) {
        // A closed pipe may reopen (a restarted log collector): try again later rather than drop.
        return { status: 'retryable', reason: `writing to the console failed: ${plainText(errorMessage(err), 200)}` };
      }
    },
  };
}
