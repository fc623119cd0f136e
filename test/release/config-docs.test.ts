import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONNECTOR_TYPES, RECEIVER_TYPES } from '../../src/app.js';
import { configSchema, connectorCommonShape, receiverCommonShape, routeSchema } from '../../src/config/schema.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

/**
 * docs/configuration.md cannot drift from the zod schema: every key of every section is in the
 * section's table, no table lists a key the schema lacks, and each literal default matches the
 * schema's. Keys of each connector and receiver type must appear in the docs (configuration.md or
 * the type's own page).
 */
const DOC = fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'configuration.md'), 'utf8');

const ALL_DOCS = fs
  .readdirSync(path.join(PACKAGE_ROOT, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', f), 'utf8'))
  .join('\n');

/** `### \`section\`` → { key → default cell } from the first table under it. */
function docTables(): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let section: string | undefined;
  for (const line of DOC.split('\n')) {
    const h = /^### `([a-z_]+)`/.exec(line);
    if (h) {
      section = h[1]!;
      out.set(section, new Map());
      continue;
    }
    if (/^##+ /.test(line) && !h) section = undefined;
    const row = /^\| `([a-z_.]+)` \|\s*([^|]*?)\s*\|/.exec(line);
    if (section && row) out.get(section)!.set(row[1]!, row[2]!.trim());
  }
  return out;
}

type AnyZod = z.ZodType & { def?: Record<string, unknown>; _zod: { def: Record<string, unknown> } };

/** Strips default/prefault/optional/pipe wrappers; returns the object shape if there is one, and the default. */
function unwrap(schema: unknown): { shape?: Record<string, unknown>; dflt?: unknown } {
  let s = schema as AnyZod;
  let dflt: unknown;
  for (let i = 0; i < 10; i++) {
    const def = s._zod.def;
    if ((def.type === 'default' || def.type === 'prefault') && dflt === undefined) dflt = def.defaultValue;
    if (def.type === 'object') return { shape: def.shape as Record<string, unknown>, dflt };
    const inner = (def.innerType ?? def.in) as AnyZod | undefined;
    if (!inner) break;
    s = inner;
  }
  return { dflt };
}

function literal(cell: string): string | undefined {
  const m = /^`([^`]*)`$/.exec(cell);
  return m ? m[1] : undefined;
}

function same(doc: string, dflt: unknown): boolean {
  if (typeof dflt === 'string' || typeof dflt === 'number' || typeof dflt === 'boolean') return doc === String(dflt);
  return doc === JSON.stringify(dflt);
}

describe('docs/configuration.md follows the schema', () => {
  const tables = docTables();
  const root = unwrap(configSchema({ baseDir: '/', cwd: '/' })).shape!;

  const sections: Array<[string, Record<string, unknown>]> = [
    ['organisation', unwrap(root.organisation).shape!],
    ['state', unwrap(root.state).shape!],
    ['rules', unwrap(root.rules).shape!],
    ['delivery', unwrap(root.delivery).shape!],
    ['server', unwrap(root.server).shape!],
    ['identity', unwrap(root.identity).shape!],
    ['enrichment', unwrap(root.enrichment).shape!],
    ['connectors', connectorCommonShape],
    ['receivers', receiverCommonShape],
  ];

  it('documents every section', () => {
    for (const key of Object.keys(root)) expect(tables.has(key), `section ${key}`).toBe(true);
  });

  for (const [name, shape] of sections) {
    it(`section ${name}: same keys, same defaults`, () => {
      const table = tables.get(name)!;
      expect([...table.keys()].sort()).toEqual(Object.keys(shape).sort());
      for (const [key, schema] of Object.entries(shape)) {
        const { dflt } = unwrap(schema);
        const cell = literal(table.get(key)!);
        if (dflt !== undefined && cell !== undefined) expect(same(cell, dflt), `${name}.${key}: doc says ${cell}, schema ${JSON.stringify(dflt)}`).toBe(true);
      }
    });
  }

  it('section routes: same keys, match.* included', () => {
    const shape = unwrap(routeSchema).shape!;
    const match = unwrap(shape.match).shape!;
    const expected = [...Object.keys(shape), ...Object.keys(match).map((k) => `match.${k}`)].sort();
    expect([...tables.get('routes')!.keys()].sort()).toEqual(expected);
  });

  it('every key of every connector and receiver type is documented somewhere', () => {
    const missing: string[] = [];
    for (const [type, t] of [...Object.entries(CONNECTOR_TYPES), ...Object.entries(RECEIVER_TYPES)]) {
      const text = ALL_DOCS;
      const shape = unwrap(t.schema).shape ?? {};
      for (const key of Object.keys(shape)) if (!text.includes(`${key}:`) && !text.includes(`\`${key}\``)) missing.push(`${type}.${key}`);
    }
    expect(missing).toEqual([]);
  });
});
