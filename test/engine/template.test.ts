import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../src/engine/template.js';
import { ev } from './helpers.js';

function compile(text: string, names: string[] = ['count']) {
  const problems: string[] = [];
  const t = compileTemplate(text, [], { findingNames: new Set(names), problem: (_p, m) => problems.push(m) });
  return { t, problems };
}

describe('summary templates', () => {
  it('fills event paths and finding values as plain text', () => {
    const { t, problems } = compile('{account} forwards to {details.external_targets} ({finding.count}) from {geo.country}');
    expect(problems).toEqual([]);
    const e = ev({ kind: 'mailbox_rule', details: { external_targets: ['a@x.example', 'b@y.example'] } });
    expect(t(e, { count: 2480 })).toBe('alice@party.example forwards to a@x.example, b@y.example (2,480) from unknown');
  });

  it('person falls back to account; {{ and }} are literal braces', () => {
    expect(compile('{{person}} = {person}').t(ev(), {})).toBe('{person} = alice@party.example');
  });

  it('never evaluates a value: placeholders, markup and newlines in attacker text stay inert', () => {
    const { t } = compile('Rule "{details.name}" on {account}');
    const name = '{account}\n<script>x</script>\r\u202eevil\u0000\u2028';
    const out = t(ev({ details: { name } }), {});
    expect(out).toBe('Rule "{account} <script>x</script> evil" on alice@party.example');
    expect(out).not.toMatch(/[\n\r\u0000\u202e\u2028]/);
  });

  it('caps long values and long lines', () => {
    const { t } = compile('{details.a} {details.b} {details.c} {details.d}');
    const long = 'x'.repeat(1000);
    const out = t(ev({ details: { a: long, b: long, c: long, d: long } }), {});
    expect(out.length).toBeLessThanOrEqual(600);
    expect(out).toContain('…');
  });

  it('reports unknown placeholders and unbalanced braces at load', () => {
    expect(compile('{finding.speed}').problems[0]).toMatch(/unknown placeholder \{finding.speed\} \(known: finding.count\)/);
    expect(compile('{colour}').problems[0]).toMatch(/"colour" is not an event field/);
    expect(compile('oops {account').problems[0]).toMatch(/unclosed "\{"/);
    expect(compile('oops }').problems[0]).toMatch(/unbalanced "\}"/);
  });

  it('always yields one line of text, whatever the event holds', () => {
    const { t } = compile('{details.v} {details.w.x} {finding.count}');
    fc.assert(
      fc.property(fc.anything({ withBigInt: true }), fc.anything(), fc.anything(), (v, w, count) => {
        const out = t(ev({ details: { v, w } }), { count });
        expect(typeof out).toBe('string');
        expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        expect(out.length).toBeLessThanOrEqual(600);
      }),
    );
  });
});

describe('quoting filters for remediation commands', () => {
  const hostile = `x' ; Remove-Mailbox ceo@party.example -Confirm:$false ; '$(iex evil)\u2019; rm -rf ~`;

  it('ps makes a PowerShell single-quoted literal that an attacker-chosen name cannot end', () => {
    const { t, problems } = compile('Remove-InboxRule -Mailbox {account|ps} -Identity {details.name|ps}');
    expect(problems).toEqual([]);
    const out = t(ev({ details: { name: hostile } }), {});
    const literal = out.slice(out.indexOf('-Identity ') + '-Identity '.length);
    // One literal: opens and closes with a quote, and every quote inside comes doubled.
    expect(literal.startsWith("'") && literal.endsWith("'")).toBe(true);
    expect(literal.slice(1, -1).replace(/(['\u2018\u2019\u201A\u201B])\1/g, '')).not.toMatch(/['\u2018\u2019\u201A\u201B]/);
    expect(out.startsWith("Remove-InboxRule -Mailbox 'alice@party.example' -Identity '")).toBe(true);
  });

  it('sh makes a POSIX single-quoted word', () => {
    const { t } = compile('doveadm sieve deactivate -u {account|sh} {details.name|sh}');
    const out = t(ev({ details: { name: hostile } }), {});
    expect(out).toBe(`doveadm sieve deactivate -u 'alice@party.example' 'x'\\'' ; Remove-Mailbox ceo@party.example -Confirm:$false ; '\\''$(iex evil)\u2019; rm -rf ~'`);
  });

  it('property: a ps-quoted value always parses back as one literal holding the value', () => {
    const { t } = compile('{details.name|ps}');
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (name) => {
        const out = t(ev({ details: { name } }), {});
        expect(out.startsWith("'") && out.endsWith("'")).toBe(true);
        expect(out.slice(1, -1).replace(/(['\u2018\u2019\u201A\u201B])\1/g, '')).not.toMatch(/['\u2018\u2019\u201A\u201B]/);
      }),
    );
  });

  it('rejects an unknown filter at load', () => {
    expect(compile('{account|html}').problems).toEqual([expect.stringMatching(/unknown filter \(known: ps, sh\)/)]);
  });
});
