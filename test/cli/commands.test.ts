import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES, SEVERITIES, type Alert } from '../../src/alerts/alert.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { startWebhookServer, type WebhookServer } from '../helpers/webhook-server.js';

const dir = tmpDir('vigie-cli-');
let hook: WebhookServer;
beforeAll(async () => {
  hook = await startWebhookServer();
});
afterAll(async () => {
  await hook.close();
});

function forwardingEvent(i: number, to: string) {
  return {
    id: `microsoft-365:audit:fwd-${i}`,
    kind: 'mailbox_rule',
    time: `2026-11-20T09:0${i}:00Z`,
    provider: 'microsoft-365',
    source: 'hq',
    account: `user${i}@party.example`,
    ip: '198.51.100.7',
    details: { change: 'created', mechanism: 'exchange_inbox_rule', rule_id: `r${i}`, name: 'x', forward_to: [to] },
  };
}

describe('vigie replay', () => {
  it('turns Vigie events (JSONL) into DESIGN §6 alerts on stdout, a summary on stderr, and sends nothing', async () => {
    const input = path.join(dir, 'events.jsonl');
    const events = [
      forwardingEvent(1, 'drop@attacker.example'),
      forwardingEvent(2, 'colleague@party.example'),
      forwardingEvent(1, 'drop@attacker.example'), // the same record again: a duplicate, not a second alert
      { ...forwardingEvent(3, 'x@attacker.example'), kind: 'not-a-kind' },
    ];
    fs.writeFileSync(input, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const r = await runCli(['replay', input]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const alert = JSON.parse(lines[0]!) as Alert;
    expect(alert).toMatchObject({ rule: 'forwarding.external-inbox-rule', category: 'forwarding', status: 'firing', account: 'user1@party.example', provider: 'microsoft-365', source: 'hq', count: 1 });
    expect(alert.id).toMatch(/^[0-9a-f]{32}$/);
    expect(SEVERITIES).toContain(alert.severity);
    expect(CATEGORIES).toContain(alert.category);
    for (const key of ['title', 'summary', 'time', 'last_time']) expect(typeof (alert as unknown as Record<string, unknown>)[key]).toBe('string');
    expect(alert.summary).toContain('drop@attacker.example');
    expect(alert.explanation.length).toBeGreaterThan(0);
    expect(alert.evidence[0]).toMatchObject({ event_id: 'microsoft-365:audit:fwd-1', kind: 'mailbox_rule', ip: '198.51.100.7' });
    expect(alert.remediation.length).toBeGreaterThan(0);
    // A forwarding rule with no condition forwards everything: escalated to critical.
    expect(alert.severity).toBe('critical');
    expect(r.stderr).toMatch(/Replayed 4 records from 1 file: 2 events, 1 duplicates, 1 skipped\. 1 alert \(1 critical\)\./);
  });

  it('gives the same alert ids on every replay of the same input', async () => {
    const input = path.join(dir, 'again.jsonl');
    fs.writeFileSync(input, JSON.stringify(forwardingEvent(4, 'a@attacker.example')) + '\n');
    const out = path.join(dir, 'alerts.jsonl');
    const a = await runCli(['replay', input]);
    const b = await runCli(['replay', '-o', out, input]);
    expect(b.stdout).toBe('');
    expect(fs.readFileSync(out, 'utf8')).toBe(a.stdout);
  });

  it('exits 1 with a clear message for a missing input file', async () => {
    const r = await runCli(['replay', path.join(dir, 'nope.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Cannot read .*nope\.jsonl: ENOENT/);
  });
});

describe('vigie check-config', () => {
  it('lists every problem with file:line and exits 1', async () => {
    const file = path.join(dir, 'bad.yml');
    fs.writeFileSync(
      file,
      [
        'organisation:',
        '  name: Bad',
        '  domains: [party.example]',
        '  colour: blue', // line 4: unknown key
        'connectors:',
        '  - name: exports',
        '    type: file',
        '    paths: ./one.jsonl', // line 8: wrong type
        'receivers:',
        '  - name: hook',
        '    type: webhook',
        '    url: https://hooks.example/x',
        '    secret_file: ./missing-secret', // line 13: missing secret file
        '',
      ].join('\n'),
    );
    const r = await runCli(['check-config', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/3 problems found/);
    expect(r.stderr).toContain(`${file}:4:3: organisation.colour`);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:8:\\d+: connectors\\[0\\]\\.paths`));
    expect(r.stderr).toMatch(/:13:\d+: receivers\[0\]\.secret_file: cannot read secret file .*missing-secret/);
  });

  it('accepts the shipped example configuration', async () => {
    const r = await runCli(['check-config', '-c', 'config/vigie.example.yml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/valid/);
  });
});

describe('rule overlays through the CLI', () => {
  it('validates the shipped overlay example, lists the rule it disables, and reports a broken overlay with file:line', async () => {
    const good = path.join(dir, 'with-overlay.yml');
    const example = path.resolve('config/rules.local.example.yml');
    fs.writeFileSync(good, `organisation: { name: O, domains: [party.example] }\nrules:\n  overlays: [${example}]\n`);
    const ok = await runCli(['check-config', '-c', good]);
    expect(ok.code, ok.stderr).toBe(0);
    const list = await runCli(['rules', 'list', '-c', good]);
    expect(list.stdout).toMatch(/login\.brute-force .*no/);

    const overlay = path.join(dir, 'broken-overlay.yml');
    fs.writeFileSync(overlay, ['disable:', '  - id: login.no-such-rule', 'overrides:', '  login.brute-force:', '    severity: apocalyptic', ''].join('\n'));
    const bad = path.join(dir, 'with-bad-overlay.yml');
    fs.writeFileSync(bad, `organisation: { name: O, domains: [party.example] }\nrules:\n  overlays: [${overlay}]\n`);
    const r = await runCli(['check-config', '-c', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${overlay}:2:`);
    expect(r.stderr).toMatch(/login\.no-such-rule/);
    expect(r.stderr).toContain(`${overlay}:5:`);
  });
});

describe('vigie demo', () => {
  it('prints readable alerts for the bundled story: raw records of three providers', async () => {
    const r = await runCli(['demo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[HIGH\] login\.password-spray/);
    expect(r.stdout).toMatch(/\[HIGH\] login\.impossible-travel/);
    expect(r.stdout).toMatch(/\[CRITICAL\] forwarding\.external-inbox-rule/);
    expect(r.stdout).toMatch(/\[CRITICAL\] incident\.account-takeover/);
    expect(r.stdout).toContain('Who: alice@party.example (Alice Martin)');
    expect(r.stdout).toContain('St Petersburg, RU');
    expect(r.stdout).toMatch(/What to do:/);
    expect(r.stdout).toMatch(/from 3 files: .* 0 skipped\. \d+ alerts? \(/);
  });
});

describe('vigie run', () => {
  it('pulls on schedule, delivers, and exits 0 on SIGTERM', async () => {
    const input = path.join(dir, 'run-events.jsonl');
    fs.writeFileSync(input, JSON.stringify(forwardingEvent(5, 'run@attacker.example')) + '\n');
    const config = path.join(dir, 'run.yml');
    fs.writeFileSync(
      config,
      `organisation: { name: Run, domains: [party.example] }
state: { path: ./run.db }
connectors:
  - { name: exports, type: file, paths: [./run-events.jsonl], schedule: "*/5 * * * * *" }
receivers:
  - { name: hook, type: webhook, url: "${hook.url}" }
delivery: { group_wait: 1s }
server: { listen: "127.0.0.1:0" }
`,
    );
    let pid = 0;
    const done = runCli(['run', '-c', config], { onSpawn: (p) => (pid = p), timeoutMs: 30_000 });
    const start = Date.now();
    while (!hook.requests.some((r) => r.body.includes('run@attacker.example')) && Date.now() - start < 20_000) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(hook.requests.some((r) => r.body.includes('run@attacker.example'))).toBe(true);
    process.kill(pid, 'SIGTERM');
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
  });
});
