import type { ServerResponse } from 'node:http';
import type { TranslationRecord } from '../operations/translation-record';

/** The per-request context every stage reads and writes, typed. */
export interface RequestState {
  readonly requestId: string;
  readonly startedAt: number;
  /** The caller's address (after trusted X-Forwarded-For). */
  clientAddress: string;
  /** The caller's address is in ALLOW_CIDRS. */
  readonly admitted: boolean;
  /**
   * The Authorization V4 gets for this call: the caller's, else the configured key, else none.
   * Held for the stages; never logged (the log has only its fingerprint).
   */
  readonly authorization: string | null;
  /** Fingerprint of `authorization`: the client in logs and reports, the tenant in the cache. */
  readonly credential?: string;
  readonly record: TranslationRecord;
  /**
   * The gateway's own headers for this answer, a flat `[name, value, …]` list (X-Request-Id;
   * Deprecation, Link, Sunset on legacy calls). The writers put them on the wire with the
   * answer's own in one `writeHead`: nothing is set on the response before it, because node
   * takes a header list as it is only on a response that has no headers set yet.
   */
  readonly ownHeaders: string[];
}

/**
 * Each answer's state rides on the answer itself, under a symbol no other code knows. It was
 * beside it in a WeakMap; but a WeakMap entry per call in flight is an ephemeron the garbage
 * collector must trace specially on every scavenge, and a hash lookup each time a stage asks
 * (the allocation and CPU profiles of issue 14). Every answer gets the same one property, so
 * all answers share one hidden class after it.
 */
const STATE = Symbol('gateway.requestState');

interface WithState {
  [STATE]?: RequestState;
}

export function attachState(res: ServerResponse, state: RequestState): void {
  (res as ServerResponse & WithState)[STATE] = state;
}

/** The state the accept stage attached; undefined only for an answer that never went through it. */
export function stateOf(res: ServerResponse): RequestState | undefined {
  return (res as ServerResponse & WithState)[STATE];
}

const NO_HEADERS: readonly string[] = [];

/** The gateway's own headers of this answer (none for an answer that never went through accept). */
export function ownHeadersOf(res: ServerResponse): readonly string[] {
  return stateOf(res)?.ownHeaders ?? NO_HEADERS;
}
