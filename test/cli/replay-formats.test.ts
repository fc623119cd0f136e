import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert.js';
import { runCli } from '../helpers/cli.js';

const fixtures = path.resolve('test/fixtures/microsoft-365');

describe('vigie replay of provider exports', () => {
  it('reads a Purview audit CSV export and an Azure Monitor sign-in export, skipping the bad row with a reason', async () => {
    const r = await runCli(['replay', path.join(fixtures, 'purview-export.csv'), path.join(fixtures, 'azure-monitor-signin.json')]);
    expect(r.code, r.stderr).toBe(0);
    const alerts = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    // The inbox rule forwards and deletes (a hiding rule too); one legacy sign-in with no history is
    // not yet "a protocol the person never used".
    expect(alerts.map((a) => a.rule).sort()).toEqual(['forwarding.external-inbox-rule', 'forwarding.external-mailbox-forwarding', 'forwarding.hiding-rule']);
    expect(alerts.every((a) => a.provider === 'microsoft-365')).toBe(true);
    expect(r.stderr).toMatch(/purview-export\.csv: row at line 4: AuditData is not valid JSON/);
    expect(r.stderr).toMatch(/1 skipped/);
  });
});
