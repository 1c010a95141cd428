/**
 * The one error type of the gateway. Every failure the gateway itself produces carries a stable
 * code from the legacy contract; one table maps the code to its HTTP status, and one handler
 * (src/http/error-handler.ts) writes the envelope.
 */
export const ERROR_STATUS = {
  INVALID_JSON: 400,
  INVALID_EMAIL: 400,
  INVALID_QUERY: 400,
  SERVICE_PARAMETER_REMOVED: 400,
  CONFLICTING_FIELDS: 400,
  MISSING_CREDENTIALS: 401,
  FORBIDDEN_CLIENT: 403,
  USER_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  AMBIGUOUS_EMAIL: 409,
  /** Not in the contract's table: a planned brownout of the legacy API (BROWNOUTS). */
  LEGACY_API_BROWNOUT: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** Not in the contract's table: a bug in the gateway itself, never blamed on V4. */
  INTERNAL_ERROR: 500,
  UPSTREAM_ERROR: 502,
  UPSTREAM_TIMEOUT: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface GatewayErrorOptions {
  /** Extra response headers (e.g. `Allow` for 405). */
  headers?: Record<string, string>;
  /** Why, for the log line only; never sent to the client. */
  detail?: string;
  /** For upstream failures of writes: the write may or may not have been applied by V4. */
  outcomeUnknown?: boolean;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly detail: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.headers = options.headers ?? {};
    this.detail = options.detail;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

export function isGatewayError(err: unknown): err is GatewayError {
  return err instanceof GatewayError;
}

/** No Authorization from the caller and no configured key: nothing may go to V4. */
export function missingCredentials(): GatewayError {
  return new GatewayError('MISSING_CREDENTIALS', 'No credentials: send an Authorization header ("Apikey <key>"), or configure V4_API_KEY or V4_API_KEY_FILE on the gateway.');
}
