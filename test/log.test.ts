import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';

function capture() {
  const lines: string[] = [];
  let buf = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      buf += chunk.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination }) };
}

describe('log', () => {
  it('writes one JSON line per call, whatever attacker text it carries', () => {
    const { lines, log } = capture();
    log.info({ rule_name: 'x\n{"level":"error","msg":"forged"}\r\n\u001b[31mred', user_agent: 'a\u2028b' }, 'Rule read.');
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(parsed.rule_name).toContain('forged');
    expect(parsed.msg).toBe('Rule read.');
  });

  it('redacts secrets, tokens, passwords, authorization headers and message subjects', () => {
    const { lines, log } = capture();
    log.info(
      { password: 'hunter2', secret: 's3cr3t', token: 'tok', headers: { authorization: 'Bearer abc' }, receiver: { secret: 'nested' }, subject: 'Budget 2027', account: 'alice@party.example' },
      'Connected.',
    );
    const text = lines.join('\n');
    for (const s of ['hunter2', 's3cr3t', 'tok"', 'Bearer abc', 'nested', 'Budget 2027']) expect(text).not.toContain(s);
    expect(text).toContain('alice@party.example');
  });
});
