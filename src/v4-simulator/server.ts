// The HTTP side: one request goes through these phases, in this order:
//   read body (bounded) → record → fault (first matching rule) → route → write answer.
// Recording comes before faults so tests see every request, also the ones a fault swallowed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody } from './errors';
import { JSON_TYPE, splitUrl, type SimAnswer, type SimRequest } from './exchange';
import { garbageAnswer, statusAnswer, streamHuge } from './fault-actions';
import type { FaultTable } from './fault-table';
import { readBody } from './read-body';
import type { FaultRule } from './types';

/** Longer than the usual 60 s idle timeout of client pools, so the client closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface ServerDeps {
  bodyLimitBytes: number;
  faults: FaultTable;
  /** Absent when recording is off. */
  record: ((req: SimRequest) => void) | undefined;
  route: (req: SimRequest) => SimAnswer;
}

export class SimulatorHttpServer {
  private server: Server | undefined;
  private baseUrl: string | undefined;
  /** Pending delay faults, cancelled on stop() so nothing fires after it. */
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: ServerDeps) {}

  get url(): string {
    if (this.baseUrl === undefined) throw new Error('The V4 simulator is not started.');
    return this.baseUrl;
  }

  async start(port: number, host: string): Promise<string> {
    if (this.server !== undefined) throw new Error('The V4 simulator is already started.');
    const server = createServer((req, res) => this.onRequest(req, res));
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000; // must exceed keepAliveTimeout
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.server = undefined;
      throw error;
    }
    const { port: actual } = server.address() as AddressInfo;
    this.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.baseUrl = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Also ends hanging, streaming and keep-alive connections, which close() alone waits for.
    server.closeAllConnections();
    await closed;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    readBody(req, this.deps.bodyLimitBytes, ({ rawBody, oversized }) => {
      const url = req.url ?? '/';
      const sim: SimRequest = { method: req.method ?? 'GET', url, ...splitUrl(url), headers: req.headers, rawBody, oversized };
      this.deps.record?.(sim);
      const fault = this.deps.faults.take(sim.method, sim.path);
      if (fault === undefined) send(res, this.answer(sim));
      else this.applyFault(fault, sim, req, res);
    });
  }

  private applyFault(rule: FaultRule, sim: SimRequest, req: IncomingMessage, res: ServerResponse): void {
    switch (rule.kind) {
      case 'delay': {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          send(res, this.answer(sim)); // applied even if the client gave up meanwhile, like a slow real server
        }, rule.delayMs);
        this.timers.add(timer);
        return;
      }
      case 'status':
        if (rule.afterApply === true) this.answer(sim);
        send(res, statusAnswer(rule));
        return;
      case 'reset':
        if (rule.afterApply === true) this.answer(sim);
        req.socket.destroy();
        return;
      case 'garbage':
        send(res, garbageAnswer(rule));
        return;
      case 'huge':
        streamHuge(res, rule);
        return;
      case 'hang':
        return; // never answered; stop() closes the socket
    }
  }

  /** Route, turning a bug in the simulator into a visible 500 instead of a dropped request. */
  private answer(sim: SimRequest): SimAnswer {
    try {
      return this.deps.route(sim);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { status: 500, headers: { 'content-type': JSON_TYPE }, body: errorBody('INTERNAL_ERROR', `Simulator bug: ${message}`) };
    }
  }
}

function send(res: ServerResponse, answer: SimAnswer): void {
  if (res.destroyed) return;
  const headers = answer.headers;
  if (answer.status !== 204) headers['content-length'] = String(Buffer.byteLength(answer.body));
  res.writeHead(answer.status, headers);
  res.end(answer.body);
}
