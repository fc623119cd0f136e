import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from '../../clock.js';
import { checkEventPath } from '../event-paths.js';

/** `0s`, `10m`, `24h`, `90d` → milliseconds. */
export const durationOrZeroParam = z
  .string()
  .regex(DURATION_PATTERN, { error: 'must be a duration such as 90s, 10m, 24h or 7d' })
  .transform((s) => parseDuration(s));

/** A duration longer than zero, in milliseconds. */
export const durationParam = durationOrZeroParam.refine((ms) => ms > 0, { error: 'must be longer than zero' });

/** A dotted event path such as `account` or `geo.country`. */
export const eventPathParam = z.string().superRefine((s, ctx) => {
  const bad = checkEventPath(s);
  if (bad) ctx.addIssue({ code: 'custom', message: bad });
});
