import type { RequestState } from '../http/request-state';

/** The legacy routes, in the order of the report's columns. */
export const REPORT_LEGACY_ROUTES = ['list-users', 'get-user', 'create-user', 'update-user', 'delete-user'] as const;
type LegacyRoute = (typeof REPORT_LEGACY_ROUTES)[number];

/** Where a route's calls are counted: a legacy route's own column, or one of the groups. */
const LEGACY_OTHER = REPORT_LEGACY_ROUTES.length; // OPTIONS and 405s on legacy paths
const V4 = LEGACY_OTHER + 1; // v4-passthrough
const OTHER = V4 + 1; // legacy-backend, unknown-route
const COLUMNS = OTHER + 1;

const COLUMN_OF: ReadonlyMap<string, number> = new Map<string, number>([
  ...REPORT_LEGACY_ROUTES.map((route, index): [string, number] => [route, index]),
  ['legacy-options', LEGACY_OTHER],
  ['legacy-method-not-allowed', LEGACY_OTHER],
  ['v4-passthrough', V4],
]);

export const DEFAULT_MAX_CLIENTS = 10_000;

interface ClientEntry {
  readonly credential: string | null;
  readonly address: string;
  readonly firstSeen: number;
  lastSeen: number;
  lastLegacy: number | null;
  /** Calls by column: the five legacy routes, LEGACY_OTHER, V4, OTHER. */
  readonly calls: number[];
  serviceRejections: number;
  /** Gateway-made 4xx answers by error code (service rejections included). */
  readonly rejections: Map<string, number>;
  errors: number;
}

export interface ClientReport {
  /** Fingerprint of the credentials the client's calls went to V4 with; null: refused before credentials were known. */
  readonly credential: string | null;
  readonly address: string;
  readonly first_seen: string;
  readonly last_seen: string;
  /** The client's latest call to a legacy path; null if it made none since the report began. */
  readonly last_legacy_call: string | null;
  readonly calls: number;
  readonly legacy_calls: number;
  readonly v4_calls: number;
  readonly other_calls: number;
  /** legacy_calls / (legacy_calls + v4_calls), to 4 places; null when both are 0. */
  readonly legacy_share: number | null;
  readonly legacy_routes: Record<LegacyRoute, number>;
  /** OPTIONS and disallowed methods on legacy paths. */
  readonly legacy_other: number;
  readonly service_rejections: number;
  readonly rejections: Record<string, number>;
  /** Answers with a 5xx status (the gateway's 502/504 or V4's own 5xx). */
  readonly errors: number;
}

export interface MigrationReportJson {
  readonly generated_at: string;
  /** When counting began: the gateway's start (the report is in memory and reset on restart). */
  readonly since: string;
  readonly max_clients: number;
  readonly clients_tracked: number;
  /** Calls of clients that arrived once the report was full: counted here only. */
  readonly overflow: { readonly calls: number; readonly legacy_calls: number; readonly v4_calls: number };
  /** Most legacy calls first, then the most recently seen. */
  readonly clients: ClientReport[];
}

/**
 * Who still calls the legacy API: per client (credential fingerprint and address), calls by
 * legacy route, service rejections, other rejections, errors, first and last seen, and the share
 * of its calls that were legacy rather than V4 pass-through. In memory, reset on restart, and
 * bounded: past `maxClients` no new client is added (the ones already there keep counting, so
 * a client's figures are never lost to eviction); the calls of the clients left out are counted
 * in `overflow`. Calls refused with 403 (outside ALLOW_CIDRS) are not counted: they are not
 * clients of the gateway, and must not be able to fill the report.
 */
export class MigrationReport {
  private readonly clients = new Map<string, Map<string, ClientEntry>>();
  private size = 0;
  private readonly overflow = { calls: 0, legacy: 0, v4: 0 };
  private readonly since: number;
  private readonly now: () => number;
  readonly maxClients: number;

  constructor(options: { maxClients?: number; now?: () => number } = {}) {
    this.maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
    this.now = options.now ?? Date.now;
    this.since = this.now();
  }

  get clientCount(): number {
    return this.size;
  }

  get overflowCalls(): number {
    return this.overflow.calls;
  }

