import path from 'node:path';
import type { Alert } from './alerts/alert.js';
import { buildApp, formatRegistry } from './app.js';
import type { Clock } from './clock.js';
import { defaultConfig, type VigieConfig } from './config/load.js';
import { domainOf } from './events.js';
import type { Logger } from './log.js';
import { detectRecordFormat } from './pipeline/formats.js';
import { readInput } from './pipeline/read-records.js';

export interface ReplayOptions {
  inputs: string[];
  /** Without a config file: shipped rules, defaults, and the inputs' account domains as the organisation's. */
  config?: VigieConfig;
  /** Keep state in this file instead of memory (baselines carry over between replays). */
  statePath?: string;
  /** Send the alerts through the configured receivers. */
  notify: boolean;
  clock: Clock;
  log: Logger;
  write?: (s: string) => void;
}

export interface ReplaySummary {
  files: number;
  records: number;
  events: number;
  duplicates: number;
  skipped: number;
  alerts: number;
  bySeverity: Record<string, number>;
  undelivered: number;
}

/** Runs the rules over exported records (DESIGN §7 `vigie replay`) and returns the alerts in the order they were first raised. */
export async function replay(opts: ReplayOptions): Promise<{ alerts: Alert[]; summary: ReplaySummary }> {
  const inputs = opts.inputs.map((p) => path.resolve(p));
  let config = opts.config ?? defaultConfig();
  if (!opts.config || config.organisation.domains.length === 0) {
    config = { ...config, organisation: { ...config.organisation, domains: await accountDomains(inputs) } };
  }
  const replayConnector = {
    name: 'replay',
    type: 'file',
    enabled: true,
    schedule: '* * * * *',
    backfill: 0,
    paths: inputs,
    learn_from_backfill: false,
  } as unknown as VigieConfig['connectors'][number];
  config = { ...config, connectors: [replayConnector] };
  const app = buildApp(config, {
    clock: opts.clock,
    log: opts.log,
    statePath: opts.statePath ?? ':memory:',
    withReceivers: opts.notify,
    memoryDetectorState: !opts.statePath,
    ...(opts.write ? { write: opts.write } : {}),
  });
  try {
    const before = app.store.lastAlertRowid();
    const { reports, failures } = await app.runOnce();
    if (failures.length) throw new Error(failures.map((f) => f.error).join('; '));
    let undelivered = 0;
    if (opts.notify) {
      await app.delivery.deliverDue(undefined, { flush: true });
      undelivered = app.store.outboxCounts().pending;
    }
    const alerts = app.store.alertsAfter(before);
    const bySeverity: Record<string, number> = {};
    for (const a of alerts) bySeverity[a.severity] = (bySeverity[a.severity] ?? 0) + 1;
    const sum = (k: 'records' | 'events' | 'duplicates' | 'skipped') => reports.reduce((n, r) => n + r[k], 0);
    return {
      alerts,
      summary: {
        files: inputs.length,
        records: sum('records'),
        events: sum('events'),
        duplicates: sum('duplicates'),
        skipped: sum('skipped'),
        alerts: alerts.length,
        bySeverity,
        undelivered,
      },
    };
  } finally {
    await app.close();
  }
}

/** The mail domains of the accounts in the inputs: with no config, they stand for "our organisation". */
async function accountDomains(inputs: string[]): Promise<string[]> {
  const formats = formatRegistry();
  const domains = new Set<string>();
  for (const file of inputs) {
    for await (const item of readInput(file)) {
      if (item.type !== 'record') continue;
      const fmt = detectRecordFormat(formats, item.record);
      if (!fmt) continue;
      try {
        for (const e of fmt.normalize(item.record, 'replay')) {
          const d = domainOf(e.account);
          if (d) domains.add(d);
        }
      } catch {
        // Malformed records are reported by the replay itself.
      }
    }
  }
  return [...domains].sort();
}

export function formatSummary(s: ReplaySummary): string {
  const sev = ['critical', 'high', 'medium', 'low', 'informational']
    .filter((k) => s.bySeverity[k])
    .map((k) => `${s.bySeverity[k]} ${k}`)
    .join(', ');
  return (
    `Replayed ${s.records} record${s.records === 1 ? '' : 's'} from ${s.files} file${s.files === 1 ? '' : 's'}: ` +
    `${s.events} events, ${s.duplicates} duplicates, ${s.skipped} skipped. ` +
    `${s.alerts} alert${s.alerts === 1 ? '' : 's'}${sev ? ` (${sev})` : ''}.` +
    (s.undelivered ? ` ${s.undelivered} deliveries still pending retry.` : '')
  );
}
