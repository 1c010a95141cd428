// What each fault kind does to the HTTP exchange. The store is touched only by the caller
// (server.ts), which decides whether the request is applied before, after or not at all.
import type { ServerResponse } from 'node:http';
import { errorBody } from './errors';
import { JSON_TYPE, type SimAnswer } from './exchange';
import type { FaultRule } from './types';

const DEFAULT_HUGE_BYTES = 64 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** Looks like the start of a user page, then stops: JSON.parse fails on it. */
const GARBAGE = '{"data":[{"id":"';

export function statusAnswer(rule: FaultRule): SimAnswer {
  const status = rule.status ?? 500;
  const headers: Record<string, string> = { ...rule.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = JSON_TYPE;
  const body = rule.body ?? errorBody('INJECTED_FAULT', `Injected fault: HTTP ${status}.`);
  return { status, headers, body };
}

export function garbageAnswer(rule: FaultRule): SimAnswer {
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: rule.body ?? GARBAGE };
}

/**
 * A valid JSON string literal of exactly `bytes` bytes (at least 2), written with backpressure
 * so a 64 MB body does not sit in memory; stops when the client goes away.
 */
export function streamHuge(res: ServerResponse, rule: FaultRule): void {
  const total = Math.max(2, Math.floor(rule.hugeBytes ?? DEFAULT_HUGE_BYTES));
  res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': String(total) });
  let left = total - 2;
  res.write('"');
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end('"');
  };
  pump();
}
