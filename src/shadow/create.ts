// Everything a gateway needs for SHADOW_MODE, built from its settings in one call.
import type { Registry } from 'prom-client';
import type { Logger } from 'winston';
import type { GatewayConfig } from '../config/load';
import { ShadowComparator } from './comparator';
import { DiffStore, type DiffStoreOptions } from './diff-store';
import { LegacyShadowCaller } from './legacy-caller';
import { ShadowRunner } from './runner';
import { ShadowMetrics } from './shadow-metrics';

export interface Shadow {
  readonly runner: ShadowRunner;
  /**
   * The legacy backend, for reads the gateway makes itself: the shadow in v4-primary mode; in
   * legacy-primary mode the second ask for learnt noise and the read-back after writes.
   */
  readonly legacyCaller: LegacyShadowCaller;
  /** Whether writes are read back from both sides afterwards (SHADOW_VERIFY_WRITES). */
  readonly verifyWrites: boolean;
  /** Frees the legacy caller's sockets. */
  close(): void;
}

export type ShadowConfig = Pick<
  GatewayConfig,
  | 'shadowMode'
  | 'shadowSampleRate'
  | 'shadowTimeoutMs'
  | 'shadowMaxConcurrency'
  | 'shadowNoiseSamples'
  | 'shadowIgnorePaths'
  | 'shadowVerifyWrites'
  | 'legacyBaseUrl'
  | 'fieldRules'
  | 'logHashKey'
  | 'upstreamMaxSockets'
  | 'upstreamMaxResponseBytes'
>;

/** Null when SHADOW_MODE=off. `registry`: where gateway_shadow_comparisons_total goes (GatewayMetrics.registry). */
export function createShadow(config: ShadowConfig, deps: { logger: Logger; registry?: Registry; store?: DiffStoreOptions; random?: () => number }): Shadow | null {
  if (config.shadowMode === 'off') return null;
  if (config.legacyBaseUrl === null) throw new Error(`SHADOW_MODE=${config.shadowMode} needs LEGACY_BASE_URL`); // loadConfig says so first
  const comparator = new ShadowComparator({
    fieldRules: config.fieldRules,
    ignorePaths: config.shadowIgnorePaths,
    noiseSamples: config.shadowNoiseSamples,
    hashKey: config.logHashKey,
  });
  const runner = new ShadowRunner(
    { mode: config.shadowMode, sampleRate: config.shadowSampleRate, timeoutMs: config.shadowTimeoutMs, maxConcurrency: config.shadowMaxConcurrency },
    {
      comparator,
      store: new DiffStore(deps.store),
      logger: deps.logger,
      ...(deps.registry === undefined ? {} : { metrics: new ShadowMetrics(deps.registry) }),
      ...(deps.random === undefined ? {} : { random: deps.random }),
    },
  );
  const legacyCaller = new LegacyShadowCaller(config.legacyBaseUrl, { maxSockets: config.upstreamMaxSockets, maxResponseBytes: config.upstreamMaxResponseBytes });
  return { runner, legacyCaller, verifyWrites: config.shadowVerifyWrites, close: () => legacyCaller.close() };
}
