// The Google fake (test/fakes/google-workspace) for benchmarks: transpiled to .tmp/bench/google so
// there is one definition of how it behaves; its value imports point at the project's build (dist/).
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadGoogleFake(root) {
  const ts = (await import('typescript')).default;
  const tmp = path.join(root, '.tmp', 'bench', 'google');
  fs.mkdirSync(tmp, { recursive: true });
  for (const f of ['server', 'dataset']) {
    const src = fs.readFileSync(path.join(root, 'test/fakes/google-workspace', `${f}.ts`), 'utf8');
    const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
    const text = out.outputText.replace(/'\.\.\/\.\.\/\.\.\/(connectors|src)\//g, (_, d) => `'${pathToFileURL(path.join(root, 'dist', d)).href}/`);
    fs.writeFileSync(path.join(tmp, `${f}.js`), text);
  }
  const server = await import(pathToFileURL(path.join(tmp, 'server.js')).href);
  const dataset = await import(pathToFileURL(path.join(tmp, 'dataset.js')).href);
  return { ...server, ...dataset };
}
