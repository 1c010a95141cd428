import { GatewayError } from '../errors';
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

export function v4UserPath(userId: string): string {
  return `${V4_USERS_PATH}/${encodeURIComponent(userId)}`;
}

export function v4LookupPath(normalisedEmail: string): string {
  return `${V4_USERS_PATH}?email=${encodeURIComponent(normalisedEmail)}&limit=${LOOKUP_LIMIT}`;
}

export interface IndexQuery {
  email?: string;
  externalId?: string;
  offset?: number;
  limit?: number;
}

export function v4IndexPath(query: IndexQuery): string {
  const parts: string[] = [];
  if (query.email !== undefined) parts.push(`email=${encodeURIComponent(query.email)}`);
  if (query.externalId !== undefined) parts.push(`external_id=${encodeURIComponent(query.externalId)}`);
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

/**
 * A user_id the gateway may put into a V4 path: unreserved URL characters only, bounded, not a
 * dot segment. Anything else means V4 (or something pretending to be it) is broken, and nothing
 * may be written on its word.
 */
export function isPlainId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 128 && /^[A-Za-z0-9._~-]+$/.test(id) && id !== '.' && id !== '..';
}

/** ASSUMPTION: the user_id is the resource's `id`. */
export function readUserId(user: JsonObject): string {
  if (!isPlainId(user.id)) throw unexpected('user without a plain id');
  return user.id;
}

/** ASSUMPTION: the email lives in `contact_details.email`. */
export function readUserEmail(user: JsonObject): string | undefined {
  const contact = user.contact_details;
  if (!isJsonObject(contact)) return undefined;
  return typeof contact.email === 'string' ? contact.email : undefined;
}
