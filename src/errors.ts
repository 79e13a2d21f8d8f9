/**
 * Every error the relay answers with over HTTP has a stable code from this table, the status
 * that goes with it, and a `detail` message that names the offending value. The body shape is
 * Tiled's (`{"detail": "…"}`) plus the code, so a Tiled client reads our errors unchanged.
 */
export const ERROR_STATUS = {
  invalid_json: 400,
  forbidden_key: 400,
  invalid_event_id: 400,
  target_forbidden: 400,
  target_unresolvable: 400,
  invalid_signature: 401,
  unauthorized: 401,
  not_found: 404,
  target_not_found: 404,
  delivery_not_found: 404,
  method_not_allowed: 405,
  target_managed_by_config: 409,
  target_inactive: 409,
  delivery_pending: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  too_many_headers: 431,
  invalid_event: 422,
  invalid_request: 422,
  url_not_allowed: 422,
  storage_unavailable: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class HttpError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = 'HttpError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = headers;
  }

  toJSON(): { detail: string; code: ErrorCode } {
    return { detail: this.message, code: this.code };
  }
}

/**
 * Quotes a value for an error message, short enough that a hostile input cannot flood it, and
 * without the credentials of a URL in it.
 */
export function quote(value: unknown, limit = 80): string {
  const text = withoutUserinfo(typeof value === 'string' ? JSON.stringify(value) : String(value));
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/**
 * The `user:password@` part of a URL (RFC 3986 section 3.2.1) in `text`, replaced by `…@`. It
 * reaches to the last "@" before a space or a quote, so a password that holds "@" or "/" (the
 * URL is then invalid, and quoted for that) is hidden whole.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi;

export function withoutUserinfo(text: string): string {
  return text.includes('@') ? text.replace(USERINFO, '$1…@') : text;
}
