import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { renderAlertText } from '../../src/alerts/render-text.js';
import { HOSTILE, makeAlert } from './make-alert.js';

describe('renderAlertText', () => {
  it('renders a readable block', () => {
    const alert = makeAlert();
    expect(renderAlertText(alert)).toBe(
      [
        '[HIGH] login.impossible-travel — Sign-in from two countries too far apart',
        'Who: alice@party.example (alice)',
        'When: 2025-03-01T10:00:00.000Z → 2025-03-01T10:42:00.000Z (2 events)',
        'Source: microsoft-365 / hq-m365',
        'alice@party.example signed in from Paris, then from Lagos 42 minutes later.',
        'Why:',
        '  - Paris → Lagos is 4,700 km; 42 minutes needs 6,700 km/h.',
        '  - Lagos was never seen for this person.',
        'Evidence:',
        '  - 2025-03-01T10:00:00.000Z signin 192.0.2.10 Paris, FR (event e1)',
        '  - 2025-03-01T10:42:00.000Z signin 198.51.100.7 Lagos, NG — Chrome on Windows (event e2)',
        'What to do:',
        '  1. Revoke the sessions of alice@party.example.',
        '  2. Reset the password and check the MFA methods.',
        `Alert id: ${alert.id}`,
      ].join('\n'),
    );
  });

  it('leaves out what the alert does not have', () => {
    const text = renderAlertText(
      makeAlert({ account: undefined, person: undefined, provider: undefined, source: undefined, count: 1, last_time: '2025-03-01T10:00:00.000Z', explanation: [], evidence: [], remediation: [], status: 'resolved' }),
    );
    expect(text).toContain('When: 2025-03-01T10:00:00.000Z\nStatus: resolved\n');
    expect(text).not.toMatch(/Who:|Source:|Why:|Evidence:|What to do:/);
  });

  it('bounds long lists', () => {
    const text = renderAlertText(makeAlert({ explanation: Array.from({ length: 50 }, (_, i) => `fact ${i}`) }));
    expect(text).toContain('  - fact 19\n  … and 30 more');
    expect(text).not.toContain('fact 20');
  });

  it.each(Object.entries(HOSTILE))('hostile %s in every field: only our newlines, no escapes, bounded', (_name, s) => {
    const alert: Alert = makeAlert({
      rule: s,
      title: s,
      account: s,
      person: s,
      provider: s,
      source: s,
      summary: s,
      time: s,
      last_time: s,
      explanation: [s, s],
      evidence: [{ event_id: s, time: s, kind: s, ip: s, country: s, city: s, detail: s }],
      remediation: [s],
    });
    const text = renderAlertText(alert);
    const lines = text.split('\n');
    const structural = renderAlertText(makeAlert({ person: 'someone-else', count: 2 })).split('\n').length;
    expect(lines.length).toBeLessThanOrEqual(structural);
    expect(text).not.toMatch(/[\r\x1b\u0000\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/);
    for (const line of lines) expect(line.length).toBeLessThan(1000);
    expect(text.length).toBeLessThan(5000);
  });

  it('survives a malformed alert (e.g. from an old database row)', () => {
    const broken = { ...makeAlert(), explanation: undefined, evidence: [null, 'x'], remediation: 'do it', count: Number.NaN } as unknown as Alert;
    expect(() => renderAlertText(broken)).not.toThrow();
  });
});
