import http from 'node:http';
import https from 'node:https';
import type { Deadline } from './deadline';

export type V4Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface V4Request {
  readonly method: V4Method;
  /** Path and query below the V4 base URL, already encoded. */
  readonly path: string;
  readonly headers: http.OutgoingHttpHeaders;
  readonly body?: string;
}

export interface V4Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** How a call to V4 failed. `sent` is false only when V4 cannot have seen the request. */
export type UpstreamFailureKind = 'connect' | 'timeout' | 'reset' | 'too_large';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly sent: boolean,
    message: string,
    /** The request went out on a kept-alive socket that V4 had already closed: safe to resend a read. */
    readonly staleSocket = false,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

/** Errors of a connection that was never made: the request cannot have reached V4. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** How V4Api reaches V4: the real client, or `explain`'s dry run that sends nothing. */
export interface V4Transport {
  /** `attemptMs`: a shorter limit for this attempt, so that a read can be retried within the deadline. */
  send(request: V4Request, deadline: Deadline, attemptMs?: number): Promise<V4Response>;
}

export interface V4ClientOptions {
  readonly maxSockets: number;
  readonly maxResponseBytes: number;
}

/**
 * The gateway's HTTP client for translated calls: keep-alive sockets to V4 (bounded), a hard
 * deadline on every call, a cap on answer size, and an honest account of whether a failed
 * request may have reached V4 (the retry rules depend on it). It never follows redirects.
 */
export class V4Client implements V4Transport {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;

  constructor(baseUrl: string, private readonly options: V4ClientOptions) {
    this.base = new URL(baseUrl);
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.transport = this.base.protocol === 'https:' ? https : http;
    const AgentClass = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new AgentClass({ keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: Math.min(options.maxSockets, 256), scheduling: 'lifo' });
  }

  /** `attemptMs`: a shorter limit for this attempt, so that a read can be retried within the deadline. */
  send(request: V4Request, deadline: Deadline, attemptMs?: number): Promise<V4Response> {
    const remaining = Math.min(deadline.remainingMs(), attemptMs ?? Infinity);
    if (remaining <= 0) return Promise.reject(new UpstreamFailure('timeout', false, 'deadline passed before the call'));
    return new Promise<V4Response>((resolve, reject) => {
      let settled = false;
      const finish = (err: UpstreamFailure | null, response?: V4Response): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err !== null) reject(err);
        else resolve(response as V4Response);
      };
      const headers: http.OutgoingHttpHeaders = { ...request.headers, 'accept-encoding': 'identity' };
      if (request.body !== undefined) headers['content-length'] = Buffer.byteLength(request.body);
      const req = this.transport.request({
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method: request.method,
        path: this.basePath + request.path,
        headers,
        agent: this.agent,
      });
      // Whether V4 can have seen the request is read off the socket when something fails, rather
      // than tracked with listeners on every call: a socket still connecting never sent a byte.
      const timer = setTimeout(() => {
        finish(new UpstreamFailure('timeout', req.reusedSocket || (req.socket !== null && !req.socket.connecting), `no answer within ${remaining} ms`));
        req.destroy();
      }, remaining);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const notSent = !req.reusedSocket && NEVER_CONNECTED.has(err.code ?? '');
        const stale = req.reusedSocket && err.code === 'ECONNRESET';
        finish(new UpstreamFailure(notSent ? 'connect' : 'reset', !notSent, err.code ?? err.message, stale));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.options.maxResponseBytes) {
            finish(new UpstreamFailure('too_large', true, `answer larger than ${this.options.maxResponseBytes} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) });
        });
        res.on('error', () => finish(new UpstreamFailure('reset', true, 'answer cut off')));
        res.on('close', () => {
          if (!res.complete) finish(new UpstreamFailure('reset', true, 'answer cut off'));
        });
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
