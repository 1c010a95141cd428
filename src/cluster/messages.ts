// The IPC messages between a cluster primary (src/cluster/primary.ts) and its workers
// (src/cluster/worker.ts). Prefixed, so that prom-client's or node's own messages are never
// taken for ours.
import type { Registry } from 'prom-client';
import type { MigrationReportJson } from '../observability/migration-report';
import type { WarmUpReport } from '../resolution/warm-up';

export const MESSAGE_PREFIX = 'legacy-gateway:';

/** A registry's metrics as getMetricsAsJSON gives them: what AggregatorRegistry.aggregate takes. */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Primary → worker. */
export type PrimaryMessage =
  | { readonly type: 'legacy-gateway:collect'; readonly id: number }
  | { readonly type: 'legacy-gateway:warm-up'; readonly id: number; readonly authorization: string | undefined }
  | { readonly type: 'legacy-gateway:shutdown' };

/** Worker → primary. */
export type WorkerMessage =
  | { readonly type: 'legacy-gateway:listening'; readonly port: number }
  | { readonly type: 'legacy-gateway:collected'; readonly id: number; readonly metrics: MetricsJson; readonly report: MigrationReportJson }
  | { readonly type: 'legacy-gateway:warmed-up'; readonly id: number; readonly report?: WarmUpReport; readonly error?: string };

function typeOf(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const type = (message as { type?: unknown }).type;
  return typeof type === 'string' && type.startsWith(MESSAGE_PREFIX) ? type : undefined;
}

/** Trusts the shape once the type is ours: both ends are this code base, started together. */
export function asPrimaryMessage(message: unknown): PrimaryMessage | undefined {
  return typeOf(message) === undefined ? undefined : (message as PrimaryMessage);
}

export function asWorkerMessage(message: unknown): WorkerMessage | undefined {
  return typeOf(message) === undefined ? undefined : (message as WorkerMessage);
}
