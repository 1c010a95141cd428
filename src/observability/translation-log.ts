import type { Logger } from 'winston';
import type { RequestState } from '../http/request-state';

/**
 * The one translation log line of a call (schema in the README). Fields a call never reached
 * are left out rather than logged empty.
 */
export function logTranslation(logger: Logger, state: RequestState, legacyStatus: number, completed: boolean): void {
  const record = state.record;
  logger.info('translation', {
    request_id: state.requestId,
    client_credential: state.credential,
    client_address: state.clientAddress,
    route: record.route,
    legacy_method: record.legacyMethod,
    legacy_path: record.legacyPath,
    v4_method: record.v4Method,
    v4_path: record.v4Path,
    rules: record.rules,
    resolution: record.resolution,
    email: record.email,
    legacy_status: legacyStatus,
    v4_status: record.v4Status,
    v4_calls: record.v4Calls,
    lookup_ms: record.lookupMs,
    forward_ms: record.forwardMs,
    total_ms: Math.round((performance.now() - state.startedAt) * 100) / 100,
    error_code: record.errorCode,
    reason: record.reason,
    outcome_unknown: record.outcomeUnknown,
    upstream_failure: record.upstreamFailure,
    client_aborted: completed ? undefined : true,
  });
}
