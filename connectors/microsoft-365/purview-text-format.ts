import type { VigieEvent } from '../../src/events.js';
import { detectRecordFormat, type RecordFormat, type TextFormat } from '../../src/pipeline/formats.js';
import { looksLikePurviewCsv, parsePurviewCsv } from './purview-csv.js';

/**
 * Purview audit search CSV exports as a `vigie replay` input. A CSV row can span lines (quoted
 * newlines), so the reader collects the file and parses it at the end; exports are bounded by
 * Purview (50,000 rows per export).
 */
export function purviewCsvTextFormat(recordFormats: readonly RecordFormat[]): TextFormat {
  return {
    name: 'microsoft-365.purview-csv',
    detect: (firstLines) => firstLines.length > 0 && looksLikePurviewCsv(firstLines[0]!),
    reader(source) {
      const lines: string[] = [];
      let problems: string[] = [];
      return {
        line(text) {
          lines.push(text);
          return [];
        },
        flush() {
          const { records, errors } = parsePurviewCsv(lines.join('\n'));
          lines.length = 0;
          problems.push(...errors.map((e) => `row at line ${e.line}: ${e.error}`));
          const events: VigieEvent[] = [];
          for (const r of records) {
            const format = detectRecordFormat({ records: [...recordFormats], texts: [] }, r);
            if (!format) {
              problems.push('an AuditData record of an unknown shape');
              continue;
            }
            try {
              events.push(...format.normalize(r, source));
            } catch (err) {
              problems.push(`an AuditData record could not be read: ${(err as Error).message}`);
            }
          }
          return events;
        },
        takeProblems() {
          const out = problems;
          problems = [];
          return out;
        },
      };
    },
  };
}
