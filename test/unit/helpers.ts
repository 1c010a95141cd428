import { ERROR_STATUS, GatewayError, type ErrorCode } from '../../src/errors';

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