  /** The CallObserver: map lookups and increments only. */
  readonly observe = (state: RequestState, legacyStatus: number, _completed: boolean): void => {
    const record = state.record;
    if (record.route === 'forbidden') return;
    const column = COLUMN_OF.get(record.route) ?? OTHER;
    const entry = this.entryFor(state.credential ?? '', state.clientAddress);
    if (entry === null) {
      this.overflow.calls += 1;
      if (column <= LEGACY_OTHER) this.overflow.legacy += 1;
      else if (column === V4) this.overflow.v4 += 1;
      return;
    }
    const now = this.now();
    entry.lastSeen = now;
    if (column <= LEGACY_OTHER) entry.lastLegacy = now;
    entry.calls[column] = (entry.calls[column] ?? 0) + 1;
    if (legacyStatus >= 500) entry.errors += 1;
    else if (record.errorCode !== undefined) {
      entry.rejections.set(record.errorCode, (entry.rejections.get(record.errorCode) ?? 0) + 1);
      if (record.errorCode === 'SERVICE_PARAMETER_REMOVED') entry.serviceRejections += 1;
    }
  };

  private entryFor(credential: string, address: string): ClientEntry | null {
    let byAddress = this.clients.get(credential);
    const found = byAddress?.get(address);
    if (found !== undefined) return found;
    if (this.size >= this.maxClients) return null;
    if (byAddress === undefined) {
      byAddress = new Map();
      this.clients.set(credential, byAddress);
    }
    const now = this.now();
    const entry: ClientEntry = {
      credential: credential === '' ? null : credential,
      address,
      firstSeen: now,
      lastSeen: now,
      lastLegacy: null,
      calls: new Array<number>(COLUMNS).fill(0),
      serviceRejections: 0,
      rejections: new Map(),
      errors: 0,
    };
    byAddress.set(address, entry);
    this.size += 1;
    return entry;
  }

  toJson(): MigrationReportJson {
    const clients: ClientReport[] = [];
    for (const byAddress of this.clients.values()) for (const entry of byAddress.values()) clients.push(clientReport(entry));
    clients.sort((a, b) => b.legacy_calls - a.legacy_calls || b.last_seen.localeCompare(a.last_seen));
    return {
      generated_at: new Date(this.now()).toISOString(),
      since: new Date(this.since).toISOString(),
      max_clients: this.maxClients,
      clients_tracked: this.size,
      overflow: { calls: this.overflow.calls, legacy_calls: this.overflow.legacy, v4_calls: this.overflow.v4 },
      clients,
    };
  }

  /** One row per client, the columns of the JSON flattened (rejections as `CODE=n;CODE=n`). */
  toCsv(): string {
    return reportCsv(this.toJson());
  }
}

/** The CSV of a report: also of one merged from several workers (src/cluster/report-merge.ts). */
export function reportCsv(report: MigrationReportJson): string {
  const header = [
    'credential',
    'address',
    'first_seen',
    'last_seen',
    'last_legacy_call',
    'calls',
    'legacy_calls',
    'v4_calls',
    'other_calls',
    'legacy_share',
    ...REPORT_LEGACY_ROUTES,
    'legacy_other',
    'service_rejections',
    'rejections',
    'errors',
  ];
  const rows = [header.join(',')];
  for (const client of report.clients) {
    const fields: Array<string | number | null> = [
      client.credential,
      client.address,
      client.first_seen,
      client.last_seen,
      client.last_legacy_call,
      client.calls,
      client.legacy_calls,
      client.v4_calls,
      client.other_calls,
      client.legacy_share,
      ...REPORT_LEGACY_ROUTES.map((route) => client.legacy_routes[route]),
      client.legacy_other,
      client.service_rejections,
      Object.entries(client.rejections)
        .map(([code, count]) => `${code}=${count}`)
        .join(';'),
      client.errors,
    ];
    rows.push(fields.map(csvField).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}


function clientReport(entry: ClientEntry): ClientReport {
  const count = (column: number): number => entry.calls[column] ?? 0;
  const legacyRoutes = Object.fromEntries(REPORT_LEGACY_ROUTES.map((route, index) => [route, count(index)])) as Record<LegacyRoute, number>;
  let legacy = 0;
  for (let column = 0; column <= LEGACY_OTHER; column += 1) legacy += count(column);
  const v4 = count(V4);
  const other = count(OTHER);
  const rejections = Object.fromEntries([...entry.rejections.entries()].sort(([a], [b]) => a.localeCompare(b)));
  return {
    credential: entry.credential,
    address: entry.address,
    first_seen: new Date(entry.firstSeen).toISOString(),
    last_seen: new Date(entry.lastSeen).toISOString(),
    last_legacy_call: entry.lastLegacy === null ? null : new Date(entry.lastLegacy).toISOString(),
    calls: legacy + v4 + other,
    legacy_calls: legacy,
    v4_calls: v4,
    other_calls: other,
    legacy_share: legacy + v4 === 0 ? null : Math.round((legacy / (legacy + v4)) * 10_000) / 10_000,
    legacy_routes: legacyRoutes,
    legacy_other: count(LEGACY_OTHER),
    service_rejections: entry.serviceRejections,
    rejections,
    errors: entry.errors,
  };
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; null is empty. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
