import type { RequestState } from '../http/request-state';
import { isoClock, translationLine } from './translation-line';

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
 * The lines are encoded straight into one buffer (outside the JS heap): joined into one string
 * first, they were copied twice, once on the heap, on every call (issue 14's allocation profile).
 */
export function bufferedStdout(out: { write(chunk: Buffer): unknown } = process.stdout): { write(line: string): void; flush(): void } {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    let bytes = 0;
    for (const line of lines) bytes += Buffer.byteLength(line) + 1;
    const chunk = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const line of lines) {
      at += chunk.write(line, at);
      chunk[at++] = 0x0a;
    }
    out.write(chunk);
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
 * winston writes (`level`, `message`, the fields, `timestamp`). It is the one line written on
 * every call, so it skips winston's format pipeline (several times dearer per line in the
 * benchmark's profile: README, Performance), and it is concatenated from its known keys rather
 * than JSON.stringify'd from an object (issue 14: the object had ~25 fields, most undefined).
 * The line is byte for byte what `JSON.stringify` of that object gives (translation-line.ts):
 * fields a call never reached are left out, and JSON escapes CR/LF, so a line stays one line.
 */
export function logTranslation(log: TranslationLog, state: RequestState, legacyStatus: number, completed: boolean): void {
  if (!log.enabled) return;
  const totalMs = Math.round((performance.now() - state.startedAt) * 100) / 100;
  log.write(translationLine(state, legacyStatus, completed, totalMs, timestampNow()));
}

/** The ISO time of now, made once per millisecond: every line of a busy millisecond shares it. */
const timestampNow = isoClock(Date.now);
