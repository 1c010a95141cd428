import type http from 'node:http';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors';
import { UpstreamFailure } from '../v4/client';
import { closeUpstream, headersObject, rawHeaderStrings, upstreamTarget, type UpstreamTarget } from '../v4/upstream-pool';
import { stateOf, type RequestState } from './request-state';
import { answerHeaders, requestHeaders } from './pass-through-headers';

export interface PassThroughOptions {
  readonly target: string;
  /** Deadline for the upstream's answer to begin. */
  readonly timeoutMs: number;
  readonly maxSockets: number;
  /**
   * The upstream is V4: its calls count in the log's v4_calls, and a caller without its own
   * Authorization gets the one the accept stage chose (the configured key). The legacy backend
   * gets the request as it came.
   */
  readonly isV4: boolean;
  /**
   * Told about the upstream's answer as it begins to stream to the client (the shadow
   * comparison's legacy-primary mode); a tap it returns sees the body as it passes.
   */
  readonly onResponse?: (req: http.IncomingMessage, status: number, headers: http.IncomingHttpHeaders) => AnswerTap | null;
  /** The gateway's one error writer: a failed upstream is answered as every other error is. */
  readonly writeError: (err: unknown, req: http.IncomingMessage, res: http.ServerResponse) => void;
}

/** Sees an upstream answer's body as it is passed on. */
export interface AnswerTap {
  data(chunk: Buffer): void;
  end(): void;
}

/** Forwards one call; resolves once the upstream request is under way (its outcome is answered by the forwarder itself). */
export type ForwardHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

function requireState(res: http.ServerResponse): RequestState {
  const state = stateOf(res);
  if (state === undefined) throw new Error('forwarder reached without the accept stage');
  return state;
}

/**
 * The upstream path: the target's own path, then the request's, with runs of slashes made one
 * (as http-proxy joined them, which the gateway used before: README, Performance).
 */
export function upstreamPath(basePath: string, url: string): string {
  const q = url.indexOf('?');
  const path = basePath + (q === -1 ? url : url.slice(0, q));
  const joined = path.includes('//') ? path.replace(/\/{2,}/g, '/') : path;
  return q === -1 ? joined : joined + url.slice(q);
}

/** Whether the request carries a body to stream (a length above zero, or chunks). */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** Methods whose repetition changes nothing: a failed call of any other may have been applied. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function upstreamFailed(timedOut: boolean, code: string, method: string, sent: boolean): GatewayError {
  const failure = new UpstreamFailure(timedOut ? 'timeout' : 'connect', sent, code);
  // A write that may have reached the upstream is never "just try again": it may be applied.
  const outcomeUnknown = sent && !SAFE_METHODS.has(method);
  const unknown = outcomeUnknown ? ' The change may or may not have been applied: read before repeating it.' : '';
  const detail = outcomeUnknown ? `${code}; the write may have been applied (outcome unknown)` : code;
  return timedOut
    ? new GatewayError('UPSTREAM_TIMEOUT', `The upstream did not answer in time; try again later.${unknown}`, { detail, cause: failure, outcomeUnknown })
    : new GatewayError('UPSTREAM_ERROR', `The upstream could not be reached or answered badly; try again later.${unknown}`, { detail, cause: failure, outcomeUnknown });
}

interface ForwardContext {
  readonly upstream: UpstreamTarget;
  readonly options: PassThroughOptions;
}

/**
 * One forwarded call on the undici pool (its `dispatch` API), streamed both ways. One timer per
 * call: the deadline for the upstream's first byte, then, refreshed by every chunk, for the body
 * not to stall. The call may have reached the upstream from the moment it is dispatched on a
 * connected socket (`onConnect`). A class, not closures: one object per call.
 */
