import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { fixedClock } from '../../src/clock.js';
import type { LoadEngineOptions } from '../../src/engine/index.js';
import type { VigieEvent } from '../../src/events.js';
import { silentLogger } from '../../src/log.js';

export const SHIPPED_RULES = path.resolve(import.meta.dirname, '../../rules');

const created: string[] = [];
afterAll(() => {
  for (const dir of created.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A throwaway rules folder: `files` maps relative paths to YAML text. */
export function rulesDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-rules-'));
  created.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

export function writeTemp(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-overlay-'));
  created.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

export function options(over: Partial<LoadEngineOptions> = {}): LoadEngineOptions {
  return { rulesDir: SHIPPED_RULES, overlays: [], clock: fixedClock('2025-01-01T00:00:00Z'), log: silentLogger, ...over };
}

let n = 0;
/** A sign-in (by default) with every required field; `over` wins. */
export function ev(over: Partial<VigieEvent> = {}): VigieEvent {
  n += 1;
  return {
    id: `t:${n}`,
    kind: 'signin',
    time: '2025-01-06T09:00:00.000Z',
    provider: 'microsoft-365',
    source: 'test',
    account: 'alice@party.example',
    details: {},
    ...over,
  };
}

export const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs).toISOString();

/** A minimal valid rule file; `extra` is appended YAML (override keys by giving them there). */
export function ruleYaml(id: string, body: string): string {
  return `id: ${id}\n${body}`;
}

export const MATCH_RULE = (id: string, extra = '') => `id: ${id}
title: Test rule
category: forwarding
severity: high
status: stable
description: A rule for tests.
detector: match
when:
  kind: mailbox_rule
summary: "{account} did something"
${extra}`;
