import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, SEVERITIES } from '../../src/alerts/alert.js';
import { checkRules } from '../../src/engine/index.js';
import { isPositiveTest, RULE_GROUPS, ruleSchema } from '../../src/engine/rule-schema.js';
import { options, SHIPPED_RULES } from '../engine/helpers.js';

const files = fs
  .readdirSync(SHIPPED_RULES, { withFileTypes: true })
  .filter((d) => d.isDirectory() && d.name !== 'lists')
  .flatMap((d) => fs.readdirSync(path.join(SHIPPED_RULES, d.name)).map((f) => path.join(d.name, f)));

const PROVIDERS = ['microsoft-365', 'google-workspace', 'imap'] as const;
/** A mechanism belongs to one provider: a Sieve rule never needs Microsoft 365 steps. */
const MECHANISM_PROVIDER: Record<string, (typeof PROVIDERS)[number]> = {
  sieve: 'imap',
  exchange_inbox_rule: 'microsoft-365',
  exchange_mailbox: 'microsoft-365',
  exchange_transport_rule: 'microsoft-365',
  gmail_filter: 'google-workspace',
  gmail_auto_forward: 'google-workspace',
  gmail_route_or_monitor: 'google-workspace',
};

/** The providers a rule's `when` lets through (all three unless it names a provider or a mechanism). */
function providersSeen(raw: Record<string, unknown>): Array<(typeof PROVIDERS)[number]> {
  const when = (raw.when ?? {}) as Record<string, unknown>;
  const asList = (v: unknown): string[] | undefined => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);
  const named = asList(when.provider);
  if (named) return PROVIDERS.filter((p) => named.includes(p));
  const mechanisms = asList(when['details.mechanism']);
  if (mechanisms?.every((m) => MECHANISM_PROVIDER[m])) return [...new Set(mechanisms.map((m) => MECHANISM_PROVIDER[m]!))];
  return [...PROVIDERS];
}

describe('the shipped rule corpus', () => {
  it('loads without a single problem', () => {
    expect(checkRules(options())).toEqual([]);
  });

  it('holds at least the first five rules', () => {
    expect(files.sort()).toEqual(expect.arrayContaining([
      'forwarding/external-inbox-rule.yml',
      'login/brute-force.yml',
      'login/impossible-travel.yml',
      'login/new-country.yml',
      'login/password-spray.yml',
    ]));
  });

  describe.each(files)('%s', (rel) => {
    const raw = parse(fs.readFileSync(path.join(SHIPPED_RULES, rel), 'utf8')) as Record<string, unknown>;
    const spec = ruleSchema.parse(raw);
    const [group, file] = rel.split(path.sep) as [string, string];

    it('is named <group>/<name>.yml with id <group>.<name>', () => {
      expect(RULE_GROUPS).toContain(group);
      expect(file).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*\.yml$/);
      expect(spec.id).toBe(`${group}.${file.replace(/\.yml$/, '')}`);
    });

    it('has a known category and severity, a description and tags', () => {
      expect(CATEGORIES).toContain(spec.category);
      expect(SEVERITIES).toContain(spec.severity);
      expect(spec.description.length).toBeGreaterThan(80);
      expect(spec.tags.length).toBeGreaterThan(0);
      expect(spec.tags.some((t) => t.startsWith('attack.t'))).toBe(true);
    });

    it('has at least one positive and one negative inline test', () => {
      expect(spec.tests.filter(isPositiveTest).length).toBeGreaterThanOrEqual(1);
      expect(spec.tests.filter((t) => !isPositiveTest(t)).length).toBeGreaterThanOrEqual(1);
      expect(new Set(spec.tests.map((t) => t.name)).size).toBe(spec.tests.length);
    });

    it('tells what to do on every provider whose events it can match', () => {
      for (const p of providersSeen(raw)) {
        expect(spec.remediation[p]?.length, p).toBeGreaterThanOrEqual(1);
      }
    });

    it('sets dedupe and group_by explicitly', () => {
      expect(raw.dedupe).toBeTypeOf('string');
      expect(raw.group_by).toBeInstanceOf(Array);
    });
  });
});
