/**
 * The legacy route table of the contract, as data: which methods each legacy path offers and
 * what each becomes. Matching is a prefix test and one slice; it is compiled into constants once.
 */
export const LEGACY_COLLECTION_PATH = '/api/management/user';
const LEGACY_ITEM_PREFIX = `${LEGACY_COLLECTION_PATH}/`;

export type LegacyRouteId = 'list-users' | 'get-user' | 'create-user' | 'update-user' | 'delete-user';

export interface LegacyRoute {
  readonly id: LegacyRouteId;
  /** The path template, for logs and metrics (never the email itself). */
  readonly template: string;
  /** What this route becomes in V4 (method and path template), for the log and the README. */
  readonly v4: string;
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
  GET: { id: 'list-users', v4: 'GET /api/user/management/v4/users (every page, or the page or filter asked for)' },
  POST: { id: 'create-user', v4: 'POST /api/user/management/v4/users' },
});

const ITEM = shape(`${LEGACY_COLLECTION_PATH}/{email}`, {
  GET: { id: 'get-user', v4: 'GET /api/user/management/v4/users/{user_id}' },
  PUT: { id: 'update-user', v4: 'PATCH /api/user/management/v4/users/{user_id}' },
  DELETE: { id: 'delete-user', v4: 'DELETE /api/user/management/v4/users/{user_id}' },
});

export const LEGACY_ROUTES: readonly LegacyRoute[] = [...Object.values(COLLECTION.methods), ...Object.values(ITEM.methods)];

export type LegacyPathMatch =
  | { readonly kind: 'route'; readonly route: LegacyRoute; readonly head: boolean; readonly emailSegment: string | null }
  | { readonly kind: 'options'; readonly template: string; readonly allow: string }
  | { readonly kind: 'method-not-allowed'; readonly template: string; readonly allow: string };

export function isLegacyPath(path: string): boolean {
  return path === LEGACY_COLLECTION_PATH || path.startsWith(LEGACY_ITEM_PREFIX);
}

/**
 * Matches a legacy path (already known to satisfy isLegacyPath). Everything after
 * `/api/management/user/` is the raw email segment, slashes included, so that `a/b@x` and
 * `..` are refused as emails rather than routed anywhere. A trailing slash alone is the collection.
 */
export function matchLegacyPath(method: string, path: string): LegacyPathMatch {
  const rest = path.length > LEGACY_ITEM_PREFIX.length ? path.slice(LEGACY_ITEM_PREFIX.length) : null;
  const target = rest === null ? COLLECTION : ITEM;
  if (method === 'OPTIONS') return { kind: 'options', template: target.template, allow: target.allow };
  const head = method === 'HEAD';
  const wanted = head ? 'GET' : method;
  const route = Object.hasOwn(target.methods, wanted) ? target.methods[wanted] : undefined;
  if (route === undefined) return { kind: 'method-not-allowed', template: target.template, allow: target.allow };
  return { kind: 'route', route, head, emailSegment: rest };
}

/** The template of a legacy path (for logs of calls refused before routing). */
export function legacyTemplate(path: string): string {
  return path.length > LEGACY_ITEM_PREFIX.length ? ITEM.template : COLLECTION.template;
}

/** The legacy `Location` of a user: its email as one percent-encoded path segment. */
export function legacyLocation(email: string): string {
  return `${LEGACY_ITEM_PREFIX}${encodeURIComponent(email)}`;
}
