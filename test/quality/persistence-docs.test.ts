import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mdText, renderRulesDoc } from '../../src/rules-docs.js';
import { RULES } from './persistence-helpers.js';

const DOC = path.resolve(import.meta.dirname, '../../docs/rules.md');

describe('docs/rules.md', () => {
  it('is current with rules/ (regenerate: npm run vigie -- rules docs > docs/rules.md)', () => {
    const current = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf8') : '';
    expect(current === renderRulesDoc(RULES), 'docs/rules.md is stale: run `npm run vigie -- rules docs > docs/rules.md`').toBe(true);
  });

  it('lists every rule with its data sources, knobs and false positives', () => {
    const doc = renderRulesDoc(RULES);
    for (const group of fs.readdirSync(RULES).filter((g) => g !== 'lists')) {
      for (const f of fs.readdirSync(path.join(RULES, group))) expect(doc).toContain(`### ${mdText(`${group}.${f.replace(/\.yml$/, '')}`)}`);
    }
    expect(doc).toContain('**Data sources and licences**');
    expect(doc).toContain('**Known false positives**');
    expect(doc).toContain('`min_items`');
  });

  it('escapes rule text so it cannot break a table or become markup', () => {
    expect(mdText('a | b <img src=x> [l](http://x) `c`\nd')).toBe('a \\| b \\<img src=x\\> \\[l\\]\\(http://x\\) \\`c\\` d');
  });
});
