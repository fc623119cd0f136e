import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { runRuleTests } from '../../src/engine/index.js';
import { silentLogger } from '../../src/log.js';

const rulesDir = path.resolve(import.meta.dirname, '../../rules');

// `vigie rules test` as part of `npm test`: every inline test of every shipped rule.
describe('shipped rules: inline tests', () => {
  const results = runRuleTests({ rulesDir, overlays: [], clock: fixedClock('2025-01-01T00:00:00Z'), log: silentLogger });

  it('found tests to run', () => {
    expect(results.length).toBeGreaterThan(10);
  });

  it.each(results.map((r) => [`${r.rule}: ${r.test}`, r] as const))('%s', (_name, r) => {
    expect(r.message ?? '', r.message).toBe('');
    expect(r.passed).toBe(true);
  });
});
