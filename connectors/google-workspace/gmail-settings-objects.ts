import type { SnapshotObject } from '../../src/pipeline/connector.js';

/** What the Gmail API says about one mailbox's settings (C.2); every part optional. */
export interface GmailSettings {
  account: string;
  autoForwarding?: { enabled?: boolean | null; emailAddress?: string | null; disposition?: string | null };
  forwardingAddresses?: { forwardingEmail?: string | null; verificationStatus?: string | null }[];
  filters?: GmailFilter[];
  delegates?: { delegateEmail?: string | null; verificationStatus?: string | null }[];
  imap?: { enabled?: boolean | null; autoExpunge?: boolean | null; expungeBehavior?: string | null };
  pop?: { accessWindow?: string | null; disposition?: string | null };
}

export interface GmailFilter {
  id?: string | null;
  criteria?: object | null;
  action?: { addLabelIds?: string[] | null; removeLabelIds?: string[] | null; forward?: string | null } | null;
}

type Event = SnapshotObject['event'];

/** State has no event time: a change is dated when the snapshot saw it. */
function base(account: string, kind: Event['kind'], details: Record<string, unknown>, time: string): Event {
  return { kind, time, provider: 'google-workspace', source: '', account, details };
}

function criteriaText(criteria: Record<string, unknown>): string {
  const parts = Object.entries(criteria)
    .filter(([, v]) => v !== '' && v !== null && v !== undefined && v !== false)
    .map(([k, v]) => `${k}: ${String(v)}`);
  return parts.join('; ').slice(0, 300);
}

/** A filter matters when it sends mail away or hides it: forward, trash, or skip the inbox. */
export function filterObject(account: string, f: GmailFilter, observedAt: string): SnapshotObject | undefined {
  const add = f.action?.addLabelIds ?? [];
  const remove = f.action?.removeLabelIds ?? [];
  const forward = f.action?.forward ? [f.action.forward.toLowerCase()] : [];
  const trash = add.includes('TRASH');
  const skipInbox = remove.includes('INBOX');
  if (!forward.length && !trash && !skipInbox) return undefined;
  const criteria = (f.criteria ?? {}) as Record<string, unknown>;
  const id = f.id ?? criteriaText(criteria);
  return {
    key: `filter:${id}`,
    event: base(account, 'mailbox_rule', {
      mechanism: 'gmail_filter',
      rule_id: id,
      name: criteriaText(criteria) || '(every message)',
      enabled: true,
      forward_to: forward,
      delete: trash,
      move_to_folder: trash ? 'TRASH' : skipInbox ? 'archive' : undefined,
      mark_as_read: remove.includes('UNREAD'),
      conditions: criteria,
      add_labels: add,
      remove_labels: remove,
    }, observedAt),
  };
}

/** Forwarding, hiding filters, delegates and mail-protocol access of one mailbox, as snapshot objects. */
export function gmailSettingsObjects(s: GmailSettings, observedAt: string): SnapshotObject[] {
  const account = s.account.toLowerCase();
  const out: SnapshotObject[] = [];
  const forwardingAddresses = (s.forwardingAddresses ?? [])
    .filter((a) => a.forwardingEmail)
    .map((a) => ({ address: a.forwardingEmail!.toLowerCase(), status: a.verificationStatus ?? 'verificationStatusUnspecified' }));
  const af = s.autoForwarding;
  if (af?.enabled && af.emailAddress) {
    const disposition = af.disposition ?? 'dispositionUnspecified';
    out.push({
      key: 'auto-forwarding',
      event: base(account, 'mailbox_forwarding', {
        mechanism: 'gmail_auto_forward',
        to: [af.emailAddress.toLowerCase()],
        // "trash" forwards and deletes the original: no copy left for the owner to notice.
        keep_copy: disposition !== 'trash',
        disposition,
        forwarding_addresses: forwardingAddresses,
      }, observedAt),
    });
  }
  for (const f of s.filters ?? []) {
    const o = filterObject(account, f, observedAt);
    if (o) out.push(o);
  }
  for (const d of s.delegates ?? []) {
    if (!d.delegateEmail) continue;
    const grantee = d.delegateEmail.toLowerCase();
    out.push({
      key: `delegate:${grantee}`,
      event: base(account, 'mailbox_permission', {
        grantee,
        rights: ['gmail_delegate'],
        verification_status: d.verificationStatus ?? 'verificationStatusUnspecified',
      }, observedAt),
    });
  }
  // IMAP and POP let any client with the password (or an app password) copy the whole mailbox.
  const protocols: string[] = [];
  if (s.imap?.enabled) protocols.push('protocol:imap');
  const win = s.pop?.accessWindow;
  if (win === 'allMail' || win === 'fromNowOn') protocols.push(`protocol:pop:${win}`);
  if (protocols.length) {
    out.push({
      key: 'mail-protocols',
      event: base(account, 'mailbox_permission', {
        grantee: account,
        rights: protocols,
        mechanism: 'gmail_protocol_access',
        pop_disposition: s.pop?.disposition ?? undefined,
        imap_expunge: s.imap?.expungeBehavior ?? undefined,
      }, observedAt),
    });
  }
  return out;
}
