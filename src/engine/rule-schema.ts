import { z } from 'zod';
import { CATEGORIES, SEVERITIES } from '../alerts/alert.js';
import { DETECTOR_KINDS } from './detectors/index.js';
import { durationParam, eventPathParam } from './detectors/params.js';

/** DESIGN §5: the folders of rules/ (besides lists/). */
export const RULE_GROUPS = ['login', 'account', 'forwarding', 'delegation', 'oauth', 'export', 'mail', 'monitor', 'incident'] as const;
export const RULE_STATUSES = ['stable', 'test', 'experimental'] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

export const RULE_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TAG = /^[a-z0-9][a-z0-9._-]*$/;

const textList = z.array(z.string().min(1));

/** One inline test: events (partial; defaults are filled in) and what the rule must do with them. */
export const ruleTestSchema = z.strictObject({
  name: z.string().min(1),
  events: z.array(z.record(z.string(), z.unknown())).min(1),
  expect: z.union([
    z.enum(['alert', 'no_alert']),
    z.strictObject({
      /** Number of distinct alerts (ids). */
      count: z.number().int().min(0).optional(),
      summary_contains: z.string().min(1).optional(),
      explanation_contains: z.string().min(1).optional(),
    }),
  ]),
  organisation_domains: z.array(z.string().min(1)).min(1).optional(),
});
export type RuleTestSpec = z.infer<typeof ruleTestSchema>;

export const ruleSchema = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1).max(120),
  category: z.enum(CATEGORIES),
  severity: z.enum(SEVERITIES),
  status: z.enum(RULE_STATUSES),
  tags: z.array(z.string().regex(TAG, { error: 'tags are lower-case words (a-z, 0-9, . _ -)' })).default([]),
  description: z.string().min(1),
  detector: z.enum(DETECTOR_KINDS),
  when: z.record(z.string(), z.unknown()),
  params: z.record(z.string(), z.unknown()).default({}),
  group_by: z.array(eventPathParam).min(1).default(['account']),
  dedupe: durationParam.prefault('1h'),
  summary: z.string().min(1).max(300),
  explain: textList.default([]),
  remediation: z
    .strictObject({
      'microsoft-365': textList.optional(),
      'google-workspace': textList.optional(),
      imap: textList.optional(),
    })
    .default({}),
  references: textList.default([]),
  tests: z.array(ruleTestSchema).default([]),
  /**
   * `alerts`: the rule runs after the others on each event and also sees `alert.*` (the rules,
   * categories, severities, tags and summaries of the alerts just raised on it): attack chains and
   * the onboarding audit. Alerts raised on `present` state that such a rule takes are folded into it.
   */
  input: z.enum(['events', 'alerts']).default('events'),
  /** Raise the alert's severity when the event also matches these conditions (first match wins). */
  escalate: z
    .array(z.strictObject({ when: z.record(z.string(), z.unknown()), severity: z.enum(SEVERITIES), reason: z.string().min(1).optional() }))
    .default([]),
  /** For docs/rules.md: where the events come from and what licence they need, per provider. */
  data_sources: z.array(z.string().min(1)).default([]),
  /** For docs/rules.md: the usual innocent explanations. */
  false_positives: z.array(z.string().min(1)).default([]),
});
export type RuleSpec = z.infer<typeof ruleSchema>;

/** True for a test that expects at least one alert. */
export function isPositiveTest(t: RuleTestSpec): boolean {
  if (t.expect === 'alert') return true;
  if (t.expect === 'no_alert') return false;
  return t.expect.count === undefined || t.expect.count > 0;
}
