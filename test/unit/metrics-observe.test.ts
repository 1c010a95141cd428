import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import type { RequestState } from '../../src/http/request-state';
import { GatewayMetrics, upstreamErrorKind } from '../../src/observability/metrics';
import type { TranslationRecord } from '../../src/operations/translation-record';
import type { ResolutionOutcome } from '../../src/resolution/resolution-stats';

// GatewayMetrics.observe counts in plain numbers (issue 14). This holds its seven per-call
// families to the observer it replaced, kept here as the reference: prom-client's Counter and
// Histogram fed through `labels(...)`, the same names, label names and label values.

const PREFIX = 'legacy_gateway_';
const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const FAMILIES = ['requests_total', 'request_duration_seconds', 'v4_duration_seconds', 'resolution_outcomes_total', 'rejections_total', 'upstream_errors_total', 'outcome_unknown_writes_total'].map((name) => PREFIX + name);

type Observer = (state: RequestState, legacyStatus: number, completed: boolean) => void;

/** The observer as it was before issue 14 (help texts read from the gateway's registry: the text is not what is under test here). */
function referenceObserver(registry: Registry, helpOf: (name: string) => string): Observer {
  const registers = [registry];
  const counter = (name: string, labelNames: string[]): Counter<string> => new Counter({ name: PREFIX + name, help: helpOf(PREFIX + name), labelNames, registers });
  const histogram = (name: string, labelNames: string[]): Histogram<string> => new Histogram({ name: PREFIX + name, help: helpOf(PREFIX + name), labelNames, buckets: SECONDS, registers });
  const requests = counter('requests_total', ['route', 'legacy_status', 'v4_status']);
  const duration = histogram('request_duration_seconds', ['route', 'legacy_status']);
  const v4Duration = histogram('v4_duration_seconds', ['route', 'phase']);
  const resolutions = counter('resolution_outcomes_total', ['route', 'outcome']);
  const rejections = counter('rejections_total', ['route', 'code']);
  const upstreamErrors = counter('upstream_errors_total', ['route', 'kind']);
  const outcomeUnknown = counter('outcome_unknown_writes_total', ['route']);
  return (state, legacyStatus, completed) => {
    const record = state.record;
    const route = record.route;
    const status = completed ? String(legacyStatus) : 'aborted';
    requests.labels(route, status, record.v4Status === undefined ? 'none' : String(record.v4Status)).inc();
    duration.labels(route, status).observe((performance.now() - state.startedAt) / 1000);
    if (record.lookupMs !== undefined) v4Duration.labels(route, 'lookup').observe(record.lookupMs / 1000);
    if (record.forwardMs !== undefined) v4Duration.labels(route, 'forward').observe(record.forwardMs / 1000);
    if (record.resolution !== undefined) resolutions.labels(route, record.resolution).inc();
    if (record.errorCode !== undefined && legacyStatus < 500) rejections.labels(route, record.errorCode).inc();
    const kind = upstreamErrorKind(record);
    if (kind !== null) upstreamErrors.labels(route, kind).inc();
    if (record.outcomeUnknown === true) outcomeUnknown.labels(route).inc();
  };
}

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const ms = fc.oneof(fc.constantFrom(...SECONDS.map((s) => s * 1000)), fc.double({ min: 0, max: 40_000, noNaN: true }));

const call = fc.record({
  record: fc.record({
    route: fc.constantFrom('get-user', 'update-user', 'list-users', 'v4-passthrough', 'unknown-route'),
    v4Status: optional(fc.constantFrom(200, 201, 204, 400, 404, 409, 500, 503)),
    lookupMs: optional(ms),
    forwardMs: optional(ms),
    resolution: optional(fc.constantFrom<ResolutionOutcome>('hit', 'miss', 'coalesced', 'verified', 'healed', 'not_found', 'ambiguous')),
    errorCode: optional(fc.constantFrom('VALIDATION_ERROR', 'NOT_FOUND', 'UPSTREAM_TIMEOUT', 'UPSTREAM_ERROR', 'OUTCOME_UNKNOWN')),
    upstreamFailure: optional(fc.constantFrom('connect', 'timeout', 'reset', 'too_large', 'internal')),
    outcomeUnknown: optional(fc.boolean()),
  }),
  status: fc.constantFrom(0, 200, 201, 204, 400, 404, 409, 500, 502, 504),
  completed: fc.boolean(),
  elapsedMs: ms,
});

function stateOf(record: Partial<TranslationRecord> & { route: string }, startedAt: number): RequestState {
  return {
    requestId: 'r',
    startedAt,
    clientAddress: '127.0.0.1',
    admitted: true,
    ownHeaders: [],
    authorization: null,
    record: { legacyMethod: 'GET', legacyPath: '/', rules: [], v4Calls: 0, ...record },
  };
}

describe('GatewayMetrics.observe', () => {
  const NOW = 1_000_000;
  beforeEach(() => jest.spyOn(performance, 'now').mockReturnValue(NOW));
  afterEach(() => jest.restoreAllMocks());

  it('exports the same per-call metrics as the prom-client observer it replaced', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 40 }), async (calls) => {
        const metrics = new GatewayMetrics({ defaultMetrics: false });
        const helps = new Map((await metrics.registry.getMetricsAsJSON()).map((metric) => [metric.name, metric.help]));
        const reference = new Registry();
        const observeReference = referenceObserver(reference, (name) => helps.get(name) ?? 'missing');
        for (const { record, status, completed, elapsedMs } of calls) {
          const state = stateOf(record, NOW - elapsedMs);
          metrics.observe(state, status, completed);
          observeReference(state, status, completed);
        }
        for (const name of FAMILIES) expect(await metrics.registry.getSingleMetricAsString(name)).toBe(await reference.getSingleMetricAsString(name));
        const json = (all: Awaited<ReturnType<Registry['getMetricsAsJSON']>>): string => JSON.stringify(all.filter((metric) => FAMILIES.includes(metric.name)));
        expect(json(await metrics.registry.getMetricsAsJSON())).toBe(json(await reference.getMetricsAsJSON()));
      }),
      { numRuns: 200, seed: 14 },
    );
  });

  it('keeps the families in the order of the exposition', async () => {
    const names = (await new GatewayMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names.slice(0, FAMILIES.length)).toEqual(FAMILIES);
  });
});
