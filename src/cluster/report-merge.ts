// The migration report of a cluster: each worker counts the calls it served; the admin port shows
// their sum, client by client (a client's connections may land on any worker).
import { REPORT_LEGACY_ROUTES, type ClientReport, type MigrationReportJson } from '../observability/migration-report';

const later = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a > b ? a : b);

function mergeClients(a: ClientReport, b: ClientReport): ClientReport {
  const legacyRoutes = { ...a.legacy_routes };
  for (const route of REPORT_LEGACY_ROUTES) legacyRoutes[route] += b.legacy_routes[route];
  const rejections: Record<string, number> = { ...a.rejections };
  for (const [code, count] of Object.entries(b.rejections)) rejections[code] = (rejections[code] ?? 0) + count;
  const legacy = a.legacy_calls + b.legacy_calls;
  const v4 = a.v4_calls + b.v4_calls;
  return {
    credential: a.credential,
    address: a.address,
    // ISO-8601 UTC strings of one format: their order is the order of the times.
    first_seen: a.first_seen < b.first_seen ? a.first_seen : b.first_seen,
    last_seen: a.last_seen > b.last_seen ? a.last_seen : b.last_seen,
    last_legacy_call: later(a.last_legacy_call, b.last_legacy_call),
    calls: a.calls + b.calls,
    legacy_calls: legacy,
    v4_calls: v4,
    other_calls: a.other_calls + b.other_calls,
    legacy_share: legacy + v4 === 0 ? null : Math.round((legacy / (legacy + v4)) * 10_000) / 10_000,
    legacy_routes: legacyRoutes,
    legacy_other: a.legacy_other + b.legacy_other,
    service_rejections: a.service_rejections + b.service_rejections,
    rejections: Object.fromEntries(Object.entries(rejections).sort(([x], [y]) => x.localeCompare(y))),
    errors: a.errors + b.errors,
  };
}

/**
 * One report from the workers' reports: per client (credential and address) the counts summed,
 * first seen the earliest, last seen the latest; overflow summed. `max_clients` stays the bound of
 * each worker (each bounds its own report).
 */
export function mergeReports(reports: readonly MigrationReportJson[], now: Date = new Date()): MigrationReportJson {
  const byClient = new Map<string, ClientReport>();
  for (const report of reports) {
    for (const client of report.clients) {
      const key = JSON.stringify([client.credential, client.address]);
      const seen = byClient.get(key);
      byClient.set(key, seen === undefined ? client : mergeClients(seen, client));
    }
  }
  const clients = [...byClient.values()].sort((a, b) => b.legacy_calls - a.legacy_calls || b.last_seen.localeCompare(a.last_seen));
  const sum = (read: (r: MigrationReportJson) => number): number => reports.reduce((n, r) => n + read(r), 0);
  return {
    generated_at: now.toISOString(),
    since: reports.map((r) => r.since).reduce((a, b) => (a < b ? a : b), now.toISOString()),
    max_clients: reports[0]?.max_clients ?? 0,
    clients_tracked: clients.length,
    overflow: { calls: sum((r) => r.overflow.calls), legacy_calls: sum((r) => r.overflow.legacy_calls), v4_calls: sum((r) => r.overflow.v4_calls) },
    clients,
  };
}
