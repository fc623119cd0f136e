import type { Clock } from './clock.js';
import type { VigieConfig } from './config/load.js';
import type { RuleInfo } from './engine/types.js';
import type { Logger } from './log.js';
import type { Connector } from './pipeline/connector.js';
import { STREAMS, providerName, ruleNeeds, type StreamInfo } from './doctor/coverage.js';
import { checkReceiver, probeStream, type CheckStatus, type ReceiverCheck, type StreamCheck } from './doctor/probe.js';

/**
 * `vigie doctor`: for every connector, reads one page of every stream with the connector's own
 * clients (credentials, permissions, licences, audit settings, Dovecot master user and log), checks
 * that every receiver can be reached, and prints which rules are covered by what, and why not.
 */
export interface DoctorOptions {
  config: VigieConfig;
  /** The enabled connectors, built from the config (tests build them against the fakes). */
  connectors: readonly Connector[];
  rules: readonly RuleInfo[];
  clock: Clock;
  log: Logger;
  timeoutMs?: number;
  /** Tests only: a CA the receiver TLS check trusts. */
  receiverCa?: string;
}

export interface CoverageRow {
  rule: string;
  category: string;
  covered: boolean;
  /** e.g. "Microsoft 365 (hq) via audit log (geo from GeoIP)". */
  by: string[];
  /** e.g. "Graph sign-ins need Entra ID P1". */
  gaps: string[];
}

export interface DoctorReport {
  streams: StreamCheck[];
  notes: Array<{ source: string; status: CheckStatus; text: string }>;
  receivers: ReceiverCheck[];
  coverage: CoverageRow[];
  /** Failures and denials that need fixing (licence limits are not counted). */
  problems: number;
}

const LICENCE = /licen[cs]e|Entra ID P1|premium/i;

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const streams: DoctorReport['streams'] = [];
  for (const c of opts.connectors) {
    for (const s of c.streams) {
      const check = await probeStream(c, s, { clock: opts.clock, log: opts.log, timeoutMs });
      streams.push(check.status === 'denied' && LICENCE.test(check.detail) ? { ...check, status: 'unlicensed' } : check);
    }
  }
  const notes = providerNotes(opts.config, opts.connectors, streams);
  const receivers: ReceiverCheck[] = [];
  for (const r of opts.config.receivers) {
    receivers.push(await checkReceiver(r, { timeoutMs: Math.min(timeoutMs, 10_000), ...(opts.receiverCa ? { ca: opts.receiverCa } : {}) }));
  }
  const coverage = opts.rules.filter((r) => r.enabled).map((r) => coverageOf(r, opts.connectors, streams));
  const problems =
    streams.filter((s) => s.status === 'failed' || s.status === 'denied').length +
    receivers.filter((r) => r.status === 'failed').length +
    notes.filter((n) => n.status === 'failed' || n.status === 'denied').length;
  return { streams, notes, receivers, coverage, problems };
}

/** Audit settings and server-side prerequisites, said per provider where Vigie can see them. */
function providerNotes(config: VigieConfig, connectors: readonly Connector[], streams: DoctorReport['streams']): DoctorReport['notes'] {
  const notes: DoctorReport['notes'] = [];
  for (const c of connectors) {
    const mine = streams.filter((s) => s.source === c.name);
    const entry = config.connectors.find((e) => e.name === c.name);
    if (c.type === 'microsoft-365') {
      const audit = mine.filter((s) => s.stream.startsWith('audit-'));
      if (audit.length) {
        const bad = audit.find((s) => s.status !== 'ok');
        notes.push(
          bad
            ? { source: c.name, status: bad.status === 'failed' ? 'failed' : 'denied', text: `unified audit log: cannot be read (${bad.stream}: ${bad.detail})` }
            : { source: c.name, status: 'ok', text: 'unified audit log: on, and the Management Activity API answers' },
        );
      }
      const exchange = mine.find((s) => s.stream === 'audit-exchange' && s.status === 'ok');
      if (exchange) {
        const seen = exchange.records.some((r) => (r as Record<string, unknown> | null)?.Operation === 'MailItemsAccessed');
        notes.push({
          source: c.name,
          status: seen ? 'ok' : 'warn',
          text: seen
            ? 'MailItemsAccessed: records seen (bulk mailbox access is visible)'
            : 'MailItemsAccessed: none in the records read; it needs Audit (Premium) or an E5/E3 mailbox audit default — without it, export.bulk-access is blind',
        });
      }
    }
    if (c.type === 'imap') {
      const mailbox = mine.find((s) => s.stream === 'mailbox');
      if (mailbox) notes.push({ source: c.name, status: mailbox.status === 'ok' ? 'ok' : 'failed', text: mailbox.status === 'ok' ? 'IMAP login (master user or account passwords) works' : `IMAP login fails: ${mailbox.detail}` });
      const log = mine.find((s) => s.stream === 'dovecot-log');
      if (log) notes.push({ source: c.name, status: log.status === 'ok' ? 'ok' : 'failed', text: log.status === 'ok' ? 'Dovecot log is readable' : `Dovecot log: ${log.detail}` });
      else notes.push({ source: c.name, status: 'warn', text: 'no dovecot_log configured: sign-in rules cannot see IMAP logins' });
    }
    if (c.type === 'google-workspace' && entry && entry.gmail_settings !== true) {
      notes.push({ source: c.name, status: 'warn', text: 'gmail_settings is off (opt-in): Gmail filters, forwarding and delegates are only seen through the admin audit log' });
    }
  }
  return notes;
}

