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
 * log line, the metrics, the report) sees one shape rather than one per path. A class, so that
 * every record is made by one constructor (one hidden class from the start, no literal's
 * boilerplate copied per call).
 */
class Record implements TranslationRecord {
  route = 'unknown-route';
  legacyPath = 'other';
  rules: string[] = [];
  v4Calls = 0;
  v4Method: string | undefined = undefined;
  v4Path: string | undefined = undefined;
  v4Status: number | undefined = undefined;
  forwardMs: number | undefined = undefined;
  lookupMs: number | undefined = undefined;
  resolution: ResolutionOutcome | undefined = undefined;
  errorCode: string | undefined = undefined;
  reason: string | undefined = undefined;
  outcomeUnknown: boolean | undefined = undefined;
  upstreamFailure: string | undefined = undefined;
  email: string | undefined = undefined;

  legacyMethod: string;

  constructor(legacyMethod: string) {
    this.legacyMethod = legacyMethod;
  }
}

export function newTranslationRecord(legacyMethod: string): TranslationRecord {
  return new Record(legacyMethod);
}
