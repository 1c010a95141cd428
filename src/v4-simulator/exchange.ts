// The request/answer pair passed between the stages of the simulator: the router is a pure
// function SimRequest → SimAnswer, so a fault can run it and throw the answer away.
import type { IncomingHttpHeaders } from 'node:http';
import { errorBody, type V4ApiError } from './errors';

export interface SimRequest {
  method: string;
  url: string;
  /** Raw pathname. */
  path: string;
  /** Raw query string, without the `?`. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The body was over the limit and was drained, not kept (rawBody is empty). */
  oversized: boolean;
}

export interface SimAnswer {
  status: number;
  headers: Record<string, string>;
  /** Empty for 204. */
  body: string;
}

export const JSON_TYPE = 'application/json';

export function jsonAnswer(status: number, value: unknown, headers: Record<string, string> = {}): SimAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

export function errorAnswer(error: V4ApiError): SimAnswer {
  return { status: error.status, headers: { 'content-type': JSON_TYPE, ...error.headers }, body: errorBody(error.code, error.message) };
}

export function splitUrl(url: string): { path: string; rawQuery: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}
