import type { Alert } from '../alerts/alert.js';

/** Receivers say ok, retryable or permanent; the retry policy lives in the delivery worker only. */
export type SendResult =
  | { status: 'ok' }
  | { status: 'retryable'; reason: string; retryAfterMs?: number }
  | { status: 'permanent'; reason: string };

export interface SendContext {
  signal: AbortSignal;
  /** 1 for the first attempt. */
  attempt: number;
}

export interface Receiver {
  name: string;
  type: string;
  /** Sends a group of alerts as one message. Never throws: every failure is a SendResult. */
  send(alerts: Alert[], ctx: SendContext): Promise<SendResult>;
}
