import fc from 'fast-check';
import type { RequestState } from '../../src/http/request-state';
import { isoClock, jsonNumber, translationLine } from '../../src/observability/translation-line';
import { logTranslation, translationLog } from '../../src/observability/translation-log';
import type { TranslationRecord } from '../../src/operations/translation-record';
import type { ResolutionOutcome } from '../../src/resolution/resolution-stats';

/** The line as it was made before issue 14: JSON.stringify of the whole object. The reference, kept here only. */
function referenceLine(state: RequestState, legacyStatus: number, completed: boolean, totalMs: number, timestamp: string): string {
  const record = state.record;
  return JSON.stringify({
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
    total_ms: totalMs,
    error_code: record.errorCode,
    reason: record.reason,
    outcome_unknown: record.outcomeUnknown,
    upstream_failure: record.upstreamFailure,
    client_aborted: completed ? undefined : true,
    timestamp,
  });
}

/** Strings with what JSON must escape: quotes, backslashes, control characters, lone surrogates; and what it must not (pairs, U+2028, DEL). */
const awkward = fc.constantFrom('"', '\\', '\n', '\r', '\t', '\b', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', '/', '{}', ' ');
const text = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'binary', maxLength: 16 }),
  fc.string({ unit: fc.oneof(awkward, fc.string({ minLength: 1, maxLength: 3 })), maxLength: 12 }),
  fc.constantFrom('get-user', '/api/management/user/{email}', '127.0.0.1', '0b9a3c1e-5d2f-4e6a-9c7b-000000000001'),
);
/** Numbers incl. negative, fractional, -0, huge and tiny (exponent notation), and NaN/±Infinity (JSON null). */
const number = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-0, 0.1, -2.5, 1e21, 1e-7, 123.45, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY));

const record: fc.Arbitrary<TranslationRecord> = fc.record(
  {
    route: text,
    legacyMethod: text,
    legacyPath: text,
    rules: fc.array(text, { maxLength: 3 }),
    v4Calls: number,
    v4Method: text,
    v4Path: text,
    v4Status: number,
    forwardMs: number,
    lookupMs: number,
    resolution: text.map((s) => s as ResolutionOutcome),
    errorCode: text,
    reason: text,
    outcomeUnknown: fc.boolean(),
    upstreamFailure: text,
    email: text,
  },
  // Every field may be absent (the required ones too: JSON.stringify would leave them out as well).
  { requiredKeys: [] },
) as fc.Arbitrary<TranslationRecord>;

const state: fc.Arbitrary<RequestState> = fc
  .record({ requestId: text, clientAddress: text, credential: fc.option(text, { nil: undefined }), record })
  .map((fields) => ({ ...fields, startedAt: 0, admitted: true, authorization: 'Apikey never-logged', ownHeaders: [] }));

const timestamp = fc.date({ noInvalidDate: true }).map((date) => date.toISOString());

describe('the translation line', () => {
  it('is byte for byte JSON.stringify of the whole object', () => {
    fc.assert(
      fc.property(state, number, fc.boolean(), number, timestamp, (s, legacyStatus, completed, totalMs, at) => {
        const reference = referenceLine(s, legacyStatus, completed, totalMs, at);
        expect(translationLine(s, legacyStatus, completed, totalMs, at)).toBe(reference);
        // Again: the fragments of recurring values are now kept ones (until each field's limit).
        expect(translationLine(s, legacyStatus, completed, totalMs, at)).toBe(reference);
      }),
      { numRuns: 3_000, seed: 14 },
    );
  });

  it('is what logTranslation writes, with its total_ms and timestamp', () => {
    fc.assert(
      fc.property(state, fc.integer({ min: 0, max: 599 }), fc.boolean(), (s, legacyStatus, completed) => {
        const lines: string[] = [];
        const started = { ...s, startedAt: performance.now() };
        logTranslation(translationLog('info', (line) => lines.push(line)), started, legacyStatus, completed);
        expect(lines).toHaveLength(1);
        const { total_ms: totalMs, timestamp: at } = JSON.parse(lines[0] as string) as { total_ms: number; timestamp: string };
        expect(lines[0]).toBe(referenceLine(started, legacyStatus, completed, totalMs, at));
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});

describe('a number in the line', () => {
  it('is JSON.stringify of it for every hundredth within ±3,000 (the timings in ms, rounded to hundredths)', () => {
    const wrong: number[] = [];
    for (let cents = -300_000; cents <= 300_000; cents += 1) {
      const n = cents / 100;
      if (jsonNumber(n) !== JSON.stringify(n)) wrong.push(n);
    }
    expect(wrong).toEqual([]);
  });

  it('is JSON.stringify of it for any number: hundredths near the shortcut\'s limit, any double, -0, NaN, infinities', () => {
    const limit = 2 ** 31;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -limit - 1_000, max: limit + 1_000 }).map((cents) => cents / 100),
          fc.integer().map((cents) => cents / 100),
          fc.double(),
          fc.constantFrom(-0, 0.005, -0.005, 0.015, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
        ),
        (n) => {
          expect(jsonNumber(n)).toBe(JSON.stringify(n));
        },
      ),
      { numRuns: 20_000, seed: 14 },
    );
  });
});

describe('the timestamp clock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('gives the ISO time of every millisecond it is asked in, making it once per change', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        // Mostly the same millisecond or the next; sometimes a jump, or the clock going back.
        fc.array(fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: -5, max: 5 }), fc.integer({ min: -86_400_000, max: 86_400_000 })), { maxLength: 50 }),
        (start, steps) => {
          let now = start;
          const clock = isoClock(() => now);
          const made = jest.spyOn(Date.prototype, 'toISOString');
          let changes = 0;
          let previous: number | undefined;
          for (const step of [0, ...steps]) {
            now += step;
            if (now !== previous) changes += 1;
            previous = now;
            expect(clock()).toBe(new Date(now).toISOString());
          }
          // Each expectation above made one itself; the clock made one per change of millisecond only.
          expect(made).toHaveBeenCalledTimes(steps.length + 1 + changes);
          made.mockRestore();
        },
      ),
      { numRuns: 500, seed: 14 },
    );
  });
});
