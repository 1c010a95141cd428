import type { RequestState } from '../http/request-state';

/** Where translation lines go, and whether they go at all (LOG_LEVEL above info turns them off). */
export interface TranslationLog {
  readonly enabled: boolean;
  write(line: string): void;
}

/** winston's npm levels: a translation line is `info`. */
const LEVELS: Record<string, number> = { error: 0, warn: 1, info: 2, http: 3, verbose: 4, debug: 5, silly: 6 };

export function translationLog(level: string, write: (line: string) => void): TranslationLog {
  return { enabled: (LEVELS[level] ?? 2) >= LEVELS.info!, write };
}

/**
 * Lines for stdout, written in one go per turn of the event loop: stdout is a pipe in a
 * container, and a pipe write is a synchronous system call on Linux. `flush()` at shutdown.
 */
export function bufferedStdout(): { write(line: string): void; flush(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const chunk = pending.join('\n') + '\n';
    pending = [];
    process.stdout.write(chunk);
  };
  return {
    write(line: string): void {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/**
 * The one translation log line of a call (schema in the README): a JSON line of the same shape
 * winston writes (`level`, `message`, the fields, `timestamp`), made with one JSON.stringify.
 * It is the one line written on every call, so it skips winston's format pipeline (several
 * times dearer per line in the benchmark's profile: README, Performance). Fields a call
 * never reached are undefined and so left out. JSON escapes CR/LF: a line stays one line.
 */
export function logTranslation(log: TranslationLog, state: RequestState, legacyStatus: number, completed: boolean): void {
  if (!log.enabled) return;
  const record = state.record;
  log.write(
    JSON.stringify({
      level: 'info',
      message: 'translation',
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
      timestamp: new Date().toISOString(),
    }),
  );
}
