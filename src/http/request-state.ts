import type { ServerResponse } from 'node:http';
import type { ResolutionOutcome } from '../resolution/resolution-stats';

/** What one call did, filled in by the stages as they run; the translation log line is made of it. */
export interface TranslationRecord {
  /** A legacy route id, or `v4-passthrough`, `legacy-backend`, `unknown-route`. */
  route: string;
  legacyMethod: string;
  /** The path template (`/api/management/user/{email}`), never the email. */
  legacyPath: string;
  v4Method?: string;
  /** The V4 path with the user_id, never the email. */
  v4Path?: string;
  rules: string[];
  resolution?: ResolutionOutcome;
  v4Status?: number;
  /** V4 calls this legacy call made (lookups, verifications, retries and the forward). */
  v4Calls: number;
  lookupMs?: number;
  forwardMs?: number;
  errorCode?: string;
  /** Why the gateway refused or failed the call (never holds a key or a raw email). */
  reason?: string;
  outcomeUnknown?: boolean;
  /** How V4 failed when it did: connect, timeout, reset, too_large; `internal` for a gateway bug. */
  upstreamFailure?: string;
  /** The email of the call, in the form LOG_EMAILS allows. */
  email?: string;
}

/** The per-request context every stage reads and writes, typed. */
export interface RequestState {
  readonly requestId: string;
  readonly startedAt: number;
  /** The caller's address (after trusted X-Forwarded-For). */
  clientAddress: string;
  /**
   * The Authorization V4 gets for this call: the caller's, else the configured key, else none.
   * Held for the stages; never logged (the log has only its fingerprint).
   */
  readonly authorization: string | null;
  /** Fingerprint of `authorization`: the client in logs and reports, the tenant in the cache. */
  readonly credential?: string;
  readonly record: TranslationRecord;
}

/**
 * Each answer's state, beside it rather than on it: the gateway's hot paths run on node's own
 * request and response (no framework prototypes), and a property added to node's objects would
 * give them a new shape on every call.
 */
const states = new WeakMap<ServerResponse, RequestState>();

export function attachState(res: ServerResponse, state: RequestState): void {
  states.set(res, state);
}

/** The state the accept stage attached; undefined only for an answer that never went through it. */
export function stateOf(res: ServerResponse): RequestState | undefined {
  return states.get(res);
}
