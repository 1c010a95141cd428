import { Counter, type Registry } from 'prom-client';

/** The `result` label: a comparison's outcome, or why there was none. */
export type ShadowResult = 'equal' | 'expected' | 'noise' | 'different' | 'shadow_failed' | 'skipped' | 'not_sampled';

/**
 * `gateway_shadow_comparisons_total{route,result}`, in the registry it is given (the gateway's
 * own, so several gateways in one process never share it).
 */
export class ShadowMetrics {
  private readonly counter: Counter<'route' | 'result'>;

  constructor(register: Registry) {
    this.counter = new Counter({
      name: 'gateway_shadow_comparisons_total',
      help: 'Shadowed calls by route id and result: equal, expected (only differences the field rules explain), noise, different (a regression), shadow_failed (timeout, reset, unreadable answer), skipped (over SHADOW_MAX_CONCURRENCY), not_sampled (SHADOW_SAMPLE_RATE).',
      labelNames: ['route', 'result'] as const,
      registers: [register],
    });
  }

  count(route: string, result: ShadowResult): void {
    this.counter.inc({ route, result });
  }
}
