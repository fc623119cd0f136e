import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

/** The package root, whether running from src/ (tsx, vitest) or dist/src/ (built). */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'rules'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('Cannot locate the Vigie package root (no package.json with rules/ above this file).');
}

export const PACKAGE_ROOT = findRoot();
export const SHIPPED_RULES_DIR = path.join(PACKAGE_ROOT, 'rules');
export const DEMO_DIR = path.join(PACKAGE_ROOT, 'config', 'demo');
