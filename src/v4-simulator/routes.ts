// V4's routes. Order of checks, as the spec asks: path → 404, API key → 401, method → 405,
// then body (413, 415, 400, 422) and state (404, 409).
import { userNotFound, V4ApiError } from './errors';
import { errorAnswer, jsonAnswer, JSON_TYPE, type SimAnswer, type SimRequest } from './exchange';
import { parseIndexQuery } from './query';
import type { TenantStore } from './store';
import type { JournalEntry } from './types';
import { validateCreate, validateUpdate } from './validate';

export const USERS_PATH = '/api/user/management/v4/users';
const USER_PREFIX = `${USERS_PATH}/`;
const AUTH_SCHEME = 'Apikey ';

export interface RouteContext {
  tenants: ReadonlyMap<string, TenantStore>;
  maxLimit: number;
  bodyLimitBytes: number;
  /** Told of every write that changed the store (absent when recording is off). */
  journal?: (entry: JournalEntry) => void;
}

/** Never throws a V4ApiError: it becomes the answer. Other errors are bugs and propagate. */
export function route(req: SimRequest, ctx: RouteContext): SimAnswer {
  try {
    return dispatch(req, ctx);
  } catch (error) {
    if (error instanceof V4ApiError) return errorAnswer(error);
    throw error;
  }
}

function dispatch(req: SimRequest, ctx: RouteContext): SimAnswer {
  if (req.path === USERS_PATH) {
    const store = authenticate(req, ctx);
    if (req.method === 'GET') return listUsers(req, store, ctx);
    if (req.method === 'POST') return createUser(req, store, ctx);
    throw methodNotAllowed('GET, POST');
  }
  // Exactly one raw segment after the prefix, percent-decoded once: an id holding `/` arrives as
  // `%2F` and stays one segment; a raw `/` is another resource (404).
  const segment = req.path.startsWith(USER_PREFIX) ? req.path.slice(USER_PREFIX.length) : '';
  if (segment === '' || segment.includes('/')) {
    throw new V4ApiError(404, 'NOT_FOUND', `No such resource: ${req.method} ${req.path}.`);
  }
  const store = authenticate(req, ctx);
  const id = decodeUserId(segment);
  switch (req.method) {
    case 'GET':
      return jsonAnswer(200, store.get(id) ?? notFound(id));
    case 'PATCH': {
      const emailBefore = store.get(id)?.contact_details.email;
      const updated = store.update(id, validateUpdate(jsonBody(req, ctx)));
      ctx.journal?.({ requestId: requestIdOf(req), method: 'PATCH', userId: id, emailBefore, emailAfter: updated.contact_details.email });
      return jsonAnswer(200, updated);
    }
    case 'DELETE': {
      const emailBefore = store.get(id)?.contact_details.email;
      if (!store.delete(id)) notFound(id);
      ctx.journal?.({ requestId: requestIdOf(req), method: 'DELETE', userId: id, emailBefore, emailAfter: undefined });
      return { status: 204, headers: {}, body: '' };
    }
    default:
      throw methodNotAllowed('GET, PATCH, DELETE');
  }
}

function listUsers(req: SimRequest, store: TenantStore, ctx: RouteContext): SimAnswer {
  const q = parseIndexQuery(req.rawQuery, ctx.maxLimit);
  const page = store.find(q, q.offset, q.limit);
  return jsonAnswer(200, { data: page.users, meta: { offset: q.offset, limit: q.limit, total: page.total } });
}

function createUser(req: SimRequest, store: TenantStore, ctx: RouteContext): SimAnswer {
  const user = store.create(validateCreate(jsonBody(req, ctx)));
  ctx.journal?.({ requestId: requestIdOf(req), method: 'POST', userId: user.id, emailBefore: undefined, emailAfter: user.contact_details.email });
  return jsonAnswer(201, user, { location: `${USER_PREFIX}${encodeURIComponent(user.id)}` });
}

function requestIdOf(req: SimRequest): string | undefined {
  const id = req.headers['x-request-id'];
  return typeof id === 'string' ? id : undefined;
}

function authenticate(req: SimRequest, ctx: RouteContext): TenantStore {
  const header = req.headers.authorization;
  const store = header?.startsWith(AUTH_SCHEME) ? ctx.tenants.get(header.slice(AUTH_SCHEME.length)) : undefined;
  if (store === undefined) {
    throw new V4ApiError(401, 'UNAUTHORIZED', 'Send a known API key as "Authorization: Apikey <key>".', {
      'www-authenticate': 'Apikey',
    });
  }
  return store;
}

function decodeUserId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new V4ApiError(400, 'VALIDATION_FAILED', 'The user_id in the path is not valid percent-encoding.');
  }
}

/** The JSON object of a POST/PATCH: 413, 415, then 400 for broken JSON or a non-object. */
function jsonBody(req: SimRequest, ctx: RouteContext): unknown {
  if (req.oversized) {
    throw new V4ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${ctx.bodyLimitBytes} bytes.`);
  }
  const mediaType = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType !== JSON_TYPE) {
    throw new V4ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json.');
  }
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody);
  } catch {
    throw new V4ApiError(400, 'VALIDATION_FAILED', 'The request body is not valid JSON.');
  }
  // validateCreate/validateUpdate answer 400 for a non-object (array, null, number, ...).
  return body;
}

function notFound(id: string): never {
  throw userNotFound(id);
}

function methodNotAllowed(allow: string): V4ApiError {
  return new V4ApiError(405, 'METHOD_NOT_ALLOWED', `Allowed methods: ${allow}.`, { allow });
}
