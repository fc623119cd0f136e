import type { Clock } from '../clock.js';
import { VigieError, errorMessage } from '../errors.js';
import type { Receiver, SendResult } from '../receivers/receiver.js';
import { alertId, type Alert } from './alert.js';
import { texts, type Locale } from './i18n.js';
import { plainText } from './sanitize.js';

export const TEST_ALERT_RULE = 'vigie.test-alert';

export interface TestAlertDeps {
  receivers: ReadonlyMap<string, Receiver>;
  clock: Clock;
  locale?: Locale;
  /** `--receiver NAME`: only this one. */
  receiver?: string;
  /** Limit of each send (default 30 s), like one delivery attempt. */
  timeoutMs?: number;
}

export interface TestAlertResult {
  receiver: string;
  type: string;
  status: SendResult['status'];
  reason?: string;
  /** The id of the sample alert, to find it on the other side. */
  alert_id: string;
}

/** The sample alert: plainly a test, in the configured language, with a fresh id per run so that no receiver drops it as a copy. */
export function sampleAlert(receiver: string, now: number, locale?: Locale): Alert {
  const t = texts(locale);
  const iso = new Date(now).toISOString();
  return {
    id: alertId(TEST_ALERT_RULE, receiver, iso),
    rule: TEST_ALERT_RULE,
    title: t.test.title,
    category: 'monitor',
    severity: 'informational',
    status: 'firing',
    provider: 'vigie',
    source: 'test-alert',
    time: iso,
    last_time: iso,
    count: 1,
    summary: t.test.summary(receiver),
    explanation: t.test.explanation,
    evidence: [{ event_id: 'test', time: iso, kind: 'test', detail: t.test.detail }],
    remediation: t.test.remediation,
  };
}

/**
 * `vigie test-alert [--receiver NAME]`: sends a sample alert straight through each receiver (not
 * through the outbox: no retry, the first answer is the verdict) and returns one outcome per
 * receiver, in configuration order.
 */
export async function sendTestAlert(deps: TestAlertDeps): Promise<TestAlertResult[]> {
  const all = [...deps.receivers.values()];
  const chosen = deps.receiver === undefined ? all : all.filter((r) => r.name === deps.receiver);
  if (deps.receiver !== undefined && chosen.length === 0) {
    const known = all.map((r) => r.name).join(', ') || 'none configured';
    throw new VigieError('CONFIG_INVALID', `There is no receiver named "${plainText(deps.receiver, 80)}" (receivers: ${known}).`);
  }
  const timeoutMs = deps.timeoutMs ?? 30_000;
  return Promise.all(
    chosen.map(async (r): Promise<TestAlertResult> => {
      const alert = sampleAlert(r.name, deps.clock.now(), deps.locale);
      let result: SendResult;
      const signal = AbortSignal.timeout(timeoutMs);
      // A receiver that ignores its signal must not hang the command.
      const gaveUp = new Promise<SendResult>((resolve) =>
        signal.addEventListener('abort', () => resolve({ status: 'retryable', reason: `no result within ${timeoutMs} ms` }), { once: true }),
      );
      try {
        result = await Promise.race([r.send([alert], { signal, attempt: 1 }), gaveUp]);
      } catch (err) {
        result = { status: 'retryable', reason: `the receiver failed unexpectedly: ${plainText(errorMessage(err), 300)}` };
      }
      return {
        receiver: r.name,
        type: r.type,
        status: result.status,
        ...(result.status === 'ok' ? {} : { reason: plainText(result.reason, 500) }),
        alert_id: alert.id,
      };
    }),
  );
}

/** One line per receiver, for the terminal: `slack (slack): ok`. */
export function formatTestAlertResults(results: TestAlertResult[]): string {
  return results
    .map((r) => {
      const verdict = r.status === 'ok' ? 'ok' : r.status === 'retryable' ? 'failed (temporary)' : 'failed (permanent)';
      return `${r.receiver} (${r.type}): ${verdict}${r.reason ? ` — ${r.reason}` : ''}`;
    })
    .join('\n');
}
