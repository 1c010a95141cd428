// The legacy API's error envelope, `{"error": {"code", "message", "request_id"}}`: the shape the
// contract gives legacy clients, so a shadow comparison of two error answers compares like with like.
import { JSON_TYPE, type SimAnswer } from '../v4-simulator/exchange';

export class LegacyApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'LegacyApiError';
  }
}

export function legacyErrorAnswer(error: LegacyApiError, requestId: string): SimAnswer {
  return {
    status: error.status,
    headers: { 'content-type': JSON_TYPE, 'x-request-id': requestId, ...error.headers },
    body: JSON.stringify({ error: { code: error.code, message: error.message, request_id: requestId } }),
  };
}
