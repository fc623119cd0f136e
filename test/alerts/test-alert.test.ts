import { afterEach, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import { formatTestAlertResults, sendTestAlert } from '../../src/alerts/test-alert.js';
import { createConsoleReceiver } from '../../src/receivers/console.js';
import type { Receiver } from '../../src/receivers/receiver.js';
import { createSlackReceiver } from '../../src/receivers/slack.js';
import { createWebhookReceiver } from '../../src/receivers/webhook.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const servers: WebhookServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function setup() {
  const clock = fixedClock('2025-03-01T12:00:00Z');
  const hook = await startWebhookServer();
  const chat = await startWebhookServer({ default: { status: 404, body: 'no_service' } });
  servers.push(hook, chat);
  const screen: string[] = [];
  const receivers = new Map<string, Receiver>([
    ['soc', createWebhookReceiver({ name: 'soc', url: hook.url, timeoutMs: 5000, clock })],
    ['chat', createSlackReceiver({ name: 'chat', url: chat.url, timeoutMs: 5000, clock })],
    ['screen', createConsoleReceiver({ name: 'screen', write: (t) => screen.push(t) })],
  ]);
  return { clock, hook, chat, screen, receivers };
}

describe('vigie test-alert', () => {
  it('sends a sample alert through every receiver and reports each outcome', async () => {
    const s = await setup();
    const results = await sendTestAlert({ receivers: s.receivers, clock: s.clock });
    expect(results.map((r) => [r.receiver, r.type, r.status])).toEqual([
      ['soc', 'webhook', 'ok'],
      ['chat', 'slack', 'permanent'],
      ['screen', 'console', 'ok'],
    ]);
    expect(results[1]!.reason).toContain('HTTP 404');
    const sent = (s.hook.bodies()[0] as { alerts: Array<Record<string, unknown>> }).alerts[0]!;
    expect(sent).toMatchObject({ rule: 'vigie.test-alert', category: 'monitor', severity: 'informational', title: 'Test alert: delivery works' });
    expect(s.screen.join('')).toContain('Test alert: delivery works');
    expect(formatTestAlertResults(results).split('\n')).toEqual([
      'soc (webhook): ok',
      expect.stringMatching(/^chat \(slack\): failed \(permanent\) — http:\/\/127\.0\.0\.1:\d+ answered HTTP 404: no_service$/),
      'screen (console): ok',
    ]);
  });

  it('--receiver picks one; an unknown name is a configuration error', async () => {
    const s = await setup();
    const results = await sendTestAlert({ receivers: s.receivers, clock: s.clock, receiver: 'soc', locale: 'fr' });
    expect(results).toHaveLength(1);
    expect(s.chat.requests).toHaveLength(0);
    expect((s.hook.bodies()[0] as { alerts: Array<{ title: string }> }).alerts[0]!.title).toBe('Alerte de test : la remise fonctionne');
    await expect(sendTestAlert({ receivers: s.receivers, clock: s.clock, receiver: 'pager' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'There is no receiver named "pager" (receivers: soc, chat, screen).',
    });
  });

  it('a receiver that hangs or throws gives a result, not a stuck command', async () => {
    const clock = fixedClock(0);
    const receivers = new Map<string, Receiver>([
      ['hang', { name: 'hang', type: 'test', send: () => new Promise(() => {}) }],
      ['boom', { name: 'boom', type: 'test', send: () => Promise.reject(new Error('bug\nhere')) }],
    ]);
    const results = await sendTestAlert({ receivers, clock, timeoutMs: 50 });
    expect(results).toMatchObject([
      { receiver: 'hang', status: 'retryable', reason: 'no result within 50 ms' },
      { receiver: 'boom', status: 'retryable', reason: 'the receiver failed unexpectedly: bug here' },
    ]);
  });
});
