import type { RequestState } from '../http/request-state';

/**
 * What may not go between JSON quotes as it is: a quote, a backslash, a control character, and
 * any UTF-16 surrogate (JSON.stringify escapes a lone one as \udXXX; a string with a pair is
 * rare enough here to be handed to JSON.stringify as well).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `s` as JSON.stringify writes it; a regex test is cheaper than JSON.stringify for the usual plain ids and paths. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** `n` as JSON.stringify writes it: Number#toString for a finite number (-0 gives 0), null otherwise. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : 'null';
}

/** `,"key":"value"`, or nothing for a field the call never reached (JSON.stringify leaves out undefined). */
function stringField(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${key}":${jsonString(value)}`;
}

function numberField(key: string, value: number | undefined): string {
  return value === undefined ? '' : `,"${key}":${jsonNumber(value)}`;
}

/**
 * The translation line of a call, concatenated from its known keys: byte for byte
 * `JSON.stringify({ level: 'info', message: 'translation', request_id, ..., timestamp })` in the
 * key order of the README's schema (test/unit/translation-line.test.ts holds it to that).
 * `totalMs`: already rounded; `timestamp`: an ISO 8601 string (nothing in it to escape).
 */
export function translationLine(state: RequestState, legacyStatus: number, completed: boolean, totalMs: number, timestamp: string): string {
  const record = state.record;
  return (
    '{"level":"info","message":"translation"' +
    stringField('request_id', state.requestId) +
    stringField('client_credential', state.credential) +
    stringField('client_address', state.clientAddress) +
    stringField('route', record.route) +
    stringField('legacy_method', record.legacyMethod) +
    stringField('legacy_path', record.legacyPath) +
    stringField('v4_method', record.v4Method) +
    stringField('v4_path', record.v4Path) +
    (record.rules === undefined ? '' : `,"rules":${JSON.stringify(record.rules)}`) +
    stringField('resolution', record.resolution) +
    stringField('email', record.email) +
    numberField('legacy_status', legacyStatus) +
    numberField('v4_status', record.v4Status) +
    numberField('v4_calls', record.v4Calls) +
    numberField('lookup_ms', record.lookupMs) +
    numberField('forward_ms', record.forwardMs) +
    numberField('total_ms', totalMs) +
    stringField('error_code', record.errorCode) +
    stringField('reason', record.reason) +
    (record.outcomeUnknown === undefined ? '' : `,"outcome_unknown":${record.outcomeUnknown ? 'true' : 'false'}`) +
    stringField('upstream_failure', record.upstreamFailure) +
    (completed ? '' : ',"client_aborted":true') +
    `,"timestamp":"${timestamp}"}`
  );
}

/**
 * `new Date(now()).toISOString()`, made again only when `now()` gives another millisecond
 * (toISOString was ~0.45 µs a call; at thousands of lines a second most share their millisecond).
 * Any change of `now()`, backwards too, makes it anew: it is never stale.
 */
export function isoClock(now: () => number): () => string {
  let cachedAt = Number.NaN;
  let cached = '';
  return () => {
    const at = now();
    if (at !== cachedAt) {
      cached = new Date(at).toISOString();
      cachedAt = at;
    }
    return cached;
  };
}
