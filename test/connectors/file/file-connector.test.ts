import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileConnector } from '../../../connectors/file/index.js';
import { fixedClock } from '../../../src/clock.js';
import { createEnricher } from '../../../src/enrich/index.js';
import { silentLogger } from '../../../src/log.js';
import type { LogStream } from '../../../src/pipeline/connector.js';
import { createFormatRegistry } from '../../../src/pipeline/formats.js';
import { createProcessor } from '../../../src/pipeline/process.js';
import { Runner } from '../../../src/pipeline/runner.js';
import { Store } from '../../../src/store/store.js';
import { makeEvent } from '../../helpers/events.js';
import { flaggingEngine } from '../../helpers/test-engine.js';
import { tmpDir } from '../../helpers/tmp.js';

const dir = tmpDir();

function run(files: string[]) {
  const clock = fixedClock('2026-11-10T00:00:00Z');
  const store = Store.open({ path: ':memory:', clock });
  const engine = flaggingEngine();
  const processor = createProcessor({ store, engine, enrich: createEnricher({ domains: [] }), routes: [], receivers: [], clock, log: silentLogger, seenTtlMs: 86_400_000 });
  const runner = new Runner({ store, processor, clock, log: silentLogger });
  const connector = createFileConnector({ name: 'files', paths: files }, { baseDir: dir, formats: createFormatRegistry() });
  const stream = connector.streams[0] as LogStream;
  const once = () => runner.runStream(connector, stream, { backfillMs: 0, overlapMs: 0, learnFromBackfill: false }, new AbortController().signal);
  return { engine, once, store };
}

describe('file connector', () => {
  it('reads a JSON array, a JSONL file and provider pages ({ value } and { items }), detected by shape', async () => {
    const a = makeEvent();
    const b = makeEvent();
    const c = makeEvent();
    const d = makeEvent();
    fs.writeFileSync(path.join(dir, 'array.json'), JSON.stringify([a]));
    fs.writeFileSync(path.join(dir, 'lines.jsonl'), `${JSON.stringify(b)}\n\n${JSON.stringify(c)}\n`);
    fs.writeFileSync(path.join(dir, 'page.json'), JSON.stringify({ '@odata.context': 'x', value: [d] }, null, 2));
    fs.writeFileSync(path.join(dir, 'items.json'), JSON.stringify({ kind: 'admin#reports#activities', items: [a, b] }));
    const { engine, once } = run(['array.json', 'lines.jsonl', 'page.json', 'items.json']);
    const report = await once();
    expect(report.events).toBe(4);
    expect(report.duplicates).toBe(2);
    expect(new Set(engine.seen)).toEqual(new Set([a.id, b.id, c.id, d.id]));
  });

  it('skips bad lines and invalid events with a reason, and keeps the rest', async () => {
    const good = makeEvent();
    fs.writeFileSync(
      path.join(dir, 'mixed.jsonl'),
      [JSON.stringify(good), '{"id": "x", not json', JSON.stringify({ ...makeEvent(), kind: 'no_such_kind' }), JSON.stringify({ hello: 'world' })].join('\n') + '\n',
    );
    const { engine, once } = run(['mixed.jsonl']);
    const report = await once();
    expect(report.skipped).toBe(3);
    expect(engine.seen).toEqual([good.id]);
  });

  it('reads only what was appended since the last run, and everything again after a rotation', async () => {
    const file = path.join(dir, 'growing.jsonl');
    const first = [makeEvent(), makeEvent()];
    fs.writeFileSync(file, first.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const { engine, once } = run(['growing.jsonl']);
    expect((await once()).events).toBe(2);
    const later = makeEvent();
    fs.appendFileSync(file, JSON.stringify(later) + '\n');
    const second = await once();
    expect(second.records).toBe(1);
    expect(engine.seen.at(-1)).toBe(later.id);
    // Rotation: a new file under the same name is read from its start.
    const fresh = makeEvent();
    fs.renameSync(file, `${file}.1`);
    fs.writeFileSync(file, JSON.stringify(fresh) + '\n');
    const third = await once();
    expect(third.events).toBe(1);
    expect(engine.seen.at(-1)).toBe(fresh.id);
    expect((await once()).records).toBe(0);
  });

  it('fails the run with a clear error when a file is missing', async () => {
    const { once } = run(['nope.jsonl']);
    await expect(once()).rejects.toThrow(/Cannot read .*nope\.jsonl: ENOENT/);
  });
});
