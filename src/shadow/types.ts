// The shapes every part of the shadow comparison shares.
import type { JsonValue } from '../translation/json';

/** One answer in the legacy shape, as compared: the status and the parsed JSON body (none for 204/HEAD). */
export interface ShadowAnswer {
  readonly status: number;
  readonly body: JsonValue | undefined;
}

/**
 * How the V4 answer (translated to the legacy shape) differs from the legacy answer at one place:
 * `missing`: the legacy answer has something the V4 answer lacks; `extra`: the other way round;
 * `changed`: both hold a scalar of one type with different values; `type`: both hold values of
 * different JSON types; `status`: the HTTP statuses differ (then nothing else is compared).
 */
export type DiffKind = 'missing' | 'extra' | 'changed' | 'type' | 'status';

/**
 * A value as a difference shows it, never in clear where it could be personal or secret: strings
 * that are or hold an email are keyed hashes (`h:…`, the log's hash), credentials are
 * `[credentials]`, other strings are cut to a bounded length; objects and arrays are summarised
 * by their size.
 */
export type ShownValue = null | boolean | number | string | { readonly object_keys: number } | { readonly array_length: number };

export interface Difference {
  /** JSON pointer (RFC 6901) into the legacy answer; in a list, the legacy index (V4's for an item only V4 has). */
  readonly path: string;
  /** The pointer with list indices as `*`: what paths are counted, ignored and learnt as noise by. */
  readonly pattern: string;
  readonly kind: DiffKind;
  /** Absent: the legacy answer has nothing there. */
  readonly legacy?: ShownValue;
  /** Absent: the V4 answer has nothing there. */
  readonly v4?: ShownValue;
  /** In a list matched by identity: the keyed hash of the user's email. */
  readonly item?: string;
}

export type DiffClass = 'expected' | 'noise' | 'regression';

export interface ClassifiedDifference extends Difference {
  readonly class: DiffClass;
  /** Why it is expected or noise (the field rule id, the ignored path, learnt noise); for a regression, empty. */
  readonly reason: string;
}

/**
 * What a comparison of one call came to: `equal` (no difference), `expected` (only differences
 * the translation explains), `noise` (noise, and perhaps expected ones), `different` (at least
 * one regression: the only outcome that counts against the match rate).
 */
export type ComparisonOutcome = 'equal' | 'expected' | 'noise' | 'different';

export interface Comparison {
  readonly outcome: ComparisonOutcome;
  readonly differences: readonly ClassifiedDifference[];
  /** More differences were found than are kept (the diff stops at its bound). */
  readonly truncated: boolean;
}

/** Why a shadow call gave nothing to compare. */
export type ShadowFailureKind = 'timeout' | 'reset' | 'connect' | 'invalid_answer' | 'too_large' | 'status_5xx' | 'error';

export class ShadowFailure extends Error {
  constructor(readonly kind: ShadowFailureKind, message: string) {
    super(message);
    this.name = 'ShadowFailure';
  }
}
