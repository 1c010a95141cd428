import type { IncomingMessage } from 'node:http';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1): a proxy does not
 * pass them on, either way. Transfer-Encoding is the message's framing on each hop: node frames
 * both sides itself (see `requestHeaders`).
 */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Headers named in a Connection header (its tokens other than keep-alive/close) are hop-by-hop too. */
function connectionTokens(value: string | undefined): ReadonlySet<string> | null {
  if (value === undefined) return null;
  let tokens: Set<string> | null = null;
  for (const raw of value.split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '' || token === 'keep-alive' || token === 'close') continue;
    (tokens ??= new Set()).add(token);
  }
  return tokens;
}

export interface ForwardedRequestFacts {
  /** The target's host (and port): Host is rewritten to it. */
  readonly host: string;
  readonly requestId: string;
  /** Sent instead of the caller's Authorization when not null (V4: the accept stage's choice). */
  readonly authorization: string | null;
}

/**
 * The request's headers for the upstream, as one flat `[name, value, …]` list: the caller's,
 * minus hop-by-hop ones, with Host the target's, X-Request-Id the call's, and Authorization the
 * chosen one. A body without a length is sent chunked by the upstream client itself (undici
 * refuses a Transfer-Encoding header and frames the body on its own). Expect is not passed on:
 * node's server has already answered `100-continue` to the caller, and undici refuses it. A
 * DELETE or OPTIONS without a body goes without Content-Length (RFC 9110 §8.6: a client should
 * not send one when the method anticipates no body; undici holds to that; http-proxy used to add
 * `content-length: 0`).
 * No X-Forwarded-* headers are added (http-proxy did not add them either: `xfwd` was off).
 */
export function requestHeaders(req: IncomingMessage, facts: ForwardedRequestFacts): string[] {
  const headers = req.headers;
  const listed = connectionTokens(headers.connection);
  const out: string[] = ['host', facts.host, 'x-request-id', facts.requestId];
  if (facts.authorization !== null) out.push('authorization', facts.authorization);
  for (const name in headers) {
    if (name === 'host' || name === 'x-request-id' || name === 'expect' || HOP_BY_HOP.has(name) || (listed !== null && listed.has(name))) continue;
    if (name === 'authorization' && facts.authorization !== null) continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') out.push(name, value);
    else for (const each of value) out.push(name, each);
  }
  return out;
}

/** Headers the gateway sets on every call it answers: an upstream's own never replaces them. */
const GATEWAY_OWNED = new Set(['x-request-id', 'deprecation', 'sunset']);

/**
 * The whole header list of a passed-on answer, as one flat `[name, value, …]` list for one
 * `writeHead`: the gateway's own headers (`own`: X-Request-Id; Deprecation, Link, Sunset on a
 * legacy call) first, then the upstream's in its own spelling and order, minus hop-by-hop ones
 * (node writes the client's own Connection, Keep-Alive and framing) and minus the ones the
 * gateway owns. An upstream Link keeps the gateway's successor link in front of its own links.
 * A repeated header (several Set-Cookie) becomes one entry with all its values.
 */
export function answerHeaders(raw: readonly string[], own: readonly string[] = []): Array<string | string[]> {
  const ownNames = new Set<string>();
  let ownLink: string | undefined;
  for (let i = 0; i < own.length; i += 2) {
    ownNames.add(own[i] as string);
    if (own[i] === 'link') ownLink = own[i + 1];
  }
  let linkMerged = false;
  let listed: ReadonlySet<string> | null = null;
  const names: string[] = [];
  const upstream: Array<string | string[]> = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    let value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'connection') listed = connectionTokens(value);
      continue;
    }
    if (GATEWAY_OWNED.has(lower) && ownNames.has(lower)) continue;
    if (lower === 'link' && ownLink !== undefined && !linkMerged) {
      // The legacy facade's successor link stays; the upstream's links come after it.
      if (!value.includes(ownLink)) value = `${ownLink}, ${value}`;
      linkMerged = true;
    }
    const seen = names.indexOf(lower);
    if (seen === -1) {
      names.push(lower);
      upstream.push(name, value);
      continue;
    }
    const previous = upstream[seen * 2 + 1] as string | string[];
    upstream[seen * 2 + 1] = typeof previous === 'string' ? [previous, value] : [...previous, value];
  }
  const out: Array<string | string[]> = [];
  for (let i = 0; i < own.length; i += 2) {
    if (linkMerged && own[i] === 'link') continue;
    out.push(own[i] as string, own[i + 1] as string);
  }
  for (let i = 0; i < names.length; i += 1) {
    if (listed !== null && listed.has(names[i] as string)) continue;
    out.push(upstream[i * 2] as string, upstream[i * 2 + 1] as string | string[]);
  }
  return out;
}
