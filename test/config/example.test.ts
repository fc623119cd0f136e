import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/load.js';

const EXAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'config', 'vigie.example.yml');

const options = {
  env: {},
  connectorTypes: {
    file: {
      schema: z.object({
        paths: z.array(z.string()).min(1),
        format: z.enum(['auto', 'events', 'jsonl', 'json']).optional(),
      }),
    },
  },
  receiverTypes: {
    webhook: { schema: z.object({ url: z.string().url(), secret: z.string().optional() }), secrets: ['secret'] },
    console: { schema: z.object({}) },
  },
};

describe('config/vigie.example.yml', () => {
  it('loads without problems', () => {
    const config = loadConfig(EXAMPLE, options);
    expect(config.connectors.map((c) => c.type)).toEqual(['file']);
    expect(config.receivers.map((r) => r.name)).toEqual(['oncall', 'console']);
    expect(config.receivers[0]).toMatchObject({ url: 'http://127.0.0.1:8080/hook' });
    expect(config.routes).toHaveLength(2);
  });

  it('takes the webhook URL from the environment when set', () => {
    const config = loadConfig(EXAMPLE, { ...options, env: { VIGIE_WEBHOOK_URL: 'https://hooks.party.example/vigie' } });
    expect(config.receivers[0]).toMatchObject({ url: 'https://hooks.party.example/vigie' });
  });
});
