import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { buildReceiver, RECEIVER_TYPES } from '../../src/receivers/index.js';
import { fixedClock } from '../../src/clock.js';

const FILES: Record<string, string> = {
  '/etc/vigie/slack.url': 'https://hooks.slack.com/services/T0/B0/SECRETSECRETSECRET\n',
  '/etc/vigie/teams.url': 'https://party.webhook.office.com/workflows/abc\n',
  '/etc/vigie/hook.secret': 'whsec_c2VjcmV0LXNpZ25pbmcta2V5\n',
  '/etc/vigie/smtp.password': 'hunter2-but-longer\n',
};

function load(lines: string[]) {
  return parseConfig(['organisation:', '  name: Party', ...lines].join('\n'), '/etc/vigie/vigie.yml', {
    connectorTypes: {},
    receiverTypes: RECEIVER_TYPES,
    env: {},
    readFile: (p) => {
      const v = FILES[p];
      if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return v;
    },
  });
}

function problems(lines: string[]): string[] {
  try {
    load(lines);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path ?? ''}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('receiver configuration', () => {
  it('reads every receiver type alike, with *_file secrets (nested for smtp.password)', () => {
    const config = load([
      'receivers:',
      '  - { name: slack, type: slack, url_file: slack.url }',
      '  - { name: teams, type: teams, url_file: teams.url, timeout: 5s }',
      '  - { name: soc, type: webhook, url: "https://soc.example/hook", secret_file: hook.secret, format: alertmanager }',
      '  - name: mail',
      '    type: email',
      '    smtp: { host: smtp.party.example, port: 587, user: vigie, password_file: smtp.password }',
      '    from: "Vigie <vigie@party.example>"',
      '    to: [security@party.example]',
      'silences:',
      '  - match: { rule: "login.*" }',
      '    until: 2025-04-01T18:00:00Z',
      '    note: VPN migration',
    ]);
    expect(config.receivers).toEqual([
      { name: 'slack', type: 'slack', timeout: 10_000, url: 'https://hooks.slack.com/services/T0/B0/SECRETSECRETSECRET' },
      { name: 'teams', type: 'teams', timeout: 5_000, url: 'https://party.webhook.office.com/workflows/abc' },
      { name: 'soc', type: 'webhook', timeout: 10_000, url: 'https://soc.example/hook', secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5', format: 'alertmanager' },
      {
        name: 'mail',
        type: 'email',
        timeout: 10_000,
        smtp: { host: 'smtp.party.example', port: 587, secure: false, require_tls: true, user: 'vigie', password: 'hunter2-but-longer' },
        from: 'Vigie <vigie@party.example>',
        to: ['security@party.example'],
      },
    ]);
    expect(config.silences).toEqual([{ match: { rule: ['login.*'] }, until: Date.parse('2025-04-01T18:00:00Z'), note: 'VPN migration' }]);
    const clock = fixedClock(0);
    expect(config.receivers.map((r) => buildReceiver(r, { clock, locale: 'fr' }).type)).toEqual(['slack', 'teams', 'webhook', 'email']);
  });

  it('reports every mistake with its place, without echoing secrets', () => {
    const found = problems([
      'receivers:',
      '  - { name: a, type: slack, url: "https://x.example/a", url_file: slack.url }',
      '  - { name: b, type: teams }',
      '  - { name: c, type: webhook, url: "ftp://x.example", format: prometheus }',
      '  - name: d',
      '    type: email',
      '    smtp: { host: h, password: "p4ssword", password_file: smtp.password }',
      '    from: "x\\r\\nBcc: evil@example.org"',
      '    to: [not-an-address]',
      '  - { name: e, type: email, smtp: { host: h, password_file: missing.txt }, from: v@p.example, to: s@p.example }',
      'silences:',
      '  - { until: tomorrow, note: "" }',
    ]);
    expect(found).toEqual(
      expect.arrayContaining([
        'receivers[0].url_file: give either "url" or "url_file", not both',
        'receivers[1].url: missing required key "url" (or "url_file")',
        expect.stringMatching(/^receivers\[2\]\.url: /),
        expect.stringMatching(/^receivers\[2\]\.format: /),
        'receivers[3].smtp.password_file: give either "password" or "password_file", not both',
        'receivers[3].from: must be on one line',
        expect.stringMatching(/^receivers\[3\]\.to\[0\]: must be a mailbox address/),
        expect.stringMatching(/^receivers\[4\]\.smtp\.password_file: cannot read secret file \/etc\/vigie\/missing\.txt \(ENOENT\)$/),
        expect.stringMatching(/^silences\[0\]\.until: "tomorrow" is not a date-time/),
        expect.stringMatching(/^silences\[0\]\.note: /),
      ]),
    );
    expect(found.join('\n')).not.toContain('p4ssword');
  });
});
