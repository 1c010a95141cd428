import type { ServerResponse } from 'node:http';
import type { LegacyAnswer } from '../operations/legacy-answer';
import type { JsonObject, JsonValue } from '../translation/json';
import type { V4Response } from '../v4/client';
import { ownHeadersOf } from './request-state';

/**
 * The one place answers are put on the wire, with node's own API (no framework: Express's
 * res.json adds an ETag hash and content negotiation the gateway does not need). Each answer's
 * headers, the gateway's own (request-state.ts) first, go out in one `writeHead` list: node
 * takes a list as it is, without the per-header bookkeeping of `setHeader`.
 */

const JSON_TYPE = 'application/json; charset=utf-8';

/** The gateway's own headers, then the answer's. */
function headerList(res: ServerResponse, headers: Readonly<Record<string, string>> | undefined): string[] {
  const list = ownHeadersOf(res).slice();
  if (headers !== undefined) for (const name in headers) list.push(name, headers[name] as string);
  return list;
}

/** One JSON document with its length. */
export function writeJson(res: ServerResponse, status: number, body: JsonValue, headers?: Readonly<Record<string, string>>): void {
  const text = JSON.stringify(body);
  const list = headerList(res, headers);
  list.push('content-type', JSON_TYPE, 'content-length', String(Buffer.byteLength(text)));
  res.writeHead(status, list);
  res.end(text);
}

/**
 * A legacy answer. One JSON document or none is written at once (null: nothing left to wait for,
 * and no promise made for the call that answers most). A list of pages is streamed as one JSON
 * array (the promise): each page is asked for only once the socket took the one before (the
 * client's pace sets V4's), and no more are asked for once the client is gone or the call is
 * HEAD. A page that fails rejects after the first byte: the error writer then cuts the
 * connection, so nobody takes a truncated array for the whole list.
 */
export function writeAnswer(res: ServerResponse, answer: LegacyAnswer, head: boolean): Promise<void> | null {
  const { body } = answer;
  if (body.kind === 'json') {
    writeJson(res, answer.status, body.value, answer.headers);
    return null;
  }
  const list = headerList(res, answer.headers);
  if (body.kind === 'none') {
    res.writeHead(answer.status, list);
    res.end();
    return null;
  }
  list.push('content-type', JSON_TYPE);
  res.writeHead(answer.status, list);
  if (head) {
    res.end();
    return null;
  }
  return streamPages(res, body.pages);
}

async function streamPages(res: ServerResponse, pages: AsyncIterable<readonly JsonObject[]>): Promise<void> {
  let separator = '[';
  for await (const page of pages) {
    // A client that left while the page was fetched: stop (no more pages are asked for).
    if (res.destroyed) return;
    if (page.length === 0) continue;
    if (!res.write(separator + usersText(page))) await drained(res);
    separator = ',';
    if (res.destroyed) return;
  }
  res.end(separator === '[' ? '[]' : ']');
}

function usersText(users: readonly JsonObject[]): string {
  let text = '';
  for (let i = 0; i < users.length; i += 1) text += (i === 0 ? '' : ',') + JSON.stringify(users[i]);
  return text;
}

/** Resolves when the client can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  // Gone already: its `close` has fired and will not fire again.
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.removeListener('drain', done);
      res.removeListener('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** V4 headers that mean something to the client of a V4 error answer. */
const PASSED_HEADERS = ['content-type', 'retry-after', 'www-authenticate'];

/** A V4 answer (an error status) reaches the legacy client unchanged: status, body, media type. */
export function writeV4Answer(res: ServerResponse, answer: V4Response): void {
  const list = headerList(res, undefined);
  for (const name of PASSED_HEADERS) {
    const value = answer.headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') list.push(name, value);
    else for (const each of value) list.push(name, each);
  }
  const bodyless = answer.status === 204 || answer.status === 304;
  if (!bodyless) list.push('content-length', String(answer.body.length));
  res.writeHead(answer.status, list);
  res.end(bodyless ? undefined : answer.body);
}
