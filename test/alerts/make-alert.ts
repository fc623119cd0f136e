import { alertId, type Alert } from '../../src/alerts/alert.js';

/** A plausible alert; tests override what they look at. */
export function makeAlert(over: Partial<Alert> = {}): Alert {
  const rule = over.rule ?? 'login.impossible-travel';
  return {
    id: over.id ?? alertId(rule, over.account ?? 'alice@party.example', over.time ?? '2025-03-01T10:00:00.000Z'),
    rule,
    title: 'Sign-in from two countries too far apart',
    category: 'unusual_login',
    severity: 'high',
    status: 'firing',
    account: 'alice@party.example',
    person: 'alice',
    provider: 'microsoft-365',
    source: 'hq-m365',
    time: '2025-03-01T10:00:00.000Z',
    last_time: '2025-03-01T10:42:00.000Z',
    count: 2,
    summary: 'alice@party.example signed in from Paris, then from Lagos 42 minutes later.',
    explanation: ['Paris → Lagos is 4,700 km; 42 minutes needs 6,700 km/h.', 'Lagos was never seen for this person.'],
    evidence: [
      { event_id: 'e1', time: '2025-03-01T10:00:00.000Z', kind: 'signin', ip: '192.0.2.10', country: 'FR', city: 'Paris' },
      { event_id: 'e2', time: '2025-03-01T10:42:00.000Z', kind: 'signin', ip: '198.51.100.7', country: 'NG', city: 'Lagos', detail: 'Chrome on Windows' },
    ],
    remediation: ['Revoke the sessions of alice@party.example.', 'Reset the password and check the MFA methods.'],
    ...over,
  };
}

/** From shared/reference/reliability-and-security.md §3: terminal, log and unicode deception strings. */
export const HOSTILE = {
  crlf: 'Alert\r\nBcc: attacker@evil.example',
  forgedLog: '\n{"level":30,"msg":"all clear"}',
  forgedFields: '\n*Severity:* low\n*Action:* none required',
  cr: 'ok\rFAKE',
  clearScreen: '\x1b[2J\x1b[H',
  title: '\x1b]0;pwned\x07',
  osc8: '\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\',
  lineSep: 'a\u2028b\u2029c',
  nul: 'a\u0000b',
  backspace: 'abc\b\b\bxyz',
  rlo: '\u202emoc.live@',
  isolates: 'a\u2066b\u2067c\u2068d\u2069e',
  marks: 'a\u200eb\u200fc\u061cd',
  zeroWidth: 'ad\u200bmi\u200cn\u200d@\ufeffparty.org',
  homoglyph: 'аdmin@party.org',
  zalgo: 'Z' + '\u0301\u0302\u0303\u0304\u0305\u0306\u0307\u0308\u0309\u030a'.repeat(20),
  loneSurrogate: 'x\ud800y',
  tags: 'hi\udb40\udc41\udb40\udc42',
  c1Csi: 'a\u009b31mred',
  dots: '...',
  empty: '',
  slack: '<!channel> <https://evil.example|https://login.microsoftonline.com/>',
  template: '{{7*7}} ${process.env.GRAPH_CLIENT_SECRET} $& $1 $`',
  huge: 'A'.repeat(50_000),
  hugeNewlines: 'x\n'.repeat(25_000),
} satisfies Record<string, string>;
