import http from 'node:http';
import https from 'node:https';
import { GatewayError } from '../errors';
import { UpstreamFailure } from '../v4/client';
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
  /** Told about the upstream's answer as it begins to stream to the client (the shadow comparison's legacy-primary mode). */
  readonly onResponse?: (req: http.IncomingMessage, answer: http.IncomingMessage) => void;
  /** The gateway's one error writer: a failed upstream is answered as every other error is. */
  readonly writeError: (err: unknown, req: http.IncomingMessage, res: http.ServerResponse) => void;
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

/**
 * An unchanged pass-through (V4 endpoints, the legacy backend), written on node:http: the request
 * is piped to a keep-alive agent and the answer piped back, with its status and headers (hop-by-hop
 * ones left out both ways). Never follows redirects. A deadline on the upstream's first byte;
 * a failure before it is answered by the gateway's error writer (502/504), one after it cuts the
 * client's connection (a truncated answer must not pass for a whole one); a client that leaves
 * ends the upstream request.
 */
export function createPassThrough(options: PassThroughOptions): { handler: ForwardHandler; close: () => void } {
  const target = new URL(options.target);
  const secure = target.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' })
    : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' });
  const basePath = target.pathname.replace(/\/+$/, '');
  const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
  const port = target.port === '' ? (secure ? 443 : 80) : Number(target.port);
  const { isV4, timeoutMs, onResponse, writeError } = options;

  const forward = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const state = requireState(res);
    const withBody = hasBody(req);
    const out = transport.request({
      hostname,
      port,
      method: req.method,
      path: upstreamPath(basePath, req.url ?? '/'),
      // An array: node stores it as it is, without a setHeader per header.
      headers: requestHeaders(req, { host: target.host, requestId: state.requestId, authorization: isV4 ? state.authorization : null, withBody }),
      agent,
    });
    if (isV4) state.record.v4Calls += 1;
    let timedOut = false;
    let answered = false;
    const timer = setTimeout(() => {
      timedOut = true;
      out.destroy(new Error('upstream timeout'));
    }, timeoutMs);

    // The client left before its answer was complete: nothing to answer, the upstream call ends.
    const clientGone = (): boolean => res.destroyed && !res.writableFinished;
    res.once('close', () => {
      if (!res.writableFinished) out.destroy();
    });

    const cutMidAnswer = (code: string): void => {
      if (res.writableFinished || res.destroyed) return;
      state.record.reason = `upstream failed mid-answer: ${code}`;
      res.destroy();
    };

    out.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (clientGone()) return;
      const code = timedOut ? 'upstream timeout' : (err.code ?? err.message);
      if (answered || res.headersSent) cutMidAnswer(code);
      // Whether the request can have reached the upstream: read off the socket, as the V4 client does.
      else writeError(upstreamFailed(timedOut, code, req.method ?? 'GET', out.reusedSocket || (out.socket !== null && !out.socket.connecting)), req, res);
    });

    out.once('response', (answer) => {
      clearTimeout(timer);
      answered = true;
      const status = answer.statusCode ?? 502;
      // The legacy backend's status is not V4's: it must not count as a V4 5xx.
      if (isV4) state.record.v4Status = status;
      onResponse?.(req, answer);
      if (clientGone()) {
        answer.destroy();
        return;
      }
      res.writeHead(status, answer.statusMessage, answerHeaders(answer.rawHeaders, res));
      // The body has its deadline too: an upstream that stalls mid-answer is cut, not waited for.
      answer.setTimeout(timeoutMs, () => {
        cutMidAnswer('upstream stalled mid-answer');
        answer.destroy();
      });
      // Cut mid-answer (the upstream's socket closed before the end): cut the client's too.
      answer.once('close', () => {
        if (!answer.complete) cutMidAnswer('ECONNRESET');
      });
      answer.pipe(res);
    });

    if (withBody) req.pipe(out);
    else out.end();
  };

  const handler: ForwardHandler = (req, res) => {
    forward(req, res);
    return Promise.resolve();
  };
  return { handler, close: () => agent.destroy() };
}
