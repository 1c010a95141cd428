import { V4_USER_PATH, V4_USERS_PATH } from '../v4/adapter';
import type { V4Method } from '../v4/client';

/**
 * The legacy route table of the contract, as data: which methods each legacy path offers and
 * what each becomes in V4 (method, path template, query names). The V4 calls are made from
 * these entries (V4Api), so each difference between the two APIs is written here once.
 */
export const LEGACY_COLLECTION_PATH = '/api/management/user';
const LEGACY_ITEM_PREFIX = `${LEGACY_COLLECTION_PATH}/`;

export type LegacyRouteId = 'list-users' | 'get-user' | 'create-user' | 'update-user' | 'delete-user';

/** What a legacy route becomes in V4. */
export interface V4Endpoint {
  readonly method: V4Method;
  /** Below the V4 base URL; `{user_id}` is the id resolved from the email, one encoded segment. */
  readonly path: string;
  /** Legacy query parameter → V4 query parameter, for the filters the route takes. */
  readonly query?: Readonly<Record<string, string>>;
}

export interface LegacyRoute {
  readonly id: LegacyRouteId;
  /** The path template, for logs and metrics (never the email itself). */
  readonly template: string;
  /** The call carries a JSON body (translated to V4 by the field rules). */
  readonly takesBody: boolean;
  readonly v4: V4Endpoint;
}

interface PathShape {
  readonly template: string;
  readonly methods: Readonly<Record<string, LegacyRoute>>;
  /** The `Allow` header: the methods offered, plus HEAD for GET and OPTIONS. */
  readonly allow: string;
}

function shape(template: string, routes: Record<string, Omit<LegacyRoute, 'template'>>): PathShape {
  const methods: Record<string, LegacyRoute> = {};
  for (const [method, route] of Object.entries(routes)) methods[method] = { ...route, template };
  const offered = Object.keys(methods);
  if ('GET' in methods) offered.splice(offered.indexOf('GET') + 1, 0, 'HEAD');
  offered.push('OPTIONS');
  return { template, methods, allow: offered.join(', ') };
}

const COLLECTION = shape(LEGACY_COLLECTION_PATH, {
  // Every page, or the page or filter asked for; the legacy `cid` filter is V4's `external_id`.
  GET: { id: 'list-users', takesBody: false, v4: { method: 'GET', path: V4_USERS_PATH, query: { email: 'email', cid: 'external_id' } } },
  POST: { id: 'create-user', takesBody: true, v4: { method: 'POST', path: V4_USERS_PATH } },
});

const ITEM = shape(`${LEGACY_COLLECTION_PATH}/{email}`, {
  GET: { id: 'get-user', takesBody: false, v4: { method: 'GET', path: V4_USER_PATH } },
  PUT: { id: 'update-user', takesBody: true, v4: { method: 'PATCH', path: V4_USER_PATH } },
  DELETE: { id: 'delete-user', takesBody: false, v4: { method: 'DELETE', path: V4_USER_PATH } },
});

/** Every legacy route, in the order of the contract's table (list, get, create, update, delete). */
export const LEGACY_ROUTE_TABLE: readonly LegacyRoute[] = [COLLECTION.methods.GET, ITEM.methods.GET, COLLECTION.methods.POST, ITEM.methods.PUT, ITEM.methods.DELETE] as LegacyRoute[];

const BY_ID = new Map(LEGACY_ROUTE_TABLE.map((route) => [route.id, route]));

export function legacyRoute(id: LegacyRouteId): LegacyRoute {
  return BY_ID.get(id) as LegacyRoute;
}

export type LegacyPathMatch =
  | { readonly kind: 'route'; readonly route: LegacyRoute; readonly head: boolean; readonly emailSegment: string | null; readonly template: string }
  | { readonly kind: 'options'; readonly template: string; readonly allow: string }
  | { readonly kind: 'method-not-allowed'; readonly template: string; readonly allow: string };

/**
 * Matches a path against the legacy routes; null when it is no legacy path. Everything after
 * `/api/management/user/` is the raw email segment, slashes included, so that `a/b@x` and
 * `..` are refused as emails rather than routed anywhere. A trailing slash alone is the collection.
 */
export function matchLegacyPath(method: string, path: string): LegacyPathMatch | null {
  if (!path.startsWith(LEGACY_COLLECTION_PATH)) return null;
  let rest: string | null;
  if (path.length === LEGACY_COLLECTION_PATH.length) rest = null;
  else if (path.startsWith(LEGACY_ITEM_PREFIX)) rest = path.length > LEGACY_ITEM_PREFIX.length ? path.slice(LEGACY_ITEM_PREFIX.length) : null;
  else return null;
  const target = rest === null ? COLLECTION : ITEM;
  if (method === 'OPTIONS') return { kind: 'options', template: target.template, allow: target.allow };
  const head = method === 'HEAD';
  const wanted = head ? 'GET' : method;
  const route = Object.hasOwn(target.methods, wanted) ? target.methods[wanted] : undefined;
  if (route === undefined) return { kind: 'method-not-allowed', template: target.template, allow: target.allow };
  return { kind: 'route', route, head, emailSegment: rest, template: target.template };
}

/** The legacy `Location` of a user: its email as one percent-encoded path segment. */
export function legacyLocation(email: string): string {
  return `${LEGACY_ITEM_PREFIX}${encodeURIComponent(email)}`;
}
