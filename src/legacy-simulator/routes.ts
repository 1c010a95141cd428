// The legacy user-management API as legacy clients knew it: email-keyed paths, `cid`, top-level
// `email`, `service` still accepted, offset/limit paging, the legacy error envelope. Strict:
// an unknown or repeated query parameter, a body that is not a JSON object, a path email that is
// not one plausible address are 4xx with a code, as the gateway answers them.
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../errors';
import { emailProblem } from '../translation/email';
import type { FieldRules } from '../translation/field-rules';
import { isJsonObject, type JsonObject } from '../translation/json';
import { JSON_TYPE, type SimAnswer, type SimRequest } from '../v4-simulator/exchange';
import { parseQueryPairs } from '../v4-simulator/query';
import { V4ApiError, type TenantStore, type V4User } from '../v4-simulator';
import { validateCreate, validateUpdate } from '../v4-simulator/validate';
import { LegacyApiError, legacyErrorAnswer } from './errors';
import { legacyUserOf } from './legacy-view';

export const LEGACY_USERS_PATH = '/api/management/user';
const USER_PREFIX = `${LEGACY_USERS_PATH}/`;
const LIST_PARAMETERS = new Set(['email', 'cid', 'service', 'offset', 'limit']);

export interface LegacyRouteContext {
  readonly store: TenantStore;
  readonly rules: FieldRules;
  /** The legacy-only `service` of each user, by user id (V4 has no such field). */
  readonly services: Map<string, string>;
}

/** Never throws for a client's mistake: it becomes the legacy error answer. */
export function legacyRoute(req: SimRequest, ctx: LegacyRouteContext): SimAnswer {
  const incoming = req.headers['x-request-id'];
  const requestId = typeof incoming === 'string' && incoming !== '' ? incoming : randomUUID();
  try {
    const answer = dispatch(req, ctx);
    answer.headers['x-request-id'] = requestId;
    return answer;
  } catch (error) {
    return legacyErrorAnswer(asLegacyError(error), requestId);
  }
}

function dispatch(req: SimRequest, ctx: LegacyRouteContext): SimAnswer {
  if (req.path === LEGACY_USERS_PATH) {
    if (req.method === 'GET') return json(200, listUsers(req.rawQuery, ctx));
    if (req.method === 'POST') return createUser(req, ctx);
    throw methodNotAllowed('GET, POST');
  }
  const segment = req.path.startsWith(USER_PREFIX) ? req.path.slice(USER_PREFIX.length) : '';
  if (segment === '' || segment.includes('/')) throw new LegacyApiError(404, 'NOT_FOUND', `No such resource: ${req.method} ${req.path}.`);
  if (req.method !== 'GET' && req.method !== 'PUT' && req.method !== 'DELETE') throw methodNotAllowed('GET, PUT, DELETE');
  const user = userByEmail(ctx.store, emailOf(segment));
  switch (req.method) {
    case 'GET':
      return json(200, view(user, ctx));
    case 'PUT': {
      const { service, v4Body } = translateBody(req, ctx);
      const updated = ctx.store.update(user.id, validateUpdate(v4Body));
      if (service !== undefined) setService(ctx, updated.id, service);
      return json(200, view(updated, ctx));
    }
    default:
      ctx.store.delete(user.id);
      ctx.services.delete(user.id);
      return { status: 204, headers: {}, body: '' };
  }
}

function listUsers(rawQuery: string, ctx: LegacyRouteContext): JsonObject[] {
  const params = new Map<string, string>();
  let pairs: [string, string][];
  try {
    pairs = parseQueryPairs(rawQuery);
  } catch {
    throw new LegacyApiError(400, 'INVALID_QUERY', 'The query string is not valid percent-encoding.');
  }
  for (const [name, value] of pairs) {
    if (!LIST_PARAMETERS.has(name)) throw new LegacyApiError(400, 'INVALID_QUERY', `Unknown query parameter; allowed: ${[...LIST_PARAMETERS].join(', ')}.`);
    if (params.has(name)) throw new LegacyApiError(400, 'INVALID_QUERY', `The query parameter ${name} is given more than once; give it once.`);
    params.set(name, value);
  }
  const offset = integer(params.get('offset'), 'offset', 0) ?? 0;
  const limit = integer(params.get('limit'), 'limit', 1) ?? Number.MAX_SAFE_INTEGER;
  const email = params.get('email');
  const cid = params.get('cid');
  const service = params.get('service');
  let users: readonly V4User[];
  if (email === undefined && cid === undefined && service === undefined) {
    users = ctx.store.find({}, offset, limit).users; // one page of the index, never the whole store
  } else {
    const filter = { ...(email === undefined ? {} : { email }), ...(cid === undefined ? {} : { externalId: cid }) };
    const matching = email === undefined && cid === undefined ? ctx.store.all() : ctx.store.find(filter, 0, Number.MAX_SAFE_INTEGER).users;
    // `service` was a filter of the legacy list: the users holding that service.
    const filtered = service === undefined ? matching : matching.filter((user) => ctx.services.get(user.id) === service);
    users = filtered.slice(offset, offset + limit);
  }
  return users.map((user) => view(user, ctx));
}

