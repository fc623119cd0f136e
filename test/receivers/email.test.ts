import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { createEmailReceiver, type EmailReceiverOptions } from '../../src/receivers/email.js';
import { makeAlert } from '../alerts/make-alert.js';
import { checkEmailHtml } from '../alerts/render-check.js';
import { HOSTILE_CORPUS } from '../fixtures/hostile.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp-server.js';

const ctx = () => ({ signal: new AbortController().signal, attempt: 1 });
const PASSWORD = 'correct-horse-battery';

const servers: TestSmtpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function setup(over: Partial<EmailReceiverOptions> = {}, serverOpts: Parameters<typeof startSmtpServer>[0] = { users: { vigie: PASSWORD } }) {
  const smtp = await startSmtpServer(serverOpts);
  servers.push(smtp);
  const receiver = createEmailReceiver({
    name: 'mail',
    smtp: { host: smtp.host, port: smtp.port, secure: false, user: 'vigie', password: PASSWORD },
    from: 'Vigie <vigie@party.example>',
    to: ['security@party.example', 'it@party.example'],
    timeoutMs: 5000,
    tls: { ca: smtp.ca },
    ...over,
  });
  return { smtp, receiver };
}

describe('email receiver (real SMTP server)', () => {
  it('sends over STARTTLS with AUTH: text and escaped HTML parts, stable Message-ID and X-Vigie-Alert-Id', async () => {
    const { smtp, receiver } = await setup();
    expect(receiver).toMatchObject({ name: 'mail', type: 'email' });
    const alert = makeAlert();
    expect(await receiver.send([alert], ctx())).toEqual({ status: 'ok' });
    expect(await receiver.send([alert], { ...ctx(), attempt: 2 })).toEqual({ status: 'ok' });
    expect(smtp.mails).toHaveLength(2);
    const mail = smtp.mails[0]!;
    expect(mail).toMatchObject({ secure: true, user: 'vigie', from: 'vigie@party.example', to: ['security@party.example', 'it@party.example'] });
    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toBe('[Vigie] HIGH: Unusual sign-in (alice@party.example)');
    expect(parsed.messageId).toBe(`<${alert.id}.alert@party.example>`);
    expect(parsed.headers.get('x-vigie-alert-id')).toBe(alert.id);
    expect(parsed.text).toContain('[HIGH] login.impossible-travel — Sign-in from two countries too far apart');
    expect(parsed.text).toContain('  1. Revoke the sessions of alice@party.example.');
    expect(parsed.html).toContain('Paris → Lagos is 4,700 km');
    checkEmailHtml(String(parsed.html));
    // A retry is recognisably the same message.
    const again = await simpleParser(smtp.mails[1]!.raw);
    expect(again.messageId).toBe(parsed.messageId);
  });

  it('hostile account, title and text: one recipient per configured address, no injected header, escaped HTML', async () => {
    const { smtp, receiver } = await setup();
    const s = `${HOSTILE_CORPUS.subjectBcc} ${HOSTILE_CORPUS.script} ${HOSTILE_CORPUS.encodedWord}`;
    const alert = makeAlert({ account: s, title: s, summary: s, explanation: [HOSTILE_CORPUS.img, HOSTILE_CORPUS.jsLink], remediation: [HOSTILE_CORPUS.spoofedLink] });
    expect(await receiver.send([alert], ctx())).toEqual({ status: 'ok' });
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual(['security@party.example', 'it@party.example']);
    const head = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/^bcc:/im);
    const parsed = await simpleParser(mail.raw);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.subject).not.toMatch(/[\r\n]/);
    expect(parsed.subject).toMatch(/^\[Vigie\] HIGH: Unusual sign-in \(Alert Bcc: attacker@evil\.example/);
    checkEmailHtml(String(parsed.html));
    expect(parsed.html).toContain('&lt;script&gt;');
  });

  it('a group is one e-mail listing every id, with a Message-ID from the sorted ids', async () => {
    const { smtp, receiver } = await setup();
    const a = makeAlert({ id: 'b'.repeat(32) });
    const b = makeAlert({ id: 'a'.repeat(32), account: 'bob@party.example' });
    await receiver.send([a, b], ctx());
    await receiver.send([b, a], ctx());
    const [first, second] = await Promise.all(smtp.mails.map((m) => simpleParser(m.raw)));
    expect(first!.subject).toBe('[Vigie] HIGH: 2 alerts (2 accounts)');
    expect(first!.headers.get('x-vigie-alert-id')).toBe(`${'b'.repeat(32)}, ${'a'.repeat(32)}`);
    expect(first!.messageId).toBe(second!.messageId);
  });

  it.each([
    [451, 'retryable'],
    [452, 'retryable'],
    [550, 'permanent'],
    [554, 'permanent'],
  ] as const)('DATA answered %i → %s', async (code, verdict) => {
    const { smtp, receiver } = await setup();
    smtp.scriptData({ code, message: 'refused for a reason' });
    const res = await receiver.send([makeAlert()], ctx());
    expect(res).toMatchObject({ status: verdict, reason: expect.stringContaining(String(code)) });
  });

  it('a wrong password is permanent (535) and the password never shows in the reason', async () => {
    const { receiver } = await setup({}, { users: { vigie: 'another-password' } });
    const res = await receiver.send([makeAlert()], ctx());
    expect(res).toMatchObject({ status: 'permanent', reason: expect.stringContaining('535') });
    expect(JSON.stringify(res)).not.toContain(PASSWORD);
  });

  it('an untrusted certificate is refused (no silent downgrade) and retried later', async () => {
    const { receiver } = await setup({ tls: {} });
    const res = await receiver.send([makeAlert()], ctx());
    expect(res.status).toBe('retryable');
  });

  it('a closed port is retryable', async () => {
    const { smtp } = await setup();
    await smtp.close();
    servers.length = 0;
    const receiver = createEmailReceiver({ name: 'mail', smtp: { host: smtp.host, port: smtp.port, secure: false }, from: 'vigie@party.example', to: ['x@party.example'], timeoutMs: 2000 });
    expect(await receiver.send([makeAlert()], ctx())).toMatchObject({ status: 'retryable' });
  });

  it('implicit TLS (secure: true) works too', async () => {
    const smtp = await startSmtpServer({ users: { vigie: PASSWORD }, secure: true });
    servers.push(smtp);
    const r = createEmailReceiver({
      name: 'mail',
      smtp: { host: smtp.host, port: smtp.port, secure: true, user: 'vigie', password: PASSWORD },
      from: 'vigie@party.example',
      to: ['security@party.example'],
      timeoutMs: 5000,
      tls: { ca: smtp.ca },
    });
    expect(await r.send([makeAlert()], ctx())).toEqual({ status: 'ok' });
    expect(smtp.mails[0]!.secure).toBe(true);
  });

  it('speaks French', async () => {
    const { smtp, receiver } = await setup({ locale: 'fr' });
    await receiver.send([makeAlert()], ctx());
    const parsed = await simpleParser(smtp.mails[0]!.raw);
    expect(parsed.subject).toBe('[Vigie] ÉLEVÉE : Connexion inhabituelle (alice@party.example)');
    expect(parsed.text).toContain('Que faire');
  });
});
