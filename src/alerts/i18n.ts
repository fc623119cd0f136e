import type { Category, Severity } from './alert.js';
import { plainText } from './sanitize.js';

/**
 * Vigie's own words in every receiver, in English and French (`organisation.locale`). Rule texts
 * (title, summary, explanation, remediation) come from the rule files and are shown as written.
 * Every function here takes values that are already sanitised: the table adds words, never markup.
 */
export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];

export interface Texts {
  severity: Record<Severity, string>;
  category: Record<Category, string>;
  /** Label separator: French puts a (narrow) space before the colon. */
  colon: string;
  who: string;
  what: string;
  when: string;
  where: string;
  source: string;
  status: string;
  resolved: string;
  firing: string;
  why: string;
  evidence: string;
  whatToDo: string;
  alertId: string;
  rule: string;
  event: string;
  events(n: number): string;
  andMore(n: number): string;
  /** Alerts left out of a message that could not hold them all. */
  moreAlerts(n: number): string;
  /** "the same alert again" suffix for an incident that keeps firing. */
  keepsFiring(n: number): string;
  /** Heading of a message that carries several alerts. */
  groupHeading(n: number): string;
  /** E-mail subject; `who` is a sanitised account or a count of accounts. */
  subject(severity: string, what: string, who: string): string;
  accounts(n: number): string;
  alerts(n: number): string;
  footer: string;
  meta: {
    title(receiver: string): string;
    summary(alertId: string, rule: string, receiver: string, reason: string): string;
    how(exhausted: boolean, budget: string): string;
    explanation(alertId: string, rule: string, receiver: string, how: string, attempts: number): string;
    lastError(reason: string): string;
    todayCount(n: number, receiver: string): string;
    remediation(receiver: string, alertId: string): string[];
  };
  test: {
    title: string;
    summary(receiver: string): string;
    explanation: string[];
    remediation: string[];
    detail: string;
  };
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const en: Texts = {
  severity: { informational: 'INFORMATIONAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', critical: 'CRITICAL' },
  category: {
    unusual_login: 'Unusual sign-in',
    account_change: 'Account change',
    forwarding: 'Mail forwarding',
    delegation: 'Mailbox delegation',
    oauth_consent: 'Application consent',
    data_export: 'Data export',
    mail_activity: 'Mail activity',
    provider_alert: 'Provider alert',
    monitor: 'Vigie monitoring',
    incident: 'Incident',
  },
  colon: ':',
  who: 'Who',
  what: 'What',
  when: 'When',
  where: 'Where',
  source: 'Source',
  status: 'Status',
  resolved: 'resolved',
  firing: 'firing',
  why: 'Why',
  evidence: 'Evidence',
  whatToDo: 'What to do',
  alertId: 'Alert id',
  rule: 'Rule',
  event: 'event',
  events: (n) => plural(n, 'event', 'events'),
  andMore: (n) => `… and ${n} more`,
  moreAlerts: (n) => `${plural(n, 'more alert', 'more alerts')} in this group:`,
  keepsFiring: (n) => `still firing: ${plural(n, 'event', 'events')} so far`,
  groupHeading: (n) => `Vigie: ${plural(n, 'alert', 'alerts')}`,
  subject: (severity, what, who) => `[Vigie] ${severity}: ${what} (${who})`,
  accounts: (n) => plural(n, 'account', 'accounts'),
  alerts: (n) => plural(n, 'alert', 'alerts'),
  footer: 'Sent by Vigie. The text above quotes what the providers reported; it was not written by Vigie.',
  meta: {
    title: (r) => `Alerts cannot be delivered to receiver ${r}`,
    summary: (id, rule, r, reason) => `Vigie gave up delivering alert ${id} (${rule}) to receiver ${r}: ${reason}`,
    how: (exhausted, budget) => (exhausted ? `still failing when its retry budget of ${budget} ran out` : 'failed with an error that retrying cannot fix'),
    explanation: (id, rule, r, how, attempts) =>
      `Delivery of alert ${id} (rule ${rule}) to receiver ${r} ${how}, after ${plural(attempts, 'attempt', 'attempts')}.`,
    lastError: (reason) => `Last error: ${reason}`,
    todayCount: (n, r) => `${plural(n, 'alert', 'alerts')} for receiver ${r} went to the dead letters today (UTC); they were not delivered there.`,
    remediation: (r, id) => [
      `Check receiver ${r} in the configuration: its URL, credentials or secret, and that the endpoint is up and accepts the requests.`,
      `Once fixed, run \`vigie test-alert --receiver ${r}\` to check that delivery works.`,
      `Review the undelivered alerts (alert ${id} and any others in the dead letters) so that nothing they reported is missed.`,
    ],
  },
  test: {
    title: 'Test alert: delivery works',
    summary: (r) => `This is a test alert sent by \`vigie test-alert\` through receiver ${r}. No action is needed.`,
    explanation: ['Someone ran vigie test-alert to check that alerts reach this channel.'],
    remediation: ['Nothing to do. If this message looks wrong or incomplete, check the receiver settings.'],
    detail: 'sample evidence line',
  },
};

const fr: Texts = {
  severity: { informational: 'INFORMATION', low: 'FAIBLE', medium: 'MOYENNE', high: 'ÉLEVÉE', critical: 'CRITIQUE' },
  category: {
    unusual_login: 'Connexion inhabituelle',
    account_change: 'Modification de compte',
    forwarding: 'Transfert de courriel',
    delegation: 'Délégation de boîte',
    oauth_consent: 'Consentement d’application',
    data_export: 'Export de données',
    mail_activity: 'Activité de messagerie',
    provider_alert: 'Alerte du fournisseur',
    monitor: 'Surveillance de Vigie',
    incident: 'Incident',
  },
  colon: '\u202f:',
  who: 'Qui',
  what: 'Quoi',
  when: 'Quand',
  where: 'Où',
  source: 'Source',
  status: 'État',
  resolved: 'résolue',
  firing: 'active',
  why: 'Pourquoi',
  evidence: 'Éléments',
  whatToDo: 'Que faire',
  alertId: 'Identifiant de l’alerte',
  rule: 'Règle',
  event: 'événement',
  events: (n) => plural(n, 'événement', 'événements'),
  andMore: (n) => `… et ${n} de plus`,
  moreAlerts: (n) => `${plural(n, 'autre alerte', 'autres alertes')} dans ce groupe :`,
  keepsFiring: (n) => `toujours active : ${plural(n, 'événement', 'événements')} à ce jour`,
  groupHeading: (n) => `Vigie : ${plural(n, 'alerte', 'alertes')}`,
  subject: (severity, what, who) => `[Vigie] ${severity} : ${what} (${who})`,
  accounts: (n) => plural(n, 'compte', 'comptes'),
  alerts: (n) => plural(n, 'alerte', 'alertes'),
  footer: 'Envoyé par Vigie. Le texte ci-dessus cite ce que les fournisseurs ont signalé ; il n’a pas été écrit par Vigie.',
  meta: {
    title: (r) => `Les alertes ne peuvent pas être remises au destinataire ${r}`,
    summary: (id, rule, r, reason) => `Vigie a renoncé à remettre l’alerte ${id} (${rule}) au destinataire ${r} : ${reason}`,
    how: (exhausted, budget) =>
      exhausted ? `échouait encore à la fin de son délai de nouvelles tentatives (${budget})` : 'a échoué avec une erreur qu’une nouvelle tentative ne peut pas corriger',
    explanation: (id, rule, r, how, attempts) =>
      `La remise de l’alerte ${id} (règle ${rule}) au destinataire ${r} ${how}, après ${plural(attempts, 'tentative', 'tentatives')}.`,
    lastError: (reason) => `Dernière erreur : ${reason}`,
    todayCount: (n, r) =>
      `${plural(n, 'alerte', 'alertes')} pour le destinataire ${r} ${n === 1 ? 'est partie' : 'sont parties'} aujourd’hui (UTC) dans les lettres mortes, sans y être remises.`,
    remediation: (r, id) => [
      `Vérifiez le destinataire ${r} dans la configuration : son URL, ses identifiants ou son secret, et que le service est joignable et accepte les requêtes.`,
      `Une fois corrigé, lancez \`vigie test-alert --receiver ${r}\` pour vérifier la remise.`,
      `Relisez les alertes non remises (l’alerte ${id} et les autres lettres mortes) pour ne rien manquer de ce qu’elles signalaient.`,
    ],
  },
  test: {
    title: 'Alerte de test : la remise fonctionne',
    summary: (r) => `Ceci est une alerte de test envoyée par \`vigie test-alert\` via le destinataire ${r}. Aucune action n’est nécessaire.`,
    explanation: ['Quelqu’un a lancé vigie test-alert pour vérifier que les alertes arrivent sur ce canal.'],
    remediation: ['Rien à faire. Si ce message semble incorrect ou incomplet, vérifiez les réglages du destinataire.'],
    detail: 'exemple de ligne d’éléments',
  },
};

const TABLE: Record<Locale, Texts> = { en, fr };

/** The words for a locale; anything unknown falls back to English rather than failing a send. */
export function texts(locale: string | undefined): Texts {
  return locale === 'fr' ? TABLE.fr : TABLE.en;
}

/** A severity label that never throws on an alert read from an old or damaged row. */
export function severityLabel(t: Texts, severity: unknown): string {
  if (typeof severity === 'string' && Object.hasOwn(t.severity, severity)) return t.severity[severity as Severity];
  return plainText(severity, 20).toUpperCase() || '?';
}

export function categoryLabel(t: Texts, category: unknown): string {
  return typeof category === 'string' && Object.hasOwn(t.category, category) ? t.category[category as Category] : t.category.incident;
}