function createUser(req: SimRequest, ctx: LegacyRouteContext): SimAnswer {
  const { service, v4Body } = translateBody(req, ctx);
  const user = ctx.store.create(validateCreate(v4Body));
  if (service !== undefined) setService(ctx, user.id, service);
  const email = user.contact_details.email ?? '';
  return json(201, view(user, ctx), { location: `${USER_PREFIX}${encodeURIComponent(email)}` });
}

/** A legacy body → its `service` (kept aside) and the V4 body the store validates. */
function translateBody(req: SimRequest, ctx: LegacyRouteContext): { service: string | null | undefined; v4Body: JsonObject } {
  if (req.oversized) throw new LegacyApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== JSON_TYPE && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
    throw new LegacyApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json.');
  }
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody);
  } catch {
    throw new LegacyApiError(400, 'INVALID_JSON', 'The request body is not valid JSON; send one JSON object.');
  }
  if (!isJsonObject(body)) throw new LegacyApiError(400, 'INVALID_JSON', 'The request body must be a JSON object ({...}).');
  const { service, ...rest } = body;
  if (service !== undefined && service !== null && typeof service !== 'string') {
    throw new LegacyApiError(422, 'VALIDATION_FAILED', 'service: must be a string or null.');
  }
  return { service: service === undefined ? undefined : service, v4Body: ctx.rules.requestToV4(JSON.stringify(rest)).body };
}

function setService(ctx: LegacyRouteContext, id: string, service: string | null): void {
  if (service === null) ctx.services.delete(id);
  else ctx.services.set(id, service);
}

function view(user: V4User, ctx: LegacyRouteContext): JsonObject {
  return legacyUserOf(user, ctx.rules, ctx.services.get(user.id));
}

function emailOf(segment: string): string {
  let email: string;
  try {
    email = decodeURIComponent(segment);
  } catch {
    throw new LegacyApiError(400, 'INVALID_EMAIL', 'The email in the path is not valid percent-encoding.');
  }
  const problem = emailProblem(email);
  if (problem !== null) throw new LegacyApiError(400, 'INVALID_EMAIL', `The email in the path ${problem}.`);
  return email;
}

function userByEmail(store: TenantStore, email: string): V4User {
  const { users } = store.find({ email }, 0, 2);
  const [user] = users;
  if (user === undefined) throw new LegacyApiError(404, 'USER_NOT_FOUND', 'No user has this email.');
  if (users.length > 1) throw new LegacyApiError(409, 'AMBIGUOUS_EMAIL', 'More than one user has this email.');
  return user;
}

function integer(text: string | undefined, name: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]{1,15}$/.test(text) ? Number(text) : NaN;
  if (!(n >= min)) throw new LegacyApiError(400, 'INVALID_QUERY', `${name} must be a whole number ≥ ${min}.`);
  return n;
}

function json(status: number, value: unknown, headers: Record<string, string> = {}): SimAnswer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

function methodNotAllowed(allow: string): LegacyApiError {
  return new LegacyApiError(405, 'METHOD_NOT_ALLOWED', `Allowed methods: ${allow}.`, { allow });
}

/** The store's and the field rules' errors, in the legacy envelope; anything else is a bug and propagates. */
function asLegacyError(error: unknown): LegacyApiError {
  if (error instanceof LegacyApiError) return error;
  if (error instanceof V4ApiError) return new LegacyApiError(error.status, error.code, error.message);
  if (error instanceof GatewayError) return new LegacyApiError(error.status, error.code, error.message);
  throw error;
}
