import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { ComponentType, VigieConfig } from '../config/load.js';
import { createConsoleReceiver } from './console.js';
import type { Receiver } from './receiver.js';
import { createWebhookReceiver } from './webhook.js';

/** Every receiver type: its config keys (for the config loader) and its secrets. */
export const RECEIVER_TYPES: Record<string, ComponentType> = {
  webhook: { schema: z.object({ url: z.url({ protocol: /^https?$/ }), secret: z.string().min(1).optional() }), secrets: ['secret'] },
  console: { schema: z.object({}) },
};

type ReceiverEntry = VigieConfig['receivers'][number];

export interface ReceiverDeps {
  clock: Clock;
  /** Where console receivers write (default stdout). */
  write?: (s: string) => void;
}

export function buildReceiver(entry: ReceiverEntry, deps: ReceiverDeps): Receiver {
  const e = entry as ReceiverEntry & Record<string, unknown>;
  switch (entry.type) {
    case 'webhook':
      return createWebhookReceiver({ name: e.name, url: e.url as string, secret: e.secret as string | undefined, timeoutMs: e.timeout, clock: deps.clock });
    case 'console':
      return createConsoleReceiver({ name: e.name, ...(deps.write ? { write: deps.write } : {}) });
    default:
      throw new Error(`unknown receiver type "${entry.type}"`);
  }
}
