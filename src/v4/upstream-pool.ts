import type { IncomingHttpHeaders } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import type { Pool as PoolType } from 'undici';

/*
 * Memory (README, Performance: "undici and the list's memory"):
 * - undici parses HTTP with llhttp compiled to WebAssembly. V8 runs WebAssembly with its
 *   baseline compiler (Liftoff) and re-compiles hot functions with TurboFan in the background;
 *   that compilation of undici's parser took ~30 MB of memory for a moment (a script: peak RSS
 *   113 MB against 82 MB with Liftoff only; the gateway's 10,000-user list: 135 against 108 MB),
 *   which is most of a sidecar's memory budget. So WebAssembly stays on Liftoff, in this process,
 *   before undici compiles anything: measured at 2–5 % of a translated call's CPU.
 * - Only undici's Pool is loaded (its package index loads fetch, WebSocket, caches and mocks
 *   too: 20 MB of RSS against 11 MB). undici 7 has no exports map; upgrades are caught by the
 *   tests, which all go through this import.
 */
setFlagsFromString('--liftoff-only');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- one file of undici, typed by its package's own types
const Pool = require('undici/lib/dispatcher/pool.js') as typeof PoolType;

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
  readonly pool: PoolType;
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
