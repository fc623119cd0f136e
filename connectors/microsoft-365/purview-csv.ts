/**
 * Purview audit search exports (Microsoft Purview portal > Audit > Export, or
 * Search-UnifiedAuditLog | Export-Csv): one row per record, the full record as JSON in the
 * `AuditData` column. Old exports have `CreationDate,UserIds,Operations,AuditData`, newer ones
 * `RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...`.
 */
export interface PurviewCsvResult {
  records: Record<string, unknown>[];
  /** Rows that could not be read, by 1-based line of the row's start. */
  errors: Array<{ line: number; error: string }>;
}

/** True when the first line is the header of a Purview audit export. */
export function looksLikePurviewCsv(firstLine: string): boolean {
  const cols = splitCsv(firstLine.replace(/^\uFEFF/, ''))[0]?.cells.map((c) => c.trim().toLowerCase()) ?? [];
  return cols.includes('auditdata') && (cols.includes('creationdate') || cols.includes('operations') || cols.includes('operation'));
}

export function parsePurviewCsv(text: string): PurviewCsvResult {
  const rows = splitCsv(text.replace(/^\uFEFF/, ''));
  const out: PurviewCsvResult = { records: [], errors: [] };
  const header = rows.shift();
  const col = header?.cells.findIndex((c) => c.trim().toLowerCase() === 'auditdata') ?? -1;
  if (!header || col < 0) {
    out.errors.push({ line: 1, error: 'not a Purview audit export: no AuditData column' });
    return out;
  }
  for (const row of rows) {
    if (row.cells.length === 1 && row.cells[0]!.trim() === '') continue;
    const cell = row.cells[col];
    if (cell === undefined || cell.trim() === '') {
      out.errors.push({ line: row.line, error: 'the row has no AuditData' });
      continue;
    }
    try {
      const parsed = JSON.parse(cell) as unknown;
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('AuditData is not a JSON object');
      out.records.push(parsed as Record<string, unknown>);
    } catch (err) {
      out.errors.push({ line: row.line, error: `AuditData is not valid JSON: ${(err as Error).message}` });
    }
  }
  return out;
}

/** RFC 4180: quoted fields may hold commas, doubled quotes and line breaks. */
function splitCsv(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      cells.push(cell);
      rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  return rows;
}
