import fs from 'node:fs';
import path from 'node:path';
import { defaultAsnDir } from '../../src/enrich/asn.js';

/** Builds dist/asn from the devDependency CSVs when a fresh checkout has not run the build yet (about 2 s). */
export async function ensureAsnTable(): Promise<string> {
  const dir = defaultAsnDir();
  if (!fs.existsSync(path.join(dir, 'meta.json'))) {
    const script = path.resolve(import.meta.dirname, '../../scripts/build-asn.mjs');
    const { buildAsn } = (await import(script)) as { buildAsn(o: { out: string }): Promise<unknown> };
    await buildAsn({ out: dir });
  }
  return dir;
}
