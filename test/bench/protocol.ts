/**
 * The IPC messages between `bench.ts` (parent) and `sim-process.ts` (the V4 simulator in its own
 * process). Every request carries an id; the child answers with the same id.
 */

/** Tenants to create at start-up, API key → users to seed (env BENCH_SIM_TENANTS, JSON). */
export type TenantSeeds = Record<string, number>;

export type SimCommand =
  | { readonly id: number; readonly type: 'ids'; readonly key: string; readonly count: number }
  | { readonly id: number; readonly type: 'seed'; readonly key: string; readonly count: number }
  | { readonly id: number; readonly type: 'counts' }
  | { readonly id: number; readonly type: 'reset' };

/** Requests the simulator's HTTP server received since the last reset, by method. */
export interface RequestCounts {
  readonly total: number;
  readonly byMethod: Readonly<Record<string, number>>;
  /** sim-process.ts with BENCH_LEGACY_TENANT only: requests its legacy simulator received (not in `total`). */
  readonly legacy?: number;
}

export type SimReply =
  | { readonly id: number; readonly type: 'ids'; readonly ids: readonly string[] }
  | { readonly id: number; readonly type: 'seeded'; readonly key: string; readonly size: number; readonly ms: number }
  | { readonly id: number; readonly type: 'counts'; readonly counts: RequestCounts }
  | { readonly id: number; readonly type: 'reset' }
  | { readonly id: number; readonly type: 'error'; readonly message: string };

/** The one JSON line a helper process prints on stdout once it listens. */
export interface ListeningLine {
  readonly port: number;
  readonly url: string;
  /** sim-process.ts with BENCH_LEGACY_TENANT only: the legacy simulator's base URL (LEGACY_BASE_URL). */
  readonly legacyUrl?: string;
}

export function isSimCommand(value: unknown): value is SimCommand {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; type?: unknown };
  return typeof v.id === 'number' && (v.type === 'ids' || v.type === 'seed' || v.type === 'counts' || v.type === 'reset');
}

export function isSimReply(value: unknown): value is SimReply {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { id?: unknown; type?: unknown };
  return typeof v.id === 'number' && typeof v.type === 'string';
}
