import type { ResolutionOutcome } from '../resolution/resolution-stats';
import type { V4Trace } from '../v4/api';

/**
 * What one call did, filled in by the stages as they run; the translation log line, the metrics
 * and the migration report are made of it. The V4 fields (V4Trace) are filled in by V4Api itself.
 */
export interface TranslationRecord extends V4Trace {
  /** A legacy route id, or `v4-passthrough`, `legacy-backend`, `unknown-route`, `forbidden`. */
  route: string;
  legacyMethod: string;
  /** The path template (`/api/management/user/{email}`), never the email. */
  legacyPath: string;
  /** Field rules that changed something in the request body. */
  rules: string[];
  resolution?: ResolutionOutcome;
  errorCode?: string;
  /** Why the gateway refused or failed the call (never holds a key or a raw email). */
  reason?: string;
  outcomeUnknown?: boolean;
  /** How V4 failed when it did: connect, timeout, reset, too_large; `internal` for a gateway bug. */
  upstreamFailure?: string;
  /** The email of the call, in the form LOG_EMAILS allows. */
  email?: string;
}

/**
 * A record with every field in place, the optional ones undefined: each call's record then has
 * one and the same shape whatever its stages fill in, so the code that reads every record (the
 * log line, the metrics, the report) sees one shape rather than one per path.
 */
export function newTranslationRecord(legacyMethod: string): TranslationRecord {
  return {
    route: 'unknown-route',
    legacyMethod,
    legacyPath: 'other',
    rules: [],
    v4Calls: 0,
    v4Method: undefined,
    v4Path: undefined,
    v4Status: undefined,
    forwardMs: undefined,
    lookupMs: undefined,
    resolution: undefined,
    errorCode: undefined,
    reason: undefined,
    outcomeUnknown: undefined,
    upstreamFailure: undefined,
    email: undefined,
  };
}
