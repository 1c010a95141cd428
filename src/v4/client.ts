import type http from 'node:http';
import type { Dispatcher } from 'undici';
import type { JsonObject } from '../translation/json';
import type { Deadline } from './deadline';
import { closeUpstream, headersObject, upstreamTarget, type UpstreamTarget } from './upstream-pool';

export type V4Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface V4Request {
  readonly method: V4Method;
  /** Path and query below the V4 base URL, already encoded. */
  readonly path: string;
  /** The call's own headers as a flat `[name, value, …]` list, names in lower case (Host and the framing are the transport's). */
  readonly headers: readonly string[];
  /** The JSON body, encoded once (a read is sent once more as it is; its length is the bytes'). */
  readonly body?: Buffer;
}

export interface V4Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The user parsed out of `body`, once somebody did (api.ts parseUserAnswer): not parsed twice. */
  parsedUser?: JsonObject;
}

/** How a call to V4 failed. `sent` is false only when V4 cannot have seen the request. */
export type UpstreamFailureKind = 'connect' | 'timeout' | 'reset' | 'too_large';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly sent: boolean,
    message: string,
    /**
     * The connection failed after the request went out and before any answer (as a kept-alive
     * socket V4 had already closed does): safe to resend a read.
     */
    readonly staleSocket = false,
  ) {
    super(message);
    this.name = 'UpstreamFailure';
  }
}

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
 * A V4 request's headers as one flat list: Host the target's, no compressed answers
 * (accept-encoding: identity), the body's length.
 */
export function outgoingHeaders(request: V4Request, host: string): string[] {
  const list: string[] = ['host', host];
  const own = request.headers;
  for (let i = 0; i + 1 < own.length; i += 2) {
    const name = own[i] as string;
    if (name === 'host' || name === 'accept-encoding' || name === 'content-length') continue;
    list.push(name, own[i + 1] as string);
  }
  list.push('accept-encoding', 'identity');
  if (request.body !== undefined) list.push('content-length', String(request.body.length));
  return list;
}

/** An answer as received; its headers are made into an object only if somebody reads them (rarely: an error passed on). */
class ReceivedAnswer implements V4Response {
  private parsed: http.IncomingHttpHeaders | null = null;
  parsedUser: JsonObject | undefined = undefined;

  constructor(
    readonly status: number,
    private readonly raw: Buffer[],
    readonly body: Buffer,
  ) {}

  get headers(): http.IncomingHttpHeaders {
    return (this.parsed ??= headersObject(this.raw));
  }
}

/**
 * One call's handler on the undici pool (its `dispatch` API): the whole answer kept, up to the
 * size cap. The call "may have reached V4" from the moment it is dispatched on a connected
 * socket (`onConnect`): a call that fails before that was never sent, one that fails after it
 * may have been (the retry rules depend on it). A class, not closures: one object per call.
 */
class BufferedCall implements Dispatcher.DispatchHandler {
  private abortCall: ((err?: Error) => void) | null = null;
  private sent = false;
  private settled = false;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  readonly timer: NodeJS.Timeout;

  constructor(
    private readonly resolve: (response: V4Response) => void,
    private readonly reject: (err: UpstreamFailure) => void,
    private readonly maxBytes: number,
    remainingMs: number,
  ) {
    this.timer = setTimeout(() => this.fail(new UpstreamFailure('timeout', this.sent, `no answer within ${remainingMs} ms`)), remainingMs);
  }

  onConnect(abort: (err?: Error) => void): void {
    // Timed out while it waited for a socket: it never goes out.
    if (this.settled) {
      abort(new Error('deadline passed before the call was sent'));
      return;
    }
    this.abortCall = abort;
    this.sent = true;
  }

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    if (status < 200) return true; // 1xx: the answer is still to come
    this.status = status;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.fail(new UpstreamFailure('too_large', true, `answer larger than ${this.maxBytes} bytes`));
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const { chunks } = this;
    this.resolve(new ReceivedAnswer(this.status, this.rawHeaders, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size)));
  }

  onError(err: Error): void {
    if (this.settled) return;
    const code = (err as NodeJS.ErrnoException).code ?? err.message;
    if (!this.sent) {
      this.fail(new UpstreamFailure('connect', false, code));
      return;
    }
    // Sent, and the connection failed before any answer: a read may go out once more (a kept-alive
    // socket V4 had closed looks exactly so); once the answer began, it was cut off.
    const beforeAnswer = this.status === 0;
    this.fail(new UpstreamFailure('reset', true, beforeAnswer ? code : 'answer cut off', beforeAnswer));
  }

  private fail(failure: UpstreamFailure): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(failure);
    this.abortCall?.(failure);
  }
}

/**
 * The gateway's HTTP client for translated calls: keep-alive sockets to V4 (bounded, an undici
 * pool: upstream-pool.ts), a hard deadline on every call, a cap on answer size, and an honest
 * account of whether a failed request may have reached V4 (the retry rules depend on it). It
 * never follows redirects.
 */
export class V4Client implements V4Transport {
  private readonly upstream: UpstreamTarget;

  constructor(baseUrl: string, private readonly options: V4ClientOptions) {
    this.upstream = upstreamTarget(baseUrl, options.maxSockets);
  }

  /** `attemptMs`: a shorter limit for this attempt, so that a read can be retried within the deadline. */
  send(request: V4Request, deadline: Deadline, attemptMs?: number): Promise<V4Response> {
    const remaining = Math.min(deadline.remainingMs(), attemptMs ?? Infinity);
    if (remaining <= 0) return Promise.reject(new UpstreamFailure('timeout', false, 'deadline passed before the call'));
    return new Promise<V4Response>((resolve, reject) => {
      const call = new BufferedCall(resolve, reject, this.options.maxResponseBytes, remaining);
      this.upstream.pool.dispatch(
        { path: this.upstream.basePath + request.path, method: request.method, headers: outgoingHeaders(request, this.upstream.host), body: request.body ?? null },
        call,
      );
    });
  }

  close(): void {
    closeUpstream(this.upstream);
  }
}
