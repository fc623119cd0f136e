import { SourceError, type ErrorCode } from '../errors.js';

/** Provider error codes that mean "the tenant lacks a licence", not "the app lacks a permission". */
const LICENCE_CODES = new Set(['Authentication_RequestFromNonPremiumTenantOrB2CTenant', 'Authentication_RequestFromUnsupportedUserRole']);

/**
 * An HTTP exchange that failed. Carries the status and the provider's own error code (`AF10001`,
 * `Authorization_RequestDenied`...) so that connectors can say exactly what is missing. Never
 * carries a header, a token or the request body.
 */
export class HttpError extends SourceError {
  readonly status: number | undefined;
  readonly providerCode: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { status?: number; providerCode?: string; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = opts.status;
    this.providerCode = opts.providerCode;
  }
}

export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError;
}

/** The error code of a final (non-retried) answer. */
export function classifyFailure(status: number, providerCode: string | undefined): ErrorCode {
  if (status === 401) return 'SOURCE_UNAUTHORIZED';
  if (status === 403) return providerCode && LICENCE_CODES.has(providerCode) ? 'SOURCE_LICENCE' : 'SOURCE_UNAUTHORIZED';
  if (status === 429) return 'SOURCE_THROTTLED';
  return 'SOURCE_FAILED';
}

/** Reads `{ error: { code, message } }` (Graph, Management API) or `{ error: 'x', error_description }` (OAuth). */
export function providerError(body: unknown): { code?: string; message?: string } {
  if (!body || typeof body !== 'object') return {};
  const e = (body as Record<string, unknown>).error;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return {
      ...(typeof o.code === 'string' ? { code: o.code } : typeof o.code === 'number' ? { code: String(o.code) } : {}),
      ...(typeof o.message === 'string' ? { message: o.message } : {}),
    };
  }
  if (typeof e === 'string') {
    const d = (body as Record<string, unknown>).error_description;
    return { code: e, ...(typeof d === 'string' ? { message: d } : {}) };
  }
  return {};
}
