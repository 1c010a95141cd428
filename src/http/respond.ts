import type { ServerResponse } from 'node:http';
import type { V4Response } from '../v4/client';

/**
 * Writes a JSON answer with node's own API: Express's res.json adds an ETag hash and content
 * negotiation the gateway does not need on its hot path.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers?: Record<string, string>): void {
  res.statusCode = status;
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.end();
}

/** V4 headers that mean something to the client of a V4 error answer. */
const PASSED_HEADERS = ['content-type', 'retry-after', 'www-authenticate'];

/** A V4 answer (an error status) reaches the legacy client unchanged: status, body, media type. */
export function sendV4Answer(res: ServerResponse, answer: V4Response): void {
  res.statusCode = answer.status;
  for (const name of PASSED_HEADERS) {
    const value = answer.headers[name];
    if (value !== undefined) res.setHeader(name, value);
  }
  const bodyless = answer.status === 204 || answer.status === 304;
  if (!bodyless) res.setHeader('content-length', answer.body.length);
  res.end(bodyless ? undefined : answer.body);
}
