import { createHmac } from 'node:crypto';
import { messageKey, type Alert } from '../alerts/alert.js';
import { systemClock, type Clock } from '../clock.js';
import { createJsonPoster } from './http-post.js';
import type { Receiver, SendResult } from './receiver.js';

export { classifyStatus, parseRetryAfter } from './http-post.js';

export const WEBHOOK_FORMATS = ['vigie', 'alertmanager'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

export interface WebhookReceiverOptions {
  name: string;
  url: string;
  /** Standard Webhooks secret: `whsec_<base64 key>`, or any other string used as the raw key. */
  secret?: string;
  /** `vigie` (default): `{"alerts": [...]}`; `alertmanager`: the Alertmanager webhook payload (version 4). */
  format?: WebhookFormat;
  timeoutMs: number;
  fetch?: typeof fetch;
  clock?: Clock;
}

/** The HMAC key of a Standard Webhooks secret. */
export function webhookSigningKey(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (Standard Webhooks). */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', webhookSigningKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** Alertmanager's "zero time": what it sends as `endsAt` for an alert still firing. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

function labelsOf(a: Alert): Record<string, string> {
  const labels: Record<string, string> = { alertname: String(a.rule), rule: String(a.rule), severity: String(a.severity), category: String(a.category) };
  for (const key of ['account', 'person', 'provider', 'source'] as const) {
    const v = a[key];
    if (typeof v === 'string' && v !== '') labels[key] = v;
  }
  return labels;
}

function common(maps: Array<Record<string, string>>): Record<string, string> {
  const [first, ...rest] = maps;
  if (!first) return {};
  return Object.fromEntries(Object.entries(first).filter(([k, v]) => rest.every((m) => m[k] === v)));
}

/**
 * The Alertmanager webhook payload (version 4), for consumers built for Alertmanager. The alert's
 * text goes in annotations as plain strings; JSON keeps it inert and the consumer decides how to show it.
 */
export function alertmanagerPayload(alerts: Alert[], receiver: string, key: string): Record<string, unknown> {
  const items = alerts.map((a) => ({
    status: a.status === 'resolved' ? 'resolved' : 'firing',
    labels: labelsOf(a),
    annotations: {
      title: String(a.title ?? ''),
      summary: String(a.summary ?? ''),
      description: (Array.isArray(a.explanation) ? a.explanation : []).map(String).join('\n'),
      remediation: (Array.isArray(a.remediation) ? a.remediation : []).map(String).join('\n'),
      count: String(a.count),
      last_time: String(a.last_time ?? ''),
    },
    startsAt: a.time,
    endsAt: a.status === 'resolved' ? a.last_time : ZERO_TIME,
    generatorURL: '',
    fingerprint: a.id,
  }));
  return {
    version: '4',
    groupKey: key,
    truncatedAlerts: 0,
    status: items.some((i) => i.status === 'firing') ? 'firing' : 'resolved',
    receiver,
    groupLabels: {},
    commonLabels: common(items.map((i) => i.labels)),
    commonAnnotations: {},
    externalURL: '',
    alerts: items,
  };
}

/**
 * POSTs `{"alerts": [...]}` (or the Alertmanager payload) with Standard Webhooks headers. The
 * `webhook-id` is the alert id for one alert and a hash of the sorted ids for a group: the same
 * on every retry, so that the consumer can drop copies.
 */
export function createWebhookReceiver(opts: WebhookReceiverOptions): Receiver {
  const poster = createJsonPoster({ name: opts.name, what: 'webhook', url: opts.url, timeoutMs: opts.timeoutMs, secrets: [opts.secret], ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.clock ? { clock: opts.clock } : {}) });
  const clock = opts.clock ?? systemClock;
  const format = opts.format ?? 'vigie';

  return {
    name: opts.name,
    type: 'webhook',
    async send(alerts, ctx): Promise<SendResult> {
      const id = messageKey(alerts.map((a) => a.id));
      const body = JSON.stringify(format === 'alertmanager' ? alertmanagerPayload(alerts, opts.name, id) : { alerts });
      const timestamp = Math.floor(clock.now() / 1000);
      const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(timestamp) };
      if (opts.secret) headers['webhook-signature'] = signWebhook(opts.secret, id, timestamp, body);
      return poster.post(body, headers, ctx);
    },
  };
}
