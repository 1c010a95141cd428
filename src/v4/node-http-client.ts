import http from 'node:http';
import https from 'node:https';
import type { Deadline } from './deadline';
import { outgoingHeaders, UpstreamFailure, type V4ClientOptions, type V4Request, type V4Response, type V4Transport } from './client';

/** Errors of a connection that was never made: the request cannot have reached V4. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * The V4 client of the list's pages: node's own http.request, with the same deadline, size cap
 * and "may this have reached V4" account as the undici client (client.ts). Pages are the large
 * answers (500 users, ~150 KB each), and for them undici cost far more memory than node's client:
 * 400 answers of 150 KB in a bare script ended at 102 MB RSS with undici against 69 MB with
 * node:http (heap and external memory alike: the difference is native), and the 100,000-user
 * list's peak went from under 120 MB to 140 MB (README, Performance). Single-user calls, where
 * undici's lower CPU per call counts, stay on undici.
 */
export class NodeHttpClient implements V4Transport {
  private readonly base: URL;
  private readonly basePath: string;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  /** What node would put in Host for this base URL (it adds none to a request whose headers are a list). */
  private readonly hostHeader: string;
  private readonly port: number;
  private readonly hostname: string;

  constructor(baseUrl: string, private readonly options: V4ClientOptions) {
    this.base = new URL(baseUrl);
    this.basePath = this.base.pathname.replace(/\/+$/, '');
    this.transport = this.base.protocol === 'https:' ? https : http;
    const AgentClass = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.hostHeader = this.base.host;
    this.hostname = this.base.hostname.startsWith('[') ? this.base.hostname.slice(1, -1) : this.base.hostname;
    this.port = this.base.port === '' ? (this.base.protocol === 'https:' ? 443 : 80) : Number(this.base.port);
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
      const req = this.transport.request({
        protocol: this.base.protocol,
        hostname: this.hostname,
        port: this.port,
        method: request.method,
        path: this.basePath + request.path,
        // A flat list: node stores it as it is, without a setHeader per header (README, Performance).
        headers: outgoingHeaders(request, this.hostHeader),
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
