import { z } from 'zod';
import { evidenceOf } from '../evidence.js';
import { parseParams, type Detector } from './types.js';

const schema = z.strictObject({});

/** Stateless: every event that passes `when` is a finding. */
export const matchDetector: Detector<Record<string, never>, never> = {
  kind: 'match',
  values: [],
  prepare: (raw, ctx) => parseParams(schema, raw, ctx) as Record<string, never> | undefined,
  step: (_state, event) => ({
    state: undefined,
    expiresAt: null,
    findings: [{ lines: [], evidence: [evidenceOf(event)], values: {} }],
  }),
};
