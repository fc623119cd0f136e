import { alertId, type Alert } from '../../src/alerts/alert.js';
import type { Engine } from '../../src/engine/types.js';

/**
 * A one-rule engine for testing the pipeline on its own: every event with `details.alert` set
 * fires `test.flagged`, one alert per event id. It counts what it saw through detector state so
 * tests can check that state commits with the page.
 */
export function flaggingEngine(): Engine & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    rules: [{ id: 'test.flagged', title: 'Flagged', category: 'mail_activity', severity: 'high', status: 'stable', enabled: true, file: 'test' }],
    evaluate(event, ctx) {
      seen.push(event.id);
      const count = ((ctx.state.get('test.flagged', '*') as number | undefined) ?? 0) + 1;
      ctx.state.set('test.flagged', '*', count, null);
      if (!event.details.alert || ctx.learning) return [];
      const alert: Alert = {
        id: alertId('test.flagged', event.id, event.time),
        rule: 'test.flagged',
        title: 'Flagged event',
        category: 'mail_activity',
        severity: 'high',
        status: 'firing',
        account: event.account,
        provider: event.provider,
        source: event.source,
        time: event.time,
        last_time: event.time,
        count: 1,
        summary: `event ${event.id}`,
        explanation: [`serial ${String(event.details.serial ?? '')}`],
        evidence: [{ event_id: event.id, time: event.time, kind: event.kind }],
        remediation: [],
      };
      return [alert];
    },
  };
}
