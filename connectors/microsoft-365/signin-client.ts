/**
 * The `client` of a sign-in (DESIGN §3: browser, mobile, desktop, imap, pop, smtp, activesync,
 * other) from what Microsoft tells: Graph's `clientAppUsed`, or only a user agent in the unified
 * audit log.
 */
export type SigninClient = 'browser' | 'mobile' | 'desktop' | 'imap' | 'pop' | 'smtp' | 'activesync' | 'other';

const CLIENT_APP: Record<string, SigninClient> = {
  browser: 'browser',
  'mobile apps and desktop clients': 'desktop',
  'exchange activesync': 'activesync',
  imap: 'imap',
  imap4: 'imap',
  pop: 'pop',
  pop3: 'pop',
  smtp: 'smtp',
  'authenticated smtp': 'smtp',
};

/**
 * Entra's own definition of legacy authentication: every client app other than browsers and
 * modern (OAuth) mobile/desktop clients.
 */
export function isLegacyClientApp(clientAppUsed: string): boolean {
  const c = clientAppUsed.trim().toLowerCase();
  return c !== '' && c !== 'browser' && c !== 'mobile apps and desktop clients';
}

export function signinClient(from: { clientAppUsed?: string; userAgent?: string }): SigninClient {
  const app = from.clientAppUsed?.trim().toLowerCase();
  if (app) return CLIENT_APP[app] ?? 'other';
  const ua = from.userAgent ?? '';
  if (/BAV2ROPC|CBAinPROD/i.test(ua)) return 'other';
  if (/Android|iPhone|iPad|iOS|Outlook-iOS|Outlook-Android/i.test(ua)) return 'mobile';
  if (/Microsoft Office|Outlook|MSOIDCLI/i.test(ua)) return 'desktop';
  if (/Mozilla\//.test(ua)) return 'browser';
  return 'other';
}
