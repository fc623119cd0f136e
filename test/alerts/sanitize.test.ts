import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plainText } from '../../src/alerts/sanitize.js';
import { HOSTILE } from './make-alert.js';

// Written out rather than imported: the test must not share the implementation's list.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff\u061c]/;

describe('plainText', () => {
  it.each(Object.entries(HOSTILE))('%s becomes one bounded line without control characters', (_name, input) => {
    const out = plainText(input, 200);
    expect(out).not.toMatch(FORBIDDEN);
    expect(out).not.toContain('\n');
    expect(Array.from(out).length).toBeLessThanOrEqual(200);
  });

  it('removes whole escape sequences, not just the ESC byte', () => {
    expect(plainText(`before${HOSTILE.clearScreen}after`)).toBe('beforeafter');
    expect(plainText(`x${HOSTILE.title}y`)).toBe('xy');
    expect(plainText(HOSTILE.osc8)).toBe('click');
    expect(plainText('\x1b[31mred\x1b[0m')).toBe('red');
    expect(plainText(HOSTILE.c1Csi)).toBe('ared');
  });

  it('turns line breaks into spaces so words stay apart', () => {
    expect(plainText(HOSTILE.crlf)).toBe('Alert Bcc: attacker@evil.example');
    expect(plainText(HOSTILE.lineSep)).toBe('a b c');
    expect(plainText(HOSTILE.forgedLog)).toBe('{"level":30,"msg":"all clear"}');
  });

  it('strips bidi controls and invisible characters', () => {
    expect(plainText(HOSTILE.rlo)).toBe('moc.live@');
    expect(plainText(HOSTILE.isolates)).toBe('abcde');
    expect(plainText(HOSTILE.marks)).toBe('abcd');
    expect(plainText(HOSTILE.zeroWidth)).toBe('admin@party.org');
    expect(plainText(HOSTILE.tags)).toBe('hi');
    expect(plainText(HOSTILE.nul)).toBe('ab');
    expect(plainText(HOSTILE.backspace)).toBe('abcxyz');
  });

  it('keeps ordinary text, accents and the homoglyph visible as they are', () => {
    expect(plainText('Réunion du comité — 14 h')).toBe('Réunion du comité — 14 h');
    expect(plainText(HOSTILE.homoglyph)).toBe('аdmin@party.org');
    expect(plainText('👍🏽 ok')).toBe('👍🏽 ok');
    expect(plainText(HOSTILE.template)).toBe(HOSTILE.template);
  });

  it('repairs lone surrogates and bounds combining-mark stacks', () => {
    expect(plainText(HOSTILE.loneSurrogate)).toBe('x\ufffdy');
    expect(plainText(HOSTILE.zalgo).length).toBeLessThanOrEqual(5);
  });

  it('caps the length with an ellipsis, counting code points', () => {
    const out = plainText(HOSTILE.huge, 100);
    expect(Array.from(out)).toHaveLength(100);
    expect(out.endsWith('…')).toBe(true);
    expect(plainText('😀'.repeat(10), 5)).toBe('😀😀😀😀…');
    expect(plainText('short', 5)).toBe('short');
    expect(plainText(HOSTILE.hugeNewlines)).not.toContain('\n');
  });

  it('accepts any value', () => {
    expect(plainText(undefined)).toBe('');
    expect(plainText(null)).toBe('');
    expect(plainText(42)).toBe('42');
    expect(plainText({ a: 'x\ny' })).toBe('{"a":"x\\ny"}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(plainText(cyclic)).toBe('[object Object]');
  });

  it('property: never returns line breaks, ESC or bidi controls, and respects maxLen', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: fc.constantFrom('\n', '\r', '\x1b', '[', ']', '\x07', '\\', '\u202e', '\u2066', '\u200b', '\ud800', '\udc00', 'a', ' ', '\u0301', '\u009b') }),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 300 }), (s, max) => {
        const out = plainText(s, max);
        expect(out).not.toMatch(FORBIDDEN);
        expect(Array.from(out).length).toBeLessThanOrEqual(max);
        // Idempotent: sanitising twice changes nothing (unless the first pass cut the text).
        if (!out.endsWith('…')) expect(plainText(out, max)).toBe(out);
      }),
      { numRuns: 2000 },
    );
  });
});
