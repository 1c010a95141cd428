import type { JsonObject, JsonValue } from '../translation/json';

/**
 * What a legacy call answers, as a value: operations return it and never touch a response, so
 * that the one writer in src/http/ puts it on the wire and anything else (a shadow comparison,
 * `explain`) can read it first.
 */
export type LegacyBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'json'; readonly value: JsonValue }
  /**
   * A list too long for one V4 page, as legacy users page by page: the first page already
   * fetched, each later one fetched only when the writer asks for it (so the client's pace sets
   * V4's, and memory stays flat). Pulling stops, and no more pages are fetched, when the client leaves.
   */
  | { readonly kind: 'pages'; readonly pages: AsyncIterable<readonly JsonObject[]> };

export interface LegacyAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: LegacyBody;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NONE: LegacyBody = Object.freeze({ kind: 'none' });

export function jsonAnswer(status: number, value: JsonValue, headers: Readonly<Record<string, string>> = NO_HEADERS): LegacyAnswer {
  return { status, headers, body: { kind: 'json', value } };
}

export function emptyAnswer(status: number, headers: Readonly<Record<string, string>> = NO_HEADERS): LegacyAnswer {
  return { status, headers, body: NONE };
}

export function pagesAnswer(pages: AsyncIterable<readonly JsonObject[]>): LegacyAnswer {
  return { status: 200, headers: NO_HEADERS, body: { kind: 'pages', pages } };
}
