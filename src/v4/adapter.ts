import { GatewayError } from '../errors';
import { normaliseEmail } from '../translation/email';
import { isJsonObject, type JsonObject } from '../translation/json';

/**
 * Every assumption the gateway makes about V4 (v4-openapi.yaml marks them ASSUMPTION) lives here,
 * so adapting to the vendor's published schema is a change to this one module.
 */
export const V4_USERS_PATH = '/api/user/management/v4/users';
export const V4_PREFIX = '/api/user/management/v4/';
/** ASSUMPTION: the index's largest page. */
export const V4_MAX_PAGE_LIMIT = 500;
/** A lookup asks for two: one is an answer, two is ambiguity; more would be wasted bytes. */
export const LOOKUP_LIMIT = 2;

export function v4Authorization(apiKey: string): string {
  return `Apikey ${apiKey}`;
}

/** The path template of one user: `{user_id}` is filled in as one percent-encoded segment. */
export const V4_USER_PATH = `${V4_USERS_PATH}/{user_id}`;

/** A V4 path template with its `{user_id}` filled in. */
export function expandV4Path(template: string, userId: string | undefined): string {
  // The id as ONE path segment: every character outside the unreserved set is percent-encoded.
  return userId === undefined ? template : template.replace('{user_id}', () => encodeURIComponent(userId));
}

export function v4UserPath(userId: string): string {
  return expandV4Path(V4_USER_PATH, userId);
}

export function v4LookupPath(normalisedEmail: string): string {
  return `${V4_USERS_PATH}?email=${encodeURIComponent(normalisedEmail)}&limit=${LOOKUP_LIMIT}`;
}

/** A query of the index: filters by their V4 names (in the order given), and paging. */
export interface IndexQuery {
  readonly filters?: ReadonlyArray<readonly [string, string]>;
  readonly offset?: number;
  readonly limit?: number;
}

export function v4IndexPath(query: IndexQuery): string {
  const parts: string[] = [];
  for (const [name, value] of query.filters ?? []) parts.push(`${name}=${encodeURIComponent(value)}`);
  if (query.offset !== undefined) parts.push(`offset=${query.offset}`);
  if (query.limit !== undefined) parts.push(`limit=${query.limit}`);
  return parts.length === 0 ? V4_USERS_PATH : `${V4_USERS_PATH}?${parts.join('&')}`;
}

export interface UserPage {
  readonly users: JsonObject[];
  readonly total: number;
}

function unexpected(what: string): GatewayError {
  return new GatewayError('UPSTREAM_ERROR', 'V4 answered with something the gateway cannot read; try again later.', { detail: what });
}

/** ASSUMPTION: the index answers `{"data": [...], "meta": {"offset", "limit", "total"}}`. */
export function readUserPage(body: unknown): UserPage {
  if (!isJsonObject(body) || !Array.isArray(body.data) || !isJsonObject(body.meta)) throw unexpected('index page without data/meta');
  const total = body.meta.total;
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) throw unexpected('index page without meta.total');
  const users: JsonObject[] = [];
  for (const user of body.data) {
    if (!isJsonObject(user)) throw unexpected('index page with a user that is not an object');
    users.push(user);
  }
  return { users, total };
}

/** Longest user_id the gateway puts into a V4 path (V4's own ids are 36-character UUIDs). */
export const MAX_USER_ID_LENGTH = 128;

/**
 * Control characters (C0, DEL, C1) and lone surrogates: neither has a place in an id, and a lone
 * surrogate cannot be percent-encoded at all (encodeURIComponent throws on it).
 */
function hasUnsafeCharacter(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = id.charCodeAt(i + 1); // NaN past the end
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++; // a whole pair
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * A user_id the gateway may put into a V4 path as one percent-encoded segment (the contract:
 * "only the user_id that V4 returned is, percent-encoded as one path segment"). Any character
 * may be encoded, so `/`, `?`, `#`, `%` and spaces are fine; refused is only what cannot be one
 * safe segment: empty, a dot segment (`.`/`..` stay dot segments when encoded), longer than
 * MAX_USER_ID_LENGTH, control characters or lone surrogates. Anything else means V4 (or something
 * pretending to be it) is broken, and nothing may be written on its word.
 */
export function isSegmentSafeId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_USER_ID_LENGTH && id !== '.' && id !== '..' && !hasUnsafeCharacter(id);
}

/** The former name, kept while src/resolution/warm-up.ts (being refactored) still imports it. */
export const isPlainId = isSegmentSafeId;

/** ASSUMPTION: the user_id is the resource's `id`. */
export function readUserId(user: JsonObject): string {
  if (!isSegmentSafeId(user.id)) throw unexpected('user without an id that can be one path segment');
  return user.id;
}

/** ASSUMPTION: the email lives in `contact_details.email`. */
export function readUserEmail(user: JsonObject): string | undefined {
  const contact = user.contact_details;
  if (!isJsonObject(contact)) return undefined;
  return typeof contact.email === 'string' ? contact.email : undefined;
}

/** The user's email in the form the gateway compares and caches emails in. */
export function readUserNormalisedEmail(user: JsonObject): string | undefined {
  const email = readUserEmail(user);
  return email === undefined ? undefined : normaliseEmail(email);
}
