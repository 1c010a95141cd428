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
