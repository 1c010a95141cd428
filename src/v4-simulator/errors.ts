// The one error class of the simulator. Validation and store code throw it; the router turns
// it into V4's error envelope, and the direct (non-HTTP) API lets it reach the caller.

export type V4ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHORIZED'
  | 'USER_NOT_FOUND'
  | 'EMAIL_TAKEN'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INTERNAL_ERROR'
  | 'INJECTED_FAULT';

export class V4ApiError extends Error {
  constructor(
    // Explicit status: VALIDATION_FAILED is 400 (bad syntax) or 422 (schema), so no code → status table.
    readonly status: number,
    readonly code: V4ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'V4ApiError';
  }
}

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export function userNotFound(id: string): V4ApiError {
  return new V4ApiError(404, 'USER_NOT_FOUND', `No user with id ${JSON.stringify(id)}.`);
}
