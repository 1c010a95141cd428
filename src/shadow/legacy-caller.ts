// The shadow of v4-primary mode: the same legacy call, sent to the legacy backend
// (LEGACY_BASE_URL), with the shadow's deadline, its answer read whole (bounded) and parsed as
// JSON. Keep-alive sockets, bounded in number; redirects never followed; only reads are sent.
import http from 'node:http';
import https from 'node:https';
import { ShadowFailure, type ShadowAnswer } from './types';
import type { JsonValue } from '../translation/json';

export const DEFAULT_MAX_SHADOW_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface LegacyShadowRequest {
  /** Only reads are shadowed: a write is never sent twice to anything. */
  readonly method: 'GET';
  /** The legacy path and query exactly as the client sent them (`/api/management/user/jane%40example.com`). */
  readonly pathAndQuery: string;
  /** Headers to send (e.g. `x-request-id`); nothing is added but `accept`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LegacyShadowCallerOptions {
  readonly maxSockets?: number;
  readonly maxResponseBytes?: number;
}

export class LegacyShadowCaller {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly maxResponseBytes: number;

  constructor(baseUrl: string, options: LegacyShadowCallerOptions = {}) {
    this.base = new URL(baseUrl);
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new TypeError('The legacy base URL must be http:// or https://.');
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_SHADOW_RESPONSE_BYTES;
  }

  /** Rejects with a ShadowFailure (timeout, reset, connect, invalid_answer, too_large); never for a 4xx/5xx, which is an answer. */
  call(request: LegacyShadowRequest, signal: AbortSignal): Promise<ShadowAnswer> {
    if (request.method !== 'GET') return Promise.reject(new ShadowFailure('error', 'only reads are shadowed'));
    if (!request.pathAndQuery.startsWith('/')) return Promise.reject(new ShadowFailure('error', 'the path must start with /'));
    const prefix = this.base.pathname.replace(/\/+$/, '');
    const transport = this.base.protocol === 'https:' ? https : http;
    return new Promise<ShadowAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(new ShadowFailure('timeout', 'aborted before it was sent'));
      const req = transport.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[|\]$/g, ''),
          port: this.base.port,
          method: 'GET',
          path: prefix + request.pathAndQuery,
          headers: { ...request.headers, accept: 'application/json' },
          agent: this.agent,
          signal,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > this.maxResponseBytes) {
              res.destroy();
              reject(new ShadowFailure('too_large', `the answer is over ${this.maxResponseBytes} bytes`));
            } else chunks.push(chunk);
          });
          res.on('error', (error) => reject(asFailure(error, signal)));
          res.on('aborted', () => reject(new ShadowFailure('reset', 'the answer was cut off')));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400) return reject(new ShadowFailure('invalid_answer', `a redirect (${status})`));
            const text = Buffer.concat(chunks).toString('utf8');
            if (text === '') return resolve({ status, body: undefined });
            let body: JsonValue;
            try {
              body = JSON.parse(text) as JsonValue;
            } catch {
              return reject(new ShadowFailure('invalid_answer', 'the answer is not JSON'));
            }
            resolve({ status, body });
          });
        },
      );
      req.on('error', (error) => reject(asFailure(error, signal)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function asFailure(error: Error & { code?: string }, signal: AbortSignal): ShadowFailure {
  if (signal.aborted || error.name === 'AbortError') return new ShadowFailure('timeout', 'aborted at the deadline');
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND' || error.code === 'EHOSTUNREACH') return new ShadowFailure('connect', `could not connect (${error.code})`);
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.message === 'socket hang up') return new ShadowFailure('reset', 'connection reset');
  return new ShadowFailure('error', error.message);
}
