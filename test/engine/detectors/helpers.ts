import type { AnyDetector } from '../../../src/engine/detectors/index.js';
import type { PrepareContext } from '../../../src/engine/detectors/types.js';
import { compileWhen } from '../../../src/engine/conditions.js';
import type { VigieEvent } from '../../../src/events.js';

/** Prepares params, failing the test on any problem. */
export function prepare<P>(d: AnyDetector, raw: Record<string, unknown>): P {
  const problems: string[] = [];
  const ctx: PrepareContext = {
    problem: (path, message) => problems.push(`${path.join('.')}: ${message}`),
    compileWhen: (spec, path) => compileWhen(spec, path, { lists: new Map(), problem: (p, m) => problems.push(`${p.join('.')}: ${m}`) }),
  };
  const p = d.prepare(raw, ctx);
  if (problems.length || p === undefined) throw new Error(problems.join('; '));
  return p as P;
}

export function problemsOf(d: AnyDetector, raw: Record<string, unknown>): string[] {
  const problems: string[] = [];
  d.prepare(raw, {
    problem: (path, message) => problems.push(`${path.join('.')}: ${message}`),
    compileWhen: (spec, path) => compileWhen(spec, path, { lists: new Map(), problem: (p, m) => problems.push(`${p.join('.')}: ${m}`) }),
  });
  return problems;
}

/** Runs events through one detector the way the engine does (one group), returning the findings per event. */
export function run<S>(d: AnyDetector, params: unknown, events: VigieEvent[], start?: S) {
  let state: S | undefined = start;
  const out: { findings: ReturnType<AnyDetector['step']>['findings']; expiresAt: number | null }[] = [];
  for (const e of events) {
    const before = JSON.stringify(state);
    const r = d.step(state, e, params, 'account alice@party.example');
    // Pure: the input state is never mutated, and the output is plain JSON.
    if (JSON.stringify(state) !== before) throw new Error('detector mutated its input state');
    if (r.state !== undefined) expectJson(r.state);
    state = r.state as S | undefined;
    out.push({ findings: r.findings, expiresAt: r.expiresAt });
  }
  return { steps: out, state };
}

function expectJson(x: unknown): void {
  const round = JSON.parse(JSON.stringify(x));
  if (JSON.stringify(round) !== JSON.stringify(x)) throw new Error('state is not plain JSON');
}
