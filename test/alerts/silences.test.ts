import { describe, expect, it } from 'vitest';
import { activeSilence, isSilenced, type Silence } from '../../src/alerts/silences.js';
import { makeAlert } from './make-alert.js';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const LATER = Date.parse('2025-03-02T00:00:00Z');

describe('isSilenced', () => {
  const silences: Silence[] = [
    { match: { rule: 'login.*', source: ['hq-m365'] }, until: LATER, note: 'VPN migration, ticket 42' },
    { match: { category: ['forwarding'] }, until: NOW, note: 'ended' },
  ];

  it('matches with the route matchers until `until` (exclusive)', () => {
    expect(isSilenced(makeAlert(), silences, NOW)).toBe(true);
    expect(activeSilence(makeAlert(), silences, NOW)?.note).toBe('VPN migration, ticket 42');
    expect(isSilenced(makeAlert(), silences, LATER - 1)).toBe(true);
    expect(isSilenced(makeAlert(), silences, LATER)).toBe(false);
    expect(isSilenced(makeAlert({ source: 'youth-gws' }), silences, NOW)).toBe(false);
    expect(isSilenced(makeAlert({ rule: 'forwarding.external', category: 'forwarding' }), silences, NOW - 1)).toBe(true);
    expect(isSilenced(makeAlert({ rule: 'forwarding.external', category: 'forwarding' }), silences, NOW)).toBe(false);
  });

  it('no silences, nothing silenced', () => {
    expect(isSilenced(makeAlert(), [], NOW)).toBe(false);
  });

  it('a blanket silence does not hide that Vigie itself is failing; naming the monitor category does', () => {
    const monitor = makeAlert({ rule: 'monitor.delivery-failing', category: 'monitor' });
    expect(isSilenced(monitor, [{ until: LATER, note: 'maintenance' }], NOW)).toBe(false);
    expect(isSilenced(makeAlert(), [{ until: LATER, note: 'maintenance' }], NOW)).toBe(true);
    expect(isSilenced(monitor, [{ match: { category: ['monitor'] }, until: LATER, note: 'known outage' }], NOW)).toBe(true);
  });
});
