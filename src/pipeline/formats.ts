import { looksLikeEvent, parseEvent, type VigieEvent } from '../events.js';
import { VigieError } from '../errors.js';

/**
 * A raw record format that `vigie replay` and the file connector recognise by shape. Connectors
 * add their provider formats (Management Activity records, Reports activities...) in app.ts.
 */
export interface RecordFormat {
  name: string;
  /** Cheap shape test on one parsed JSON record. */
  detect(record: unknown): boolean;
  /** Throws on a malformed record (the caller logs and skips it). `source` names the input. */
  normalize(record: unknown, source: string): VigieEvent[];
}

/** A line-oriented text format (a server log), recognised from its first lines. */
export interface TextFormat {
  name: string;
  detect(firstLines: string[]): boolean;
  /** Returns a stateful line reader: sessions may span lines. `flush` emits what is pending at the end. */
  reader(source: string): TextReader;
}

export interface TextReader {
  line(text: string): VigieEvent[];
  flush(): VigieEvent[];
  /** Records the reader could not use since the last call, to be logged and skipped. */
  takeProblems?(): string[];
}

/** VigieEvents themselves: what the demo, tests and exports from another Vigie use. */
export const vigieEventFormat: RecordFormat = {
  name: 'vigie-event',
  detect: looksLikeEvent,
  normalize(record) {
    const r = parseEvent(record);
    if (!r.ok) throw new VigieError('INPUT_INVALID', `Not a valid Vigie event: ${r.error}`);
    return [r.event];
  },
};

export interface FormatRegistry {
  records: RecordFormat[];
  texts: TextFormat[];
}

export function createFormatRegistry(extra: Partial<FormatRegistry> = {}): FormatRegistry {
  return { records: [vigieEventFormat, ...(extra.records ?? [])], texts: [...(extra.texts ?? [])] };
}

export function detectRecordFormat(registry: FormatRegistry, record: unknown): RecordFormat | undefined {
  return registry.records.find((f) => f.detect(record));
}
