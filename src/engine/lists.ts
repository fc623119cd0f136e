import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Problem } from '../errors.js';
import { cidrContains, parseCidr, parseIp, type CidrRange } from './cidr.js';
import { readYaml, zodProblems } from './yaml-source.js';

/** A named list as conditions use it: plain values compared case-insensitively, plus CIDR ranges. */
export interface NamedList {
  name: string;
  items: string[];
  /** Where each contribution came from, for error messages and `rules list`. */
  origins: string[];
}

export interface CompiledList {
  has(value: unknown): boolean;
}

export const LIST_NAME = /^[a-z0-9][a-z0-9-]*$/;

const listFileSchema = z.strictObject({
  description: z.string().min(1),
  items: z.array(z.union([z.string(), z.number()])),
});

/** Reads `rules/lists/*.yml`; the list name is the file name. */
export function loadListFiles(dir: string): { lists: Map<string, NamedList>; problems: Problem[] } {
  const lists = new Map<string, NamedList>();
  const problems: Problem[] = [];
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    return { lists, problems }; // a rules folder without lists is fine
  }
  for (const entry of names) {
    const file = path.join(dir, entry);
    if (!entry.endsWith('.yml')) {
      problems.push({ file, message: 'list files must end in .yml' });
      continue;
    }
    const name = entry.slice(0, -4);
    if (!LIST_NAME.test(name)) {
      problems.push({ file, message: `"${name}" is not a valid list name (lower-case letters, digits and -)` });
      continue;
    }
    const { source, problems: yamlProblems } = readYaml(file);
    problems.push(...yamlProblems);
    if (!source) continue;
    const parsed = listFileSchema.safeParse(source.data, { reportInput: true });
    if (!parsed.success) {
      problems.push(...zodProblems(source, parsed.error));
      continue;
    }
    lists.set(name, { name, items: parsed.data.items.map(String), origins: [file] });
  }
  return { lists, problems };
}

/** Adds items to a list, creating it when it does not exist yet. */
export function appendToList(lists: Map<string, NamedList>, name: string, items: readonly string[], origin: string): void {
  const list = lists.get(name) ?? { name, items: [], origins: [] };
  list.items = [...list.items, ...items];
  list.origins = [...list.origins, origin];
  lists.set(name, list);
}

export function compileList(list: NamedList): CompiledList {
  const values = new Set<string>();
  const ranges: CidrRange[] = [];
  for (const item of list.items) {
    const range = item.includes('/') || parseIp(item) ? parseCidr(item) : undefined;
    if (range) ranges.push(range);
    values.add(item.trim().toLowerCase());
  }
  return {
    has(value: unknown): boolean {
      if (typeof value !== 'string' && typeof value !== 'number') return false;
      const s = String(value).trim().toLowerCase();
      if (values.has(s)) return true;
      if (ranges.length === 0) return false;
      const ip = parseIp(s);
      return ip !== undefined && ranges.some((r) => cidrContains(r, ip));
    },
  };
}
