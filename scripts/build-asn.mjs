#!/usr/bin/env node
// Builds the compact ASN table Vigie looks addresses up in (src/enrich/asn.ts) from the
// @ip-location-db/asn CSVs (a devDependency), so the runtime never needs the 65 MB of CSV.
//
//   node scripts/build-asn.mjs [--out dist/asn] [--src node_modules/@ip-location-db/asn]
//
// Output: asn-v4.bin (u32 start, u32 end, u32 asn per range, little-endian), asn-v6.bin (u64 start,
// u64 end of the upper 64 bits, then u32 asn per range), names.json ({"asn": "organisation"}),
// meta.json. IPv6 ranges narrower than a /64 are rare (a few dozen) and looked up approximately.
// Skips the work when the output is newer than the CSVs.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One CSV line: `start,end,asn,"Org, Inc."` (numbers as decimal integers). */
function parseLine(line) {
  const a = line.indexOf(',');
  const b = line.indexOf(',', a + 1);
  const c = line.indexOf(',', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  let name = line.slice(c + 1);
  if (name.startsWith('"') && name.endsWith('"')) name = name.slice(1, -1).replaceAll('""', '"');
  return { start: line.slice(0, a), end: line.slice(a + 1, b), asn: Number(line.slice(b + 1, c)), name };
}

async function readCsv(file, onRow) {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line) continue;
    const row = parseLine(line);
    if (row && Number.isInteger(row.asn)) onRow(row);
  }
}

export async function buildAsn({ src = path.join(root, 'node_modules/@ip-location-db/asn'), out = path.join(root, 'dist/asn'), force = false } = {}) {
  const v4csv = path.join(src, 'asn-ipv4-num.csv');
  const v6csv = path.join(src, 'asn-ipv6-num.csv');
  const meta = path.join(out, 'meta.json');
  if (!fs.existsSync(v4csv)) return { skipped: true, missing: v4csv, out };
  if (!force && fs.existsSync(meta) && fs.statSync(meta).mtimeMs >= fs.statSync(v4csv).mtimeMs) return { skipped: true, out };
  const t0 = Date.now();
  const names = {};
  const v4 = [];
  await readCsv(v4csv, (r) => {
    v4.push([Number(r.start), Number(r.end), r.asn]);
    names[r.asn] ??= r.name;
  });
  v4.sort((x, y) => x[0] - y[0]);
  const v6 = [];
  await readCsv(v6csv, (r) => {
    v6.push([BigInt(r.start) >> 64n, BigInt(r.end) >> 64n, r.asn]);
    names[r.asn] ??= r.name;
  });
  v6.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));

  fs.mkdirSync(out, { recursive: true });
  const b4 = new Uint32Array(v4.length * 3);
  v4.forEach(([s, e, a], i) => b4.set([s, e, a], i * 3));
  const range6 = new BigUint64Array(v6.length * 2);
  const asn6 = new Uint32Array(v6.length);
  v6.forEach(([s, e, a], i) => {
    range6[i * 2] = s;
    range6[i * 2 + 1] = e;
    asn6[i] = a;
  });
  fs.writeFileSync(path.join(out, 'asn-v4.bin'), Buffer.from(b4.buffer));
  fs.writeFileSync(path.join(out, 'asn-v6.bin'), Buffer.concat([Buffer.from(range6.buffer), Buffer.from(asn6.buffer)]));
  fs.writeFileSync(path.join(out, 'names.json'), JSON.stringify(names));
  const pkg = JSON.parse(fs.readFileSync(path.join(src, 'package.json'), 'utf8'));
  fs.writeFileSync(meta, JSON.stringify({ source: `${pkg.name}@${pkg.version}`, v4: v4.length, v6: v6.length, names: Object.keys(names).length, built: new Date().toISOString() }));
  return { skipped: false, out, v4: v4.length, v6: v6.length, ms: Date.now() - t0 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, src: { type: 'string' }, force: { type: 'boolean', default: false } } });
  const r = await buildAsn({ ...(values.out ? { out: path.resolve(values.out) } : {}), ...(values.src ? { src: path.resolve(values.src) } : {}), force: values.force });
  if (r.missing) console.warn(`${r.missing} not found (devDependency @ip-location-db/asn): ASN table not built; sign-ins get no ASN.`);
  else console.log(r.skipped ? `ASN table in ${r.out} is up to date.` : `ASN table built in ${r.out}: ${r.v4} IPv4 and ${r.v6} IPv6 ranges in ${r.ms} ms.`);
}
