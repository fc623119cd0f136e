/** Who is behind an account: one person may have a Microsoft 365, a Google and an IMAP mailbox. */
export interface IdentityOptions {
  /** `local_part`: accounts with the same local part (alice@hq.example, alice@youth.example) are one person. */
  match?: 'exact' | 'local_part';
  people?: readonly { name: string; accounts: readonly string[] }[];
}

export type PersonOf = (account: string) => string | undefined;

/** Explicit people win; `local_part` then joins the rest; otherwise no person (rules fall back to the account). */
export function createIdentity(opts: IdentityOptions = {}): PersonOf {
  const byAccount = new Map<string, string>();
  for (const p of opts.people ?? []) for (const a of p.accounts) byAccount.set(a.trim().toLowerCase(), p.name);
  const byLocal = opts.match === 'local_part';
  return (account) => {
    const a = account.toLowerCase();
    const named = byAccount.get(a);
    if (named) return named;
    if (!byLocal) return undefined;
    const at = a.lastIndexOf('@');
    return at > 0 ? a.slice(0, at) : undefined;
  };
}