class ForwardedCall implements Dispatcher.DispatchHandler {
  private abortCall: ((err?: Error) => void) | null = null;
  private sent = false;
  private answered = false;
  private timedOut = false;
  /** Answered by the gateway (a timeout before the call went out) or left by the client: done. */
  private over = false;
  private tap: AnswerTap | null = null;
  /** undici's: reads the upstream again after the client drained what was written. */
  private resume: (() => void) | null = null;
  private readonly drained = (): void => this.resume?.();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly context: ForwardContext,
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly state: RequestState,
  ) {
    this.timer = setTimeout(ForwardedCall.timeUp, context.options.timeoutMs, this);
    // The client left before its answer was complete: nothing to answer, the upstream call ends.
    res.once('close', () => {
      if (res.writableFinished) return;
      this.over = true;
      clearTimeout(this.timer);
      this.abortCall?.(new Error('client gone'));
    });
  }

  private static timeUp(call: ForwardedCall): void {
    call.timedOut = true;
    if (call.abortCall !== null) {
      call.abortCall(new Error('upstream timeout'));
      return;
    }
    // Still waiting for a socket: it never goes out (onConnect aborts it), and is answered now.
    call.over = true;
    call.context.options.writeError(upstreamFailed(true, 'upstream timeout', call.req.method ?? 'GET', false), call.req, call.res);
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.over) {
      abort(new Error(this.timedOut ? 'upstream timeout' : 'client gone'));
      return;
    }
    this.abortCall = abort;
    this.sent = true;
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx: the answer is still to come
    const { res, state, context } = this;
    this.timer.refresh();
    this.answered = true;
    // The legacy backend's status is not V4's: it must not count as a V4 5xx.
    if (context.options.isV4) state.record.v4Status = status;
    const { onResponse } = context.options;
    if (onResponse !== undefined) this.tap = onResponse(this.req, status, headersObject(rawHeaders));
    if (this.clientGone()) return false;
    const headers = answerHeaders(rawHeaderStrings(rawHeaders), state.ownHeaders);
    // The upstream answered before the request body was all in: undici then ends the request
    // stream, and node's server cannot read that connection again. Close it after this answer,
    // or the client's next request on it would wait for nothing.
    if (!this.req.complete) headers.push('connection', 'close');
    res.writeHead(status, statusText, headers);
    this.resume = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.timer.refresh();
    this.tap?.data(chunk);
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.drained);
    return false;
  }

  onComplete(): void {
    clearTimeout(this.timer);
    this.tap?.end();
    this.res.end();
  }

  onError(err: Error): void {
    clearTimeout(this.timer);
    if (this.over || this.clientGone()) return;
    const code = this.timedOut ? (this.answered ? 'upstream stalled mid-answer' : 'upstream timeout') : ((err as NodeJS.ErrnoException).code ?? err.message);
    if (this.answered || this.res.headersSent) {
      // A failure after the answer began: cut the client's connection (a truncated answer must
      // not pass for a whole one).
      if (this.res.writableFinished || this.res.destroyed) return;
      this.state.record.reason = `upstream failed mid-answer: ${code}`;
      this.res.destroy();
      return;
    }
    this.context.options.writeError(upstreamFailed(this.timedOut, code, this.req.method ?? 'GET', this.sent), this.req, this.res);
  }

  private clientGone(): boolean {
    return this.res.destroyed && !this.res.writableFinished;
  }
}

/**
 * An unchanged pass-through (V4 endpoints, the legacy backend): the request is streamed to a
 * keep-alive pool (upstream-pool.ts) and the answer streamed back, with its status and headers
 * (hop-by-hop ones left out both ways). Never follows redirects. A deadline on the upstream's
 * first byte and on a stalled body; a failure before the answer began is answered by the
 * gateway's error writer (502/504), one after it cuts the client's connection (a truncated
 * answer must not pass for a whole one); a client that leaves ends the upstream request.
 */
export function createPassThrough(options: PassThroughOptions): { handler: ForwardHandler; close: () => void } {
  const upstream = upstreamTarget(options.target, options.maxSockets);
  const context: ForwardContext = { upstream, options };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const state = requireState(res);
    const withBody = hasBody(req);
    const headers = requestHeaders(req, { host: upstream.host, requestId: state.requestId, authorization: options.isV4 ? state.authorization : null });
    if (options.isV4) state.record.v4Calls += 1;
    const call = new ForwardedCall(context, req, res, state);
    upstream.pool.dispatch(
      { path: upstreamPath(upstream.basePath, req.url ?? '/'), method: (req.method ?? 'GET') as Dispatcher.HttpMethod, headers, body: withBody ? req : null },
      call,
    );
  };

  const handler: ForwardHandler = (req, res) => {
    forward(req, res);
    return Promise.resolve();
  };
  return { handler, close: () => closeUpstream(upstream) };
}
