import type { RequestState } from '../../src/http/request-state';
import { MigrationReport } from '../../src/observability/migration-report';
import { escapeHtml } from '../../src/observability/migration-page/escape';
import { renderMigrationPage } from '../../src/observability/migration-page/render';
import { verdictFor } from '../../src/observability/migration-page/verdict';
import { ReportTimeline } from '../../src/observability/report-timeline';

function call(route: string, credential: string | undefined, address = '10.0.0.1', errorCode?: string): RequestState {
  return { requestId: 'r', startedAt: 0, clientAddress: address, admitted: true, authorization: null, credential, ownHeaders: [], record: { route, legacyMethod: 'GET', legacyPath: '', rules: [], v4Calls: 0, errorCode } };
}

describe('ReportTimeline', () => {
  it('counts calls per client, series and bucket, and forgets buckets older than the window', () => {
    let now = 10_000;
    const timeline = new ReportTimeline({ bucketMs: 1_000, buckets: 3, now: () => now });
    timeline.observe(call('update-user', 'A'), 200, true);
    timeline.observe(call('update-user', 'A'), 200, true);
    timeline.observe(call('legacy-options', 'A'), 204, true);
    now = 11_500;
    timeline.observe(call('v4-passthrough', 'A'), 200, true);
    timeline.observe(call('unknown-route', 'A'), 404, true); // not charted
    timeline.observe(call('forbidden', 'B'), 403, true); // never a client
    let json = timeline.toJson();
    expect(json.bucket_starts).toEqual(['1970-01-01T00:00:09.000Z', '1970-01-01T00:00:10.000Z', '1970-01-01T00:00:11.000Z']);
    expect(json.clients).toHaveLength(1);
    const series = json.clients[0]?.series;
    expect(series?.['update-user']).toEqual([0, 2, 0]);
    expect(series?.['legacy-other']).toEqual([0, 1, 0]);
    expect(series?.['v4-passthrough']).toEqual([0, 0, 1]);
    // Three buckets later the 10 s bucket is gone, and its ring slot is reused from zero.
    now = 13_000;
    timeline.observe(call('update-user', 'A'), 200, true);
    json = timeline.toJson();
    expect(json.clients[0]?.series['update-user']).toEqual([0, 0, 1]);
    expect(json.clients[0]?.series['v4-passthrough']).toEqual([1, 0, 0]);
  });

  it('is bounded: past maxClients new clients count as overflow, unless silent clients can make room', () => {
    let now = 0;
    const timeline = new ReportTimeline({ bucketMs: 1_000, buckets: 2, maxClients: 2, now: () => now });
    timeline.observe(call('get-user', 'A'), 200, true);
    timeline.observe(call('get-user', 'B'), 200, true);
    timeline.observe(call('get-user', 'C'), 200, true);
    expect(timeline.toJson()).toEqual(expect.objectContaining({ clients_tracked: 2, overflow_calls: 1 }));
    now = 5_000; // A and B silent for longer than the window
    timeline.observe(call('get-user', 'B'), 200, true);
    timeline.observe(call('get-user', 'C'), 200, true);
    const json = timeline.toJson();
    expect(json.clients.map((client) => client.credential).sort()).toEqual(['B', 'C']);
  });
});

describe('the migration page', () => {
  const hostile = '<script>alert(1)</script>"\'&';

  function pageFor(calls: Array<[string, string | undefined, string?]>, names: Record<string, string> = {}, shadow?: Parameters<typeof renderMigrationPage>[0]['shadow']): string {
    const now = Date.parse('2026-11-28T12:00:00Z');
    const report = new MigrationReport({ now: () => now });
    const timeline = new ReportTimeline({ bucketMs: 60_000, now: () => now });
    for (const [route, credential, errorCode] of calls) {
      const state = call(route, credential, '10.0.0.1', errorCode);
      report.observe(state, errorCode === undefined ? 200 : 400, true);
      timeline.observe(state, 200, true);
    }
    return renderMigrationPage({ report: report.toJson(), timeline: timeline.toJson(), clientNames: names, shadow, refreshSeconds: 15, now });
  }

  it('escapes what it shows: a hostile client name never becomes markup', () => {
    const html = pageFor([['get-user', 'AAAAAAAAAAAAAAAA']], { AAAAAAAAAAAAAAAA: hostile });
    expect(html).not.toContain('<script');
    expect(html).toContain(escapeHtml(hostile));
    expect(escapeHtml(hostile)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(html).toContain('<meta http-equiv="refresh" content="15">');
  });

  it('shows the shadow summary only when one is given, escaped', () => {
    expect(pageFor([])).not.toContain('Shadow comparison');
    const html = pageFor([], {}, { equal: 7, different: 2, noise: 1, topPaths: [{ path: hostile, count: 2 }] });
    expect(html).toContain('<span data-field="shadow-equal">7</span> equal');
    expect(html).toContain(`<code>${escapeHtml(hostile)}</code>`);
    expect(html).not.toContain('<script');
  });

  it('gives each verdict by its rule', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    const report = new MigrationReport({ now: () => now - 48 * 3_600_000 });
    report.observe(call('update-user', 'S', '10.0.0.1', 'SERVICE_PARAMETER_REMOVED'), 400, true);
    report.observe(call('delete-user', 'L'), 204, true);
    report.observe(call('v4-passthrough', 'V'), 200, true);
    const [service, legacy, v4] = ['S', 'L', 'V'].map((credential) => report.toJson().clients.find((client) => client.credential === credential));
    const context = { now, windowMs: 24 * 3_600_000, since: now - 48 * 3_600_000 };
    expect(verdictFor(service!, undefined, context).kind).toBe('sending-service');
    // Its legacy call was 48 h ago: outside a 24 h window, so ready; inside a 72 h one, still calling.
    expect(verdictFor(legacy!, undefined, context)).toEqual(expect.objectContaining({ kind: 'ready', headline: 'ready to switch off' }));
    expect(verdictFor(legacy!, undefined, { ...context, windowMs: 72 * 3_600_000 })).toEqual(
      expect.objectContaining({ kind: 'still-calling', headline: 'still calling DELETE /api/management/user/{email}' }),
    );
    expect(verdictFor(v4!, undefined, context).kind).toBe('ready');
  });

  it('shows the planned brownouts with where each stands, names escaped', () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    const report = new MigrationReport({ now: () => now });
    const timeline = new ReportTimeline({ bucketMs: 60_000, now: () => now });
    const brownouts = [
      { client: 'AAAAAAAAAAAAAAAA', from: '2026-11-28T11:00:00Z', to: '2026-11-28T13:00:00Z' },
      { client: '*', from: '2026-11-27T09:00:00Z', to: '2026-11-27T10:00:00Z', routes: ['delete-user' as const] },
      { client: 'BBBBBBBBBBBBBBBB', from: '2026-12-01T09:00:00Z', to: '2026-12-01T10:00:00Z' },
    ];
    const html = renderMigrationPage({ report: report.toJson(), timeline: timeline.toJson(), clientNames: { AAAAAAAAAAAAAAAA: hostile }, brownouts, refreshSeconds: 15, now });
    expect(html).toContain('<h2>Planned brownouts</h2>');
    expect([...html.matchAll(/data-brownout-state="(\w+)"/g)].map((m) => m[1])).toEqual(['active', 'over', 'planned']);
    expect(html).toContain(escapeHtml(hostile));
    expect(html).not.toContain('<script');
    expect(html).toContain('every client');
    expect(renderMigrationPage({ report: report.toJson(), timeline: timeline.toJson(), clientNames: {}, refreshSeconds: 15, now })).not.toContain('Planned brownouts');
  });
});
