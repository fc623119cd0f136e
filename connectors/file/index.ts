import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { VigieError } from '../../src/errors.js';
import type { VigieEvent } from '../../src/events.js';
import type { Connector, LogPage, LogStream, StreamContext } from '../../src/pipeline/connector.js';
import { detectRecordFormat, type FormatRegistry } from '../../src/pipeline/formats.js';
import { readInput } from '../../src/pipeline/read-records.js';

/** Type-specific config keys of a `file` connector. */
export const fileConnectorSchema = z.object({
  /** JSON, JSONL, provider pages or server log files; relative to the config file. */
  paths: z.array(z.string().min(1)).min(1),
  format: z.enum(['auto']).optional(),
  /** Treat a first run's records as history that only trains baselines. Off: exported files are replayed as live. */
  learn_from_backfill: z.boolean().optional(),
  /** Records per committed page (one SQLite transaction each). */
  page_size: z.number().int().min(1).max(100_000).optional(),
});

export type FileConnectorConfig = z.infer<typeof fileConnectorSchema> & { name: string };

/** What pull hands to normalize: a parsed record, events from a stateful text reader, or an unreadable line. */
type FileRecord =
  | { type: 'record'; record: unknown; where: string }
  | { type: 'events'; events: VigieEvent[] }
  | { type: 'bad'; where: string; error: string };

interface FileCursor {
  files: Record<string, { offset: number; ino: number; size: number; mtimeMs: number }>;
}

const DEFAULT_PAGE_SIZE = 500;

/**
 * Reads files of records on a schedule: the demo, replays of exports, and ingestion from tools
 * that drop JSON files. Appended JSONL and log files are read from where the last run stopped.
 */
export function createFileConnector(cfg: FileConnectorConfig, deps: { baseDir: string; formats: FormatRegistry }): Connector {
  const pageSize = cfg.page_size ?? DEFAULT_PAGE_SIZE;
  const files = cfg.paths.map((p) => path.resolve(deps.baseDir, p));
  const stream: LogStream<FileRecord> = {
    kind: 'log',
    name: 'records',
    learnFromBackfill: cfg.learn_from_backfill ?? false,
    async *pull(cursor: unknown, ctx: StreamContext): AsyncIterable<LogPage<FileRecord>> {
      const state: FileCursor = structuredClone((cursor as FileCursor | undefined) ?? { files: {} });
      for (const file of files) {
        let st: fs.Stats;
        try {
          st = fs.statSync(file);
        } catch (err) {
          throw new VigieError('SOURCE_FAILED', `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
        }
        const prev = state.files[file];
        const unchanged = prev && prev.ino === st.ino && prev.size === st.size && prev.mtimeMs === st.mtimeMs && prev.offset >= st.size;
        if (unchanged) continue;
        // A replaced or truncated file is read again from the start; dedupe absorbs what was already seen.
        const start = prev && prev.ino === st.ino && st.size >= prev.offset ? prev.offset : 0;
        let page: FileRecord[] = [];
        let textReader: ReturnType<FormatRegistry['texts'][number]['reader']> | undefined;
        let firstLines: string[] = [];
        let offset = start;
        const flushTextDetection = (): FileRecord[] => {
          if (textReader || firstLines.length === 0) return [];
          const fmt = deps.formats.texts.find((f) => f.detect(firstLines));
          if (!fmt) {
            const out: FileRecord[] = [{ type: 'bad', where: `${file}`, error: 'not JSON and not a known log format' }];
            firstLines = [];
            return out;
          }
          textReader = fmt.reader(cfg.name);
          const events = firstLines.flatMap((l) => textReader!.line(l));
          firstLines = [];
          return events.length ? [{ type: 'events', events }] : [];
        };
        for await (const item of readInput(file, start)) {
          offset = item.offset;
          if (item.type === 'record') page.push({ type: 'record', record: item.record, where: `${file}:${item.line}` });
          else if (item.type === 'bad') page.push({ type: 'bad', where: `${file}:${item.line}`, error: item.error });
          else if (textReader) {
            const events = textReader.line(item.text);
            if (events.length) page.push({ type: 'events', events });
          } else {
            firstLines.push(item.text);
            if (firstLines.length >= 20) page.push(...flushTextDetection());
          }
          if (page.length >= pageSize) {
            state.files[file] = { offset, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
            yield { records: page, cursor: structuredClone(state) };
            page = [];
            if (ctx.signal.aborted) return;
          }
        }
        page.push(...flushTextDetection());
        if (textReader) {
          const rest = textReader.flush();
          if (rest.length) page.push({ type: 'events', events: rest });
          for (const p of textReader.takeProblems?.() ?? []) page.push({ type: 'bad', where: file, error: p });
        }
        state.files[file] = { offset: Math.min(offset, st.size), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
        yield { records: page, cursor: structuredClone(state) };
      }
    },
    normalize(rec: FileRecord): VigieEvent[] {
      if (rec.type === 'events') return rec.events;
      if (rec.type === 'bad') throw new VigieError('INPUT_INVALID', `${rec.where}: ${rec.error}`);
      const format = detectRecordFormat(deps.formats, rec.record);
      if (!format) throw new VigieError('INPUT_INVALID', `${rec.where}: record of an unknown format`);
      try {
        return format.normalize(rec.record, cfg.name);
      } catch (err) {
        throw new VigieError('INPUT_INVALID', `${rec.where}: ${(err as Error).message}`, { cause: err });
      }
    },
  };
  return { name: cfg.name, type: 'file', streams: [stream] };
}
