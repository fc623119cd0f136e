import { describe, expect, it } from 'vitest';
import { createConsoleReceiver } from '../../src/receivers/console.js';
import { HOSTILE, makeAlert } from '../alerts/make-alert.js';

const ctx = { signal: new AbortController().signal, attempt: 1 };

describe('console receiver', () => {
  it('writes each alert as a text block', async () => {
    const out: string[] = [];
    const r = createConsoleReceiver({ name: 'screen', write: (t) => out.push(t) });
    expect(r).toMatchObject({ name: 'screen', type: 'console' });
    const a = makeAlert();
    const b = makeAlert({ id: 'b'.repeat(32), title: 'Second' });
    expect(await r.send([a, b], ctx)).toEqual({ status: 'ok' });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\[HIGH\] login\.impossible-travel — Sign-in from two countries too far apart\n/);
    expect(out[0]).toContain(`Alert id: ${a.id}\n\n[HIGH] login.impossible-travel — Second`);
    expect(out[0]!.endsWith(`Alert id: ${'b'.repeat(32)}\n\n`)).toBe(true);
  });

  it('never lets attacker text write escapes to the terminal', async () => {
    const out: string[] = [];
    const r = createConsoleReceiver({ name: 'screen', write: (t) => out.push(t) });
    await r.send([makeAlert({ title: HOSTILE.clearScreen + HOSTILE.osc8, summary: HOSTILE.forgedLog })], ctx);
    expect(out[0]).not.toContain('\x1b');
    // The summary keeps exactly its one line: the leading newline became nothing.
    expect(out[0]).toContain('\n{"level":30,"msg":"all clear"}\nWhy:');
  });

  it('turns a failing write into a retryable result instead of throwing', async () => {
    const r = createConsoleReceiver({
      name: 'screen',
      write: () => {
        throw new Error('EPIPE: broken pipe\nforged');
      },
    });
    const res = await r.send([makeAlert()], ctx);
    expect(res).toEqual({ status: 'retryable', reason: 'writing to the console failed: EPIPE: broken pipe forged' });
  });
});
