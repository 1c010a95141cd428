import type { IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

/**
 * The connections to one upstream (V4, or the legacy backend): an undici Pool of keep-alive
 * sockets. undici rather than node's http.request because a proxy pays its HTTP client on every
 * call, and undici's is the cheaper one: in the same run on this machine a node:http server with
 * an undici client forwarded GETs at 1.49× the hand-written node:http pipe's rate (README,
 * Performance). The gateway drives it through `dispatch` with its own handler (no streams, no
 * response object), so that it sees each stage of a call: dispatched on a socket (it may have
 * reached the upstream from then on), status and headers, body chunks, end or failure.
 */
export interface UpstreamTarget {
  readonly pool: Pool;
  /** The target's own path (no trailing slash), put before every request's path. */
  readonly basePath: string;
  /** What goes in Host: the target's host and port as the URL spells them. */
  readonly host: string;
}

export function upstreamTarget(url: string | URL, maxSockets: number): UpstreamTarget {
  const target = typeof url === 'string' ? new URL(url) : url;
  const pool = new Pool(target.origin, {
    connections: maxSockets,
    // One request per socket at a time: a pipelined request behind a failed one could not be
    // told apart from one V4 applied.
    pipelining: 1,
    // The deadlines are the gateway's own timers (UPSTREAM_TIMEOUT_MS, one per call); these stay
    // as a backstop only.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  return { pool, basePath: target.pathname.replace(/\/+$/, ''), host: target.host };
}

/** Frees the sockets at once (calls in flight fail), as agent.destroy() did. */
export function closeUpstream(target: UpstreamTarget): void {
  target.pool.destroy().catch(() => undefined);
}

/** undici hands raw headers as Buffers (latin1 on the wire, as node decodes them). */
export function rawHeaderStrings(raw: ReadonlyArray<Buffer | string>): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 1) {
    const item = raw[i] as Buffer | string;
    out[i] = typeof item === 'string' ? item : item.toString('latin1');
  }
  return out;
}

/**
 * Raw headers as node's `IncomingMessage.headers` would hold them: names lower-cased, a
 * repeated Set-Cookie a list, any other repeated header joined with ", ".
 */
export function headersObject(raw: ReadonlyArray<Buffer | string>): IncomingHttpHeaders {
  // No prototype: a header named __proto__ is just a header.
  const headers = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const nameItem = raw[i] as Buffer | string;
    const valueItem = raw[i + 1] as Buffer | string;
    const name = (typeof nameItem === 'string' ? nameItem : nameItem.toString('latin1')).toLowerCase();
    const value = typeof valueItem === 'string' ? valueItem : valueItem.toString('latin1');
    const previous = headers[name];
    if (previous === undefined) headers[name] = name === 'set-cookie' ? [value] : value;
    else if (Array.isArray(previous)) previous.push(value);
    else headers[name] = `${previous}, ${value}`;
  }
  return headers as IncomingHttpHeaders;
}
