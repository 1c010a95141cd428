// What every simulator of the project offers its tests: the requests it received, in order, and
// a fault table (delay, status, garbage, reset, hang, huge) applied to the requests that match.
import type { SimRequest } from './exchange';
import { FaultTable } from './fault-table';
import { parseQueryPairs } from './query';
import type { FaultKind, FaultRule, RecordedRequest } from './types';

export abstract class RecordingSimulator {
  protected readonly faults = new FaultTable();
  protected recorded: RecordedRequest[] = [];

  /** What the HTTP server calls with each request; undefined when recording is off. */
  protected recorder(record: boolean | undefined): ((req: SimRequest) => void) | undefined {
    return record === false ? undefined : (req) => this.recorded.push(toRecorded(req));
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
