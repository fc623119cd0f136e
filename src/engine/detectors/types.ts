import type { z } from 'zod';
import type { Evidence } from '../../alerts/alert.js';
import type { VigieEvent } from '../../events.js';
import type { CompiledWhen } from '../conditions.js';
import type { KeyPath } from '../yaml-source.js';
import { zodIssues } from '../yaml-source.js';

/** What a detector saw that made it fire; the engine turns findings into alerts. */
export interface Finding {
  /** Explanation lines, with the numbers (counts, windows, distances, speeds, values). */
  lines: string[];
  /** The events behind the finding, oldest first. */
  evidence: Evidence[];
  /** Values offered to `summary` and `explain` templates as `{finding.<name>}`. */
  values: Record<string, unknown>;
}

export interface StepResult<S> {
  /** The new state for this (rule, group); undefined when there is nothing to keep. */
  state: S | undefined;
  /** Event time (ms) after which the state can no longer matter, or null to keep it. */
  expiresAt: number | null;
  findings: Finding[];
}

/** Load-time services for `prepare`: problem paths are relative to the rule's `params`. */
export interface PrepareContext {
  problem(path: KeyPath, message: string, onKey?: boolean): void;
  compileWhen(spec: unknown, path: KeyPath): CompiledWhen;
}

/**
 * A detector kind. `step` is pure: it never mutates `state` and never reads a clock; all time is
 * the event's. State must be plain JSON (the store serialises it) and bounded.
 */
export interface Detector<P, S> {
  readonly kind: string;
  /** Names offered as `{finding.<name>}`. */
  readonly values: readonly string[];
  /** Validates `params` (filling defaults) and compiles them; undefined after reporting problems. */
  prepare(raw: Record<string, unknown>, ctx: PrepareContext): P | undefined;
  /** `group` is a readable label of the group ("account alice@party.example") for explanation lines. */
  step(state: S | undefined, event: VigieEvent, params: P, group: string): StepResult<S>;
}
export type AnyDetector = Detector<any, any>;

/** Runs a strict zod schema over params and reports its issues through the context. */
export function parseParams<T>(schema: z.ZodType<T>, raw: Record<string, unknown>, ctx: PrepareContext): T | undefined {
  const r = schema.safeParse(raw, { reportInput: true });
  if (r.success) return r.data;
  for (const i of zodIssues(r.error)) ctx.problem(i.path, i.message, i.onKey);
  return undefined;
}
