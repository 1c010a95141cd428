import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { createProxyMiddleware, debugProxyErrorsPlugin, proxyEventsPlugin, type Plugin } from 'http-proxy-middleware';
import { GatewayError } from '../errors';
import { UpstreamFailure } from '../v4/client';
import { stateOf, type RequestState } from './request-state';

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

const timedOut = new WeakSet<http.IncomingMessage>();

/** Forwards one call; resolves once the upstream's answer is being streamed or an error answered. */
export type ForwardHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

function requireState(res: http.ServerResponse): RequestState {
  const state = stateOf(res);
  if (state === undefined) throw new Error('forwarder reached without the accept stage');
  return state;
}

/**
 * An unchanged pass-through (V4 endpoints, the legacy backend) with http-proxy-middleware:
 * streamed both ways, keep-alive sockets, never following redirects, a deadline on the
 * upstream's first byte, and failures answered by the gateway's error writer.
 */
export function createPassThrough(options: PassThroughOptions): { handler: ForwardHandler; close: () => void } {
  const secure = options.target.startsWith('https:');
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' })
    : new http.Agent({ keepAlive: true, maxSockets: options.maxSockets, scheduling: 'lifo' });
  const proxy = createProxyMiddleware<http.IncomingMessage, http.ServerResponse>({
    target: options.target,
    changeOrigin: true,
    agent,
    followRedirects: false,
    // The default plugins minus the access logger (the translation log is ours, and the logger
    // plugin's listeners showed in the pass-through's profile: README, Performance). The error plugin
    // keeps sockets' errors from crashing the process; the events plugin wires `on` below.
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin] as Array<Plugin<http.IncomingMessage, http.ServerResponse>>,
    on: {
      proxyReq: (proxyReq, req, res) => {
        const state = requireState(res);
        if (options.isV4) state.record.v4Calls += 1;
        proxyReq.setHeader('x-request-id', state.requestId);
        if (options.isV4 && state.authorization !== null && state.authorization !== req.headers.authorization) {
          proxyReq.setHeader('authorization', state.authorization);
        }
        const timer = setTimeout(() => {
          timedOut.add(req);
          proxyReq.destroy(new Error('upstream timeout'));
        }, options.timeoutMs);
        proxyReq.once('response', (proxyRes) => {
          clearTimeout(timer);
          state.record.v4Status = proxyRes.statusCode;
          options.onResponse?.(req, proxyRes);
        });
        proxyReq.once('close', () => clearTimeout(timer));
      },
      error: (err, req, res) => {
        const response = res as http.ServerResponse | Socket;
        if (!('writeHead' in response)) {
          response.destroy();
          return;
        }
        const state = requireState(response);
        const code = (err as NodeJS.ErrnoException).code ?? err.message;
        if (response.headersSent) {
          state.record.reason = `upstream failed mid-answer: ${code}`;
          response.destroy();
          return;
        }
        const timeout = timedOut.has(req);
        const failure = new UpstreamFailure(timeout ? 'timeout' : 'connect', true, code);
        const error = timeout
          ? new GatewayError('UPSTREAM_TIMEOUT', 'The upstream did not answer in time; try again later.', { detail: code, cause: failure })
          : new GatewayError('UPSTREAM_ERROR', 'The upstream could not be reached or answered badly; try again later.', { detail: code, cause: failure });
        options.writeError(error, req, response);
      },
    },
  });
  // Every call that reaches a forwarder is forwarded (no path filter): there is no next stage
  // to fall through to, so `next` only ever carries a failure to prepare the proxy request.
  const handler: ForwardHandler = (req, res) =>
    proxy(req, res, (err?: unknown) => {
      throw err ?? new Error('http-proxy-middleware declined a call');
    });
  return { handler, close: () => agent.destroy() };
}