function coverageOf(rule: RuleInfo, connectors: readonly Connector[], streams: DoctorReport['streams']): CoverageRow {
  const needs = ruleNeeds(rule);
  const row: CoverageRow = { rule: rule.id, category: rule.category, covered: false, by: [], gaps: [] };
  if (needs.kinds.length && needs.kinds.every((k) => k === 'monitor')) {
    row.covered = true;
    row.by.push('Vigie itself (its own monitor events)');
    return row;
  }
  const wants = (k: readonly string[]) => needs.kinds.length === 0 || k.some((x) => needs.kinds.includes(x));
  for (const c of connectors) {
    if (c.type === 'file') {
      row.covered = true;
      row.by.push(`file ${c.name} (whatever its files hold)`);
      continue;
    }
    if (needs.providers.length && !needs.providers.includes(c.type)) continue;
    const known = STREAMS[c.type] ?? {};
    const via: string[] = [];
    for (const [name, info] of Object.entries(known) as Array<[string, StreamInfo]>) {
      if (!wants(info.kinds)) continue;
      const kind = info.kinds.find((k) => needs.kinds.includes(k));
      const note = kind ? info.notes?.[kind] : undefined;
      const check = streams.find((s) => s.source === c.name && s.stream === name);
      const has = c.streams.some((s) => s.name === name);
      if (has && check?.status === 'ok') via.push(note ? `${info.label} (${note})` : info.label);
      else if (has && check?.status === 'unlicensed') row.gaps.push(`${info.label} need${info.label.endsWith('s') ? '' : 's'} ${info.needs}`);
      else if (has && check) row.gaps.push(`${info.label}: ${check.status} (${check.detail.slice(0, 160)})`);
      else if (!has && c.type !== 'google-workspace') row.gaps.push(`${info.label} not read: needs ${info.needs}`);
      else if (!has && name === 'gmail-settings') row.gaps.push(`${info.label} not read: needs ${info.needs}`);
    }
    if (via.length) {
      row.covered = true;
      row.by.push(`${providerName(c.type)} (${c.name}) via ${via.join(', ')}`);
    }
  }
  if (!row.covered && !row.gaps.length) {
    const providers = needs.providers.length ? needs.providers.map(providerName).join(', ') : 'any provider';
    row.gaps.push(`no connector that can see it (${needs.kinds.join(', ') || 'events'} from ${providers})`);
  }
  return row;
}

const MARK: Record<string, string> = { ok: 'ok', warn: 'WARN', denied: 'DENIED', failed: 'FAILED', unlicensed: 'NO LICENCE' };

export function formatDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  const table = (rows: string[][]) => {
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
    for (const r of rows) lines.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
  };
  lines.push('Connectors');
  if (report.streams.length) table([['SOURCE', 'STREAM', 'RESULT', 'DETAIL'], ...report.streams.map((s) => [s.source, s.stream, MARK[s.status]!, s.detail])]);
  else lines.push('  (no connectors configured)');
  if (report.notes.length) {
    lines.push('', 'Provider settings');
    table([['SOURCE', 'RESULT', 'DETAIL'], ...report.notes.map((n) => [n.source, MARK[n.status]!, n.text])]);
  }
  lines.push('', 'Receivers');
  if (report.receivers.length) table([['RECEIVER', 'TYPE', 'RESULT', 'DETAIL'], ...report.receivers.map((r) => [r.receiver, r.type, MARK[r.status]!, r.detail])]);
  else lines.push('  (no receivers configured: alerts go nowhere)');
  lines.push('', 'Rule coverage');
  table([
    ['RULE', 'COVERED', 'BY / WHY NOT'],
    ...report.coverage.map((c) => [c.rule, c.covered ? 'yes' : 'NO', [...c.by, ...c.gaps].join('; ')]),
  ]);
  const covered = report.coverage.filter((c) => c.covered).length;
  lines.push('', `${covered} of ${report.coverage.length} enabled rules are covered; ${report.problems} problem${report.problems === 1 ? '' : 's'} to fix.`);
  return `${lines.join('\n')}\n`;
}
