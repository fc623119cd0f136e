import type { Engine } from './types.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (c === r.length - 1 ? 0 : r[c]!.length))));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** The `vigie rules list` table: one rule a line, and why a disabled rule is off. */
export function formatRulesList(engine: Engine): string {
  const rules = [...engine.rules].sort((a, b) => a.id.localeCompare(b.id));
  const rows = [['ID', 'CATEGORY', 'SEVERITY', 'STATUS', 'DETECTOR', 'ENABLED']];
  for (const r of rules) {
    rows.push([r.id, r.category, r.severity, r.status, r.detector ?? '-', r.enabled ? 'yes' : `no: ${r.disabledBy ?? 'disabled'}`]);
  }
  const on = rules.filter((r) => r.enabled).length;
  return `${table(rows)}\n\n${rules.length} rule${rules.length === 1 ? '' : 's'}, ${on} enabled.\n`;
}
