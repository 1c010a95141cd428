// What every simulator of the project offers its tests: an HTTP server on a port of its choice,
// the requests it received, in order, and a fault table (delay, status, garbage, reset, hang,
// huge) applied to the requests that match.
import type { SimAnswer, SimRequest } from './exchange';
import { SimulatorHttpServer } from './server';
import { FaultTable } from './fault-table';
import { parseQueryPairs } from './query';
import type { FaultKind, FaultRule, RecordedRequest } from './types';

export abstract class RecordingSimulator {
  protected readonly faults = new FaultTable();
  protected recorded: RecordedRequest[] = [];

  private http: SimulatorHttpServer | undefined;

  /** Sets up the HTTP side (once, from the constructor): `route` answers each request. */
  protected serve(bodyLimitBytes: number, record: boolean | undefined, route: (req: SimRequest) => SimAnswer): void {
    this.http = new SimulatorHttpServer({
      bodyLimitBytes,
      faults: this.faults,
      record: record === false ? undefined : (req) => this.recorded.push(toRecorded(req)),
      route,
    });
  }

  private server(): SimulatorHttpServer {
    if (this.http === undefined) throw new Error('the simulator set up no HTTP server');
    return this.http;
  }

  /** Resolves to the base url, e.g. http://127.0.0.1:12345. */
  start(port = 0, host = '127.0.0.1'): Promise<string> {
    return this.server().start(port, host);
  }

  /** Closes the server and every open connection (also hanging ones). */
  stop(): Promise<void> {
    return this.server().stop();
  }

  /** Throws if not started. */
  get url(): string {
    return this.server().url;
  }

  /** Every request received (also rejected ones), in arrival order. */
  get requests(): RecordedRequest[] {
    return this.recorded;
  }

  /** Starts a new list; an array obtained from `requests` before keeps its contents. */
  clearRequests(): void {
    this.recorded = [];
  }

  requestsMatching(method: string, pathPrefix = ''): RecordedRequest[] {
    const m = method.toUpperCase();
    return this.recorded.filter((r) => r.method === m && r.path.startsWith(pathPrefix));
  }

  addFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  /** Requests each kind of fault was applied to so far. */
  faultsApplied(): Readonly<Record<FaultKind, number>> {
    return { ...this.faults.applied };
  }

  clearFaults(): void {
    this.faults.clear();
  }
}

function toRecorded(req: SimRequest): RecordedRequest {
  let body: unknown;
  if (req.rawBody !== '') {
    try {
      body = JSON.parse(req.rawBody);
    } catch {
      body = undefined;
    }
  }
  return { method: req.method, url: req.url, path: req.path, query: parseQueryPairs(req.rawQuery, true), headers: req.headers, rawBody: req.rawBody, body };
}
