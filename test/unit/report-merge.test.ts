// The cluster's migration report: the workers' reports merged client by client.
import { mergeReports } from '../../src/cluster/report-merge';
import { MigrationReport, reportCsv, type MigrationReportJson } from '../../src/observability/migration-report';
import type { RequestState } from '../../src/http/request-state';

/** A report with `calls` calls of one route from one client, at times t0, t0+1, ... */
function reportOf(credential: string, address: string, route: string, calls: number, t0: number, errorCode?: string): MigrationReportJson {
  let t = t0;
  const report = new MigrationReport({ now: () => t });
  for (let i = 0; i < calls; i++) {
    t = t0 + i;
    const state = { credential, clientAddress: address, record: { route, errorCode } } as unknown as RequestState;
    report.observe(state, errorCode === undefined ? 200 : 400, true);
  }
  return report.toJson();
}

describe('mergeReports', () => {
  it('sums a client seen by two workers, keeps the earliest first and latest last sighting, recomputes the share', () => {
    const a = reportOf('cred-1', '10.0.0.1', 'get-user', 3, 1_000);
    const b = reportOf('cred-1', '10.0.0.1', 'v4-passthrough', 1, 5_000);
    const merged = mergeReports([a, b], new Date(9_000));
    expect(merged.clients_tracked).toBe(1);
    expect(merged.clients[0]).toMatchObject({
      credential: 'cred-1',
      calls: 4,
      legacy_calls: 3,
      v4_calls: 1,
      legacy_share: 0.75,
      first_seen: new Date(1_000).toISOString(),
      last_seen: new Date(5_000).toISOString(),
      last_legacy_call: new Date(1_002).toISOString(),
      legacy_routes: { 'get-user': 3 },
    });
  });

  it('keeps different clients apart, sums rejections by code, and orders by legacy calls', () => {
    const a = reportOf('cred-1', '10.0.0.1', 'update-user', 2, 1_000, 'SERVICE_PARAMETER_REMOVED');
    const b = reportOf('cred-2', '10.0.0.2', 'get-user', 5, 2_000);
    const c = reportOf('cred-1', '10.0.0.1', 'update-user', 1, 3_000, 'SERVICE_PARAMETER_REMOVED');
    const merged = mergeReports([a, b, c]);
    expect(merged.clients.map((x) => [x.credential, x.legacy_calls])).toEqual([
      ['cred-2', 5],
      ['cred-1', 3],
    ]);
    expect(merged.clients[1]).toMatchObject({ service_rejections: 3, rejections: { SERVICE_PARAMETER_REMOVED: 3 } });
    expect(reportCsv(merged).trim().split('\r\n')).toHaveLength(3);
  });

  it('of one report is that report (apart from when it was generated)', () => {
    const a = reportOf('cred-1', '10.0.0.1', 'get-user', 2, 1_000);
    const merged = mergeReports([a]);
    expect({ ...merged, generated_at: a.generated_at }).toEqual(a);
  });
});
