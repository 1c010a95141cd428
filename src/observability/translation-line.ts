import type { RequestState } from '../http/request-state';

/**
 * What may not go between JSON quotes as it is: a quote, a backslash, a control character, and
 * any UTF-16 surrogate (JSON.stringify writes a lone one as a \u escape; a string with a pair is
 * rare enough here to be handed to JSON.stringify as well).
 */
// eslint-disable-next-line no-control-regex -- the control characters are what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `s` as JSON.stringify writes it; a regex test and two concatenations measured cheaper than JSON.stringify for the usual plain ids and paths. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Below this many hundredths the shortcut of jsonNumber is exact (see there). */
const CENTS_LIMIT = 2 ** 31;

/**
 * `n` as JSON.stringify writes it: Number#toString for a finite number (-0 gives 0), null
 * otherwise. The timings of a line are rounded to hundredths (roundMs), and Number#toString of a
 * fractional double was a sixth of the line's cost; so a number that is exactly k/100 is written
 * from the integer k. That is the same string: k/100 is the double nearest to the decimal
 * "k/100", and under CENTS_LIMIT hundredths (2e7) a double's spacing is far below 0.01, so no
 * decimal with as few digits lies as near, and the shortest round-trip form Number#toString
 * writes is that decimal. test/unit/translation-line.test.ts checks it exhaustively on
 * ±300,000 hundredths and at random elsewhere.
 */
export function jsonNumber(n: number): string {
  const cents = Math.round(n * 100);
  if (cents / 100 === n && cents < CENTS_LIMIT && cents > -CENTS_LIMIT) {
    const sign = cents < 0 ? '-' : '';
    const abs = cents < 0 ? -cents : cents;
    const fraction = abs % 100;
    const whole = (abs - fraction) / 100;
    if (fraction === 0) return sign + whole;
    if (fraction % 10 === 0) return sign + whole + '.' + fraction / 10;
    return sign + whole + (fraction < 10 ? '.0' : '.') + fraction;
  }
  return Number.isFinite(n) ? String(n) : 'null';
}

/**
 * `,"key":"value"` for the fields whose values recur call after call (route ids, methods, path
 * templates, outcomes, codes; a client's address and credential fingerprint), kept once made:
 * one Map lookup instead of an escape test and three concatenations (~0.2 µs of ~1 µs a line in
 * test/bench/observers-micro.ts). At most LIMIT values per field are kept, so a field with
 * unbounded values (many clients) costs no more than LIMIT entries: past it, fragments are made
 * afresh each time, as for the fields that never recur (request ids, V4 paths, emails, reasons).
 */
class Fragments {
  private static readonly LIMIT = 256;
  private readonly prefix: string;
  private readonly kept = new Map<string, string>();

  constructor(key: string) {
    this.prefix = ',"' + key + '":';
  }

  of(value: string): string {
    let fragment = this.kept.get(value);
    if (fragment === undefined) {
      fragment = this.prefix + jsonString(value);
      if (this.kept.size < Fragments.LIMIT) this.kept.set(value, fragment);
    }
    return fragment;
  }
}

const CREDENTIAL = new Fragments('client_credential');
const ADDRESS = new Fragments('client_address');
const ROUTE = new Fragments('route');
const LEGACY_METHOD = new Fragments('legacy_method');
const LEGACY_PATH = new Fragments('legacy_path');
const V4_METHOD = new Fragments('v4_method');
const RESOLUTION = new Fragments('resolution');
const ERROR_CODE = new Fragments('error_code');
const UPSTREAM_FAILURE = new Fragments('upstream_failure');

/**
 * The translation line of a call, concatenated from its known keys: byte for byte
 * `JSON.stringify({ level: 'info', message: 'translation', request_id, ..., timestamp })` in the
 * key order of the README's schema (test/unit/translation-line.test.ts holds it to that). A field
 * the call never reached (undefined) is left out, as JSON.stringify leaves it out; each key and
 * its punctuation is one constant, which measured cheaper than a helper per field; the fields
 * whose values recur are whole kept fragments (Fragments).
 * `totalMs`: already rounded; `timestamp`: an ISO 8601 string (nothing in it to escape).
 */
export function translationLine(state: RequestState, legacyStatus: number, completed: boolean, totalMs: number, timestamp: string): string {
  const record = state.record;
  let line = '{"level":"info","message":"translation"';
  if (state.requestId !== undefined) line += ',"request_id":' + jsonString(state.requestId);
  if (state.credential !== undefined) line += CREDENTIAL.of(state.credential);
  if (state.clientAddress !== undefined) line += ADDRESS.of(state.clientAddress);
  if (record.route !== undefined) line += ROUTE.of(record.route);
  if (record.legacyMethod !== undefined) line += LEGACY_METHOD.of(record.legacyMethod);
  if (record.legacyPath !== undefined) line += LEGACY_PATH.of(record.legacyPath);
  if (record.v4Method !== undefined) line += V4_METHOD.of(record.v4Method);
  if (record.v4Path !== undefined) line += ',"v4_path":' + jsonString(record.v4Path);
  if (record.rules !== undefined) line += ',"rules":' + (record.rules.length === 0 ? '[]' : JSON.stringify(record.rules));
  if (record.resolution !== undefined) line += RESOLUTION.of(record.resolution);
  if (record.email !== undefined) line += ',"email":' + jsonString(record.email);
  line += ',"legacy_status":' + jsonNumber(legacyStatus);
  if (record.v4Status !== undefined) line += ',"v4_status":' + jsonNumber(record.v4Status);
  if (record.v4Calls !== undefined) line += ',"v4_calls":' + jsonNumber(record.v4Calls);
  if (record.lookupMs !== undefined) line += ',"lookup_ms":' + jsonNumber(record.lookupMs);
  if (record.forwardMs !== undefined) line += ',"forward_ms":' + jsonNumber(record.forwardMs);
  line += ',"total_ms":' + jsonNumber(totalMs);
  if (record.errorCode !== undefined) line += ERROR_CODE.of(record.errorCode);
  if (record.reason !== undefined) line += ',"reason":' + jsonString(record.reason);
  if (record.outcomeUnknown !== undefined) line += record.outcomeUnknown ? ',"outcome_unknown":true' : ',"outcome_unknown":false';
  if (record.upstreamFailure !== undefined) line += UPSTREAM_FAILURE.of(record.upstreamFailure);
  if (!completed) line += ',"client_aborted":true';
  return line + ',"timestamp":"' + timestamp + '"}';
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
