import type { VigieEvent } from '../../src/events.js';

let n = 0;

/** A valid event with sensible defaults; tests override what they care about. */
export function makeEvent(over: Partial<VigieEvent> = {}): VigieEvent {
  n++;
  return {
    id: `test:stream:${n}`,
    kind: 'signin',
    time: new Date(Date.UTC(2026, 10, 1, 8, 0, n % 60)).toISOString(),
    provider: 'microsoft-365',
    source: 'test',
    account: 'alice@party.example',
    outcome: 'success',
    details: {},
    ...over,
  };
}
