import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { readRuleFiles, type RuleDef } from './engine/read-rules.js';

/**
 * docs/rules.md, generated from rules/ (`vigie rules docs`): every rule with what it detects, its
 * data source, licence needs, tuning knobs and known false positives. Every value from a rule file
 * is escaped, so no rule text can break the markdown or become a link or markup.
 */

/** Markdown-inert text for a table cell or a line: no pipes, no markup, no line breaks. */
export function mdText(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim()
    .replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`);
}

/** Text inside an inline code span; backticks in it are replaced, so the span cannot be closed early. */
function code(value: string): string {
  return `\`${value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/`/g, "'").replace(/\|/g, '¦')}\``;
}

const GENERIC_SOURCES: Record<string, string> = {
  signin: 'Sign-ins: Microsoft 365 unified audit log UserLoggedIn (any licence) or Graph sign-ins (Entra P1); Google Reports API login; Dovecot log',
  provider_alert: "The provider's own verdicts: Entra ID Protection risk detections (P1/P2), Google Reports API login warnings and Alert Center",
  account_change: 'Account changes: Microsoft 365 unified audit log and Graph directory audits; Google Reports API login, user_accounts and admin',
  mailbox_rule: 'Inbox rules, Gmail filters, Sieve scripts (audit logs and snapshots)',
  mailbox_forwarding: 'Mailbox and organisation forwarding (audit logs and snapshots)',
  mailbox_permission: 'Mailbox permissions and delegates (audit logs and snapshots)',
  app_consent: 'OAuth consents (Microsoft 365 audit log, Google token events)',
  data_export: 'Exports (Microsoft 365 audit log, Google Reports API, Dovecot log)',
  mail_activity: 'Mail activity (IMAP mailbox scan)',
  monitor: "Vigie's own health events",
};

function kindsOf(def: RuleDef): string[] {
  const k = def.spec.when.kind;
  if (typeof k === 'string') return [k];
  if (Array.isArray(k)) return k.filter((x): x is string => typeof x === 'string');
  return [];
}

function sources(def: RuleDef): string[] {
  if (def.spec.data_sources.length) return def.spec.data_sources;
  const kinds = kindsOf(def);
  if (kinds.length === 0) return ['Every event'];
  return kinds.map((k) => GENERIC_SOURCES[k] ?? k);
}

function paramText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function bullets(items: readonly string[], render: (s: string) => string = mdText): string[] {
  return items.length ? items.map((i) => `- ${render(i)}`) : ['- none listed'];
}

function ruleSection(def: RuleDef): string[] {
  const s = def.spec;
  const out: string[] = [];
  out.push(`### ${mdText(s.id)}`, '');
  out.push(`**${mdText(s.title)}**`, '');
  out.push('| category | severity | status | detector | input | dedupe |', '|---|---|---|---|---|---|');
  out.push(`| ${mdText(s.category)} | ${mdText(s.severity)}${s.escalate.length ? ` (up to ${mdText(s.escalate.map((e) => e.severity).sort().at(-1) ?? '')})` : ''} | ${mdText(s.status)} | ${mdText(s.detector)} | ${mdText(s.input)} | ${Math.round(s.dedupe / 3_600_000)} h |`, '');
  out.push(mdText(s.description), '');
  out.push('**Data sources and licences**', '', ...bullets(sources(def)), '');
  const params = Object.entries(s.params);
  out.push('**Tuning knobs** (`overrides.<id>.params` in an overlay; exceptions by any event field)', '');
  if (params.length) for (const [k, v] of params) out.push(`- ${code(k)}: ${code(paramText(v))}`);
  else out.push('- no params: tune with exceptions, severity overrides or lists');
  const lists = [...JSON.stringify(s).matchAll(/"in_list":"([a-z0-9-]+)"/g)].map((m) => m[1]!);
  for (const l of [...new Set(lists)]) out.push(`- list ${code(l)} (append in an overlay under \`lists:\`)`);
  out.push('');
  out.push('**Known false positives**', '', ...bullets(s.false_positives), '');
  const providers = (['microsoft-365', 'google-workspace', 'imap'] as const).filter((p) => s.remediation[p]?.length);
  out.push(`**Remediation** for ${providers.length ? providers.map(mdText).join(', ') : 'no provider'} (filled with the alert's values)`, '');
  for (const p of providers) {
    out.push(`- ${mdText(p)}:`);
    for (const step of s.remediation[p]!) out.push(`  - ${mdText(step)}`);
  }
  out.push('');
  out.push(`Tags: ${s.tags.map(code).join(' ') || 'none'}. Inline tests: ${s.tests.length}.`, '');
  return out;
}

export function renderRulesDoc(rulesDir: string): string {
  const { defs } = readRuleFiles(rulesDir);
  const listDir = path.join(rulesDir, 'lists');
  const lists = (fs.existsSync(listDir) ? fs.readdirSync(listDir).filter((f) => f.endsWith('.yml')).sort() : []).map((f) => {
    const data = (parse(fs.readFileSync(path.join(listDir, f), 'utf8')) ?? {}) as { description?: unknown; items?: unknown };
    return { name: f.slice(0, -4), items: Array.isArray(data.items) ? data.items.length : 0, description: typeof data.description === 'string' ? data.description : '' };
  });
  const sorted = [...defs].sort((a, b) => a.spec.id.localeCompare(b.spec.id));
  const out: string[] = [
    '# Rule reference',
    '',
    '<!-- Generated from rules/ by `npm run vigie -- rules docs > docs/rules.md`. Do not edit by hand: a test fails when it is stale. -->',
    '',
    `${sorted.length} rules. How rules work and how to tune them: [rules-format.md](rules-format.md).`,
    '',
    '| id | title | category | severity | detector |',
    '|---|---|---|---|---|',
    ...sorted.map((d) => `| ${mdText(d.spec.id)} | ${mdText(d.spec.title)} | ${mdText(d.spec.category)} | ${mdText(d.spec.severity)} | ${mdText(d.spec.detector)} |`),
    '',
    '## Rules',
    '',
  ];
  for (const d of sorted) out.push(...ruleSection(d));
  out.push('## Shipped lists', '', '| list | items | description |', '|---|---|---|');
  for (const l of lists) out.push(`| ${mdText(l.name)} | ${l.items} | ${mdText(l.description)} |`);
  out.push('');
  return out.join('\n');
}
