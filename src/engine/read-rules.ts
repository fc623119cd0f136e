import fs from 'node:fs';
import path from 'node:path';
import type { Problem } from '../errors.js';
import { RULE_GROUPS, RULE_NAME, ruleSchema, type RuleSpec } from './rule-schema.js';
import { problemAt, readYaml, zodProblems, type YamlSource } from './yaml-source.js';

/** A rule file that passed the schema; conditions and params are compiled later. */
export interface RuleDef {
  file: string;
  source: YamlSource;
  spec: RuleSpec;
}

const GROUPS = new Set<string>(RULE_GROUPS);

/** Reads `rules/<group>/<name>.yml`, checking the schema and that `id` is `<group>.<name>`. */
export function readRuleFiles(rulesDir: string): { defs: RuleDef[]; problems: Problem[] } {
  const defs: RuleDef[] = [];
  const problems: Problem[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(rulesDir, { withFileTypes: true });
  } catch (err) {
    return { defs, problems: [{ file: rulesDir, message: `cannot read the rules folder (${(err as NodeJS.ErrnoException).code ?? err})` }] };
  }
  for (const dir of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const dirPath = path.join(rulesDir, dir.name);
    if (!dir.isDirectory()) {
      problems.push({ file: dirPath, message: 'rule files live in a group folder: rules/<group>/<name>.yml' });
      continue;
    }
    if (dir.name === 'lists') continue;
    if (!GROUPS.has(dir.name)) {
      problems.push({ file: dirPath, message: `unknown rule group "${dir.name}" (known: ${RULE_GROUPS.join(', ')})` });
      continue;
    }
    for (const name of fs.readdirSync(dirPath).sort()) {
      const file = path.join(dirPath, name);
      if (!name.endsWith('.yml')) {
        problems.push({ file, message: 'rule files must end in .yml' });
        continue;
      }
      const base = name.slice(0, -4);
      if (!RULE_NAME.test(base)) {
        problems.push({ file, message: `"${base}" is not a valid rule name (kebab-case: a-z, 0-9 and -)` });
        continue;
      }
      const { source, problems: yamlProblems } = readYaml(file);
      problems.push(...yamlProblems);
      if (!source) continue;
      const parsed = ruleSchema.safeParse(source.data, { reportInput: true });
      if (!parsed.success) {
        problems.push(...zodProblems(source, parsed.error));
        continue;
      }
      const expected = `${dir.name}.${base}`;
      if (parsed.data.id !== expected) {
        problems.push(problemAt(source, ['id'], `must be "${expected}" (the folder and file name)`));
        continue;
      }
      defs.push({ file, source, spec: parsed.data });
    }
  }
  return { defs, problems };
}
