import type { ClientReport } from '../migration-report';
import { LEGACY_SERIES, type LegacySeries, type TimelineClient } from '../report-timeline';
import { SERIES_LABEL } from './routes';

export type VerdictKind = 'sending-service' | 'still-calling' | 'ready';

export interface Verdict {
  readonly kind: VerdictKind;
  /** The verdict as the page shows it: "ready to switch off", "still calling X", "sending `service`". */
  readonly headline: string;
  /** Why, with this client's own figures. */
  readonly because: string;
}

export interface VerdictContext {
  readonly now: number;
  /** The quiet period: no legacy call for this long makes a client ready. */
  readonly windowMs: number;
  /** When the report began counting. */
  readonly since: number;
}

/**
 * The rules, in the order they are applied; the page prints this text so that a reader knows
 * exactly what each verdict means. Kept beside `verdictFor` so the two cannot drift apart.
 */
export function verdictRules(windowText: string): ReadonlyArray<{ kind: VerdictKind; headline: string; rule: string }> {
  return [
    {
      kind: 'sending-service',
      headline: 'sending `service`',
      rule: 'The client had at least one call refused with 400 SERVICE_PARAMETER_REMOVED since the report began. V4 has no `service` parameter: these calls fail today and will fail on V4; fix them first.',
    },
    {
      kind: 'still-calling',
      headline: 'still calling X',
      rule: `Otherwise: the client made a call to a legacy path in the last ${windowText}. X lists the legacy calls it made in that window.`,
    },
    {
      kind: 'ready',
      headline: 'ready to switch off',
      rule: `Otherwise: no call to a legacy path in the last ${windowText} (its calls, if any, went to V4 through the pass-through). When the report began less than ${windowText} ago, the page says so: the client was watched for less than the full window.`,
    },
  ];
}

export function verdictFor(client: ClientReport, timeline: TimelineClient | undefined, context: VerdictContext): Verdict {
  if (client.service_rejections > 0) {
    const plural = client.service_rejections === 1 ? 'call was' : 'calls were';
    return { kind: 'sending-service', headline: 'sending `service`', because: `${client.service_rejections} ${plural} refused with SERVICE_PARAMETER_REMOVED.` };
  }
  const lastLegacy = client.last_legacy_call === null ? null : Date.parse(client.last_legacy_call);
  if (lastLegacy !== null && context.now - lastLegacy < context.windowMs) {
    const routes = legacyCallsIn(client, timeline);
    return { kind: 'still-calling', headline: `still calling ${routes.join(', ')}`, because: `Its latest legacy call was at ${client.last_legacy_call}.` };
  }
  const watchedFor = context.now - context.since;
  const because =
    lastLegacy === null ? 'No call to a legacy path since the report began.' : `Its latest legacy call, at ${client.last_legacy_call}, is older than the window.`;
  return {
    kind: 'ready',
    headline: 'ready to switch off',
    because: watchedFor < context.windowMs ? `${because} Watched for less than the full window so far.` : because,
  };
}

/** The legacy calls of the window; a client the full timeline left out falls back to the report's totals. */
function legacyCallsIn(client: ClientReport, timeline: TimelineClient | undefined): string[] {
  const called = (series: LegacySeries): boolean =>
    timeline !== undefined
      ? timeline.series[series].some((count) => count > 0)
      : (series === 'legacy-other' ? client.legacy_other : client.legacy_routes[series]) > 0;
  const routes = LEGACY_SERIES.filter(called).map((series) => SERIES_LABEL[series]);
  // The window's edge may have passed the call between the two reads: name the totals then.
  return routes.length > 0 ? routes : ['a legacy path'];
}
