import fs from 'node:fs';
import readline from 'node:readline';
import { VigieError } from '../errors.js';

/** One unit read from an input file: a parsed JSON record, a text line, or a line we could not read. */
export type InputItem =
  | { type: 'record'; record: unknown; line: number }
  | { type: 'text'; text: string; line: number }
  | { type: 'bad'; line: number; error: string };

/** Where provider pages keep their records: Graph `value`, Google `items` and `alerts`, Azure Monitor `records`. */
const PAGE_KEYS = ['value', 'items', 'alerts', 'records'] as const;

/** Unwraps provider pages (`{ value: [...] }`, `{ items: [...] }`) and arrays into records. */
export function unwrapPage(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  // A record has an id; a page does not (a Reports activity holds an `events` list of its own).
  if (doc && typeof doc === 'object' && !('id' in doc)) {
    for (const k of PAGE_KEYS) {
      const v = (doc as Record<string, unknown>)[k];
      if (Array.isArray(v)) return v;
    }
  }
  return [doc];
}

const MAX_WHOLE_FILE = 512 * 1024 * 1024;

/**
 * Reads a JSON document (array, or one provider page), JSONL, or plain text lines, deciding by
 * shape. JSONL and text are streamed, so a replay of millions of records stays small in memory.
 * `startOffset` resumes a line-oriented file after bytes already processed (JSON documents are always read whole).
 */
export async function* readInput(file: string, startOffset = 0): AsyncGenerator<InputItem & { offset: number }> {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw new VigieError('INPUT_INVALID', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const head = Buffer.alloc(64 * 1024);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const text = head.subarray(0, n).toString('utf8').replace(/^\uFEFF/, '');
  const first = text.trimStart()[0];
  const firstLine = text.split('\n', 1)[0]!.trim();

  const wholeJson = first === '[' || (first === '{' && !isCompleteJson(firstLine));
  // A document cannot be resumed in the middle: any change means reading all of it again.
  if (wholeJson) {
    const size = fs.statSync(file).size;
    if (size > MAX_WHOLE_FILE) throw new VigieError('INPUT_INVALID', `${file} is a single JSON document over 512 MiB: export it as JSON Lines instead.`);
    let doc: unknown;
    try {
      doc = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      yield { type: 'bad', line: 1, error: `not valid JSON: ${(err as Error).message}`, offset: 0 };
      return;
    }
    const records = unwrapPage(doc);
    // A document can only be resumed from its start: the offset stays 0 until its last record.
    for (let i = 0; i < records.length; i++) yield { type: 'record', record: records[i], line: i + 1, offset: i === records.length - 1 ? size : 0 };
    return;
  }
  const jsonLines = first === '{';
  const stream = fs.createReadStream(file, { start: startOffset });
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let offset = startOffset;
  let line = 0;
  for await (const raw of rl) {
    line++;
    offset += Buffer.byteLength(raw, 'utf8') + 1;
    const t = raw.trim();
    if (!t) continue;
    if (!jsonLines) {
      yield { type: 'text', text: raw, line, offset };
      continue;
    }
    try {
      const parsed = JSON.parse(t) as unknown;
      for (const record of unwrapPage(parsed)) yield { type: 'record', record, line, offset };
    } catch (err) {
      yield { type: 'bad', line, error: `not valid JSON: ${(err as Error).message}`, offset };
    }
  }
}

function isCompleteJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}
