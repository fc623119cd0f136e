import { describe, expect, it } from 'vitest';
import { CATEGORIES, SEVERITIES } from '../../src/alerts/alert.js';
import { LOCALES, texts } from '../../src/alerts/i18n.js';
import { renderAlertText } from '../../src/alerts/render-text.js';
import { makeAlert } from './make-alert.js';

describe('texts', () => {
  it('every locale names every severity and category', () => {
    for (const l of LOCALES) {
      const t = texts(l);
      for (const s of SEVERITIES) expect(t.severity[s]).toMatch(/\S/);
      for (const c of CATEGORIES) expect(t.category[c]).toMatch(/\S/);
    }
  });

  it('an unknown locale falls back to English', () => {
    expect(texts('de').who).toBe('Who');
  });

  it('renders the text block in French; rule texts stay as written', () => {
    const text = renderAlertText(makeAlert(), 'fr');
    expect(text.split('\n').slice(0, 4)).toEqual([
      '[ÉLEVÉE] login.impossible-travel — Sign-in from two countries too far apart',
      'Qui\u202f: alice@party.example (alice)',
      'Quand\u202f: 2025-03-01T10:00:00.000Z → 2025-03-01T10:42:00.000Z (2 événements)',
      'Source\u202f: microsoft-365 / hq-m365',
    ]);
    expect(text).toContain('Que faire\u202f:\n  1. Revoke the sessions');
  });
});
