import fc from 'fast-check';
import { ERROR_STATUS, GatewayError, type ErrorCode } from '../../src/errors';
import type { JsonValue } from '../../src/translation/json';

/** The value `fn` throws; fails the test when it returns instead. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, but it returned normally');
}

/** The GatewayError `fn` throws, checked to carry `code`. */
export function gatewayErrorOf(fn: () => unknown, code: ErrorCode): GatewayError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(GatewayError);
  const gatewayError = err as GatewayError;
  expect(gatewayError.code).toBe(code);
  expect(gatewayError.status).toBe(ERROR_STATUS[code]);
  return gatewayError;
}

/** Freezes a value and everything inside it, so that any mutation throws (test modules are strict). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Any JSON value, small (depth ≤ 3), with object keys drawn from `key`. */
export function jsonArbitrary(key: fc.Arbitrary<string>): fc.Arbitrary<JsonValue> {
  return fc.letrec<{ json: JsonValue }>((tie) => ({
    json: fc.oneof(
      { maxDepth: 3, depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: 12 }),
      fc.array(tie('json'), { maxLength: 4 }),
      fc.dictionary(key, tie('json'), { maxKeys: 4 }),
    ),
  })).json;
}
