import { LEGACY_COLLECTION_PATH, LEGACY_ROUTE_TABLE, legacyLocation, matchLegacyPath, type LegacyRouteId } from '../../src/translation/routes';

const COLLECTION = '/api/management/user';
const ITEM = '/api/management/user/jane%2Bnews%40example.com';
const COLLECTION_ALLOW = 'GET, HEAD, POST, OPTIONS';
const ITEM_ALLOW = 'GET, HEAD, PUT, DELETE, OPTIONS';

describe('matchLegacyPath on the collection', () => {
  it.each<[string, LegacyRouteId, boolean]>([
    ['GET', 'list-users', false],
    ['HEAD', 'list-users', true],
    ['POST', 'create-user', false],
  ])('%s → route %s (head %s)', (method, id, head) => {
    const match = matchLegacyPath(method, COLLECTION);
    expect(match).toEqual({ kind: 'route', route: expect.objectContaining({ id, template: COLLECTION }), head, emailSegment: null, template: COLLECTION });
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'get'])('%s → 405 with Allow', (method) => {
    expect(matchLegacyPath(method, COLLECTION)).toEqual({ kind: 'method-not-allowed', template: COLLECTION, allow: COLLECTION_ALLOW });
  });

  it('OPTIONS → options with Allow', () => {
    expect(matchLegacyPath('OPTIONS', COLLECTION)).toEqual({ kind: 'options', template: COLLECTION, allow: COLLECTION_ALLOW });
  });

  it.each(['GET', 'POST', 'OPTIONS', 'PUT'])('a trailing slash is the collection too (%s)', (method) => {
    const plain = matchLegacyPath(method, COLLECTION);
    const slashed = matchLegacyPath(method, COLLECTION + '/');
    expect(slashed).toEqual(plain);
  });
});

describe('matchLegacyPath on an item', () => {
  const TEMPLATE = '/api/management/user/{email}';

  it.each<[string, LegacyRouteId, boolean]>([
    ['GET', 'get-user', false],
    ['HEAD', 'get-user', true],
    ['PUT', 'update-user', false],
    ['DELETE', 'delete-user', false],
  ])('%s → route %s (head %s), with the raw email segment', (method, id, head) => {
    const match = matchLegacyPath(method, ITEM);
    expect(match).toEqual({
      kind: 'route',
      route: expect.objectContaining({ id, template: TEMPLATE }),
      head,
      emailSegment: 'jane%2Bnews%40example.com',
      template: TEMPLATE,
    });
  });

  it.each(['POST', 'PATCH', 'TRACE', 'CONNECT', 'delete'])('%s → 405 with Allow', (method) => {
    expect(matchLegacyPath(method, ITEM)).toEqual({ kind: 'method-not-allowed', template: TEMPLATE, allow: ITEM_ALLOW });
  });

  it('OPTIONS → options with Allow', () => {
    expect(matchLegacyPath('OPTIONS', ITEM)).toEqual({ kind: 'options', template: TEMPLATE, allow: ITEM_ALLOW });
  });

  it.each<[string, string]>([
    ['/api/management/user/a/b@x', 'a/b@x'],
    ['/api/management/user/..', '..'],
    ['/api/management/user/jane@example.com/', 'jane@example.com/'],
    ['/api/management/user//', '/'],
    ['/api/management/user/jane+news@example.com', 'jane+news@example.com'],
  ])('everything after the prefix is the (undecoded) email segment: %s', (path, segment) => {
    const match = matchLegacyPath('GET', path);
    expect(match?.kind).toBe('route');
    if (match?.kind === 'route') {
      expect(match.route.id).toBe('get-user');
      expect(match.emailSegment).toBe(segment);
    }
  });
});

describe('matchLegacyPath with method names from Object.prototype', () => {
  // Was a bug (fixed): the method is looked up in a plain object, so a method named like an Object.prototype
  // member (`constructor`, `toString`, `__proto__`, ...) "finds" a route (the inherited function or
  // Object.prototype itself) instead of being refused with 405. Not reachable through Node's HTTP
  // parser today (it only passes known, upper-case methods), but the function's own contract
  // (every method not offered → method-not-allowed) is broken.
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('a method named %s → 405, not a route', (method) => {
    expect(matchLegacyPath(method, COLLECTION)).toEqual({ kind: 'method-not-allowed', template: COLLECTION, allow: COLLECTION_ALLOW });
  });
});

describe('LEGACY_ROUTE_TABLE', () => {
  it('lists the five routes of the contract with their V4 calls (the ones V4Api makes)', () => {
    expect(LEGACY_ROUTE_TABLE.map((route) => [route.id, route.template, `${route.v4.method} ${route.v4.path}`, route.takesBody])).toEqual([
      ['list-users', COLLECTION, 'GET /api/user/management/v4/users', false],
      ['get-user', '/api/management/user/{email}', 'GET /api/user/management/v4/users/{user_id}', false],
      ['create-user', COLLECTION, 'POST /api/user/management/v4/users', true],
      ['update-user', '/api/management/user/{email}', 'PATCH /api/user/management/v4/users/{user_id}', true],
      ['delete-user', '/api/management/user/{email}', 'DELETE /api/user/management/v4/users/{user_id}', false],
    ]);
  });

  it('maps the list filter cid to V4 external_id, and email to email', () => {
    expect(LEGACY_ROUTE_TABLE.find((route) => route.id === 'list-users')?.v4.query).toEqual({ email: 'email', cid: 'external_id' });
  });
});

describe('matchLegacyPath tells legacy paths from the rest', () => {
  it.each<[string, boolean]>([
    [LEGACY_COLLECTION_PATH, true],
    ['/api/management/user/', true],
    ['/api/management/user/jane%40example.com', true],
    ['/api/management/user/a/b', true],
    ['/api/management/users', false],
    ['/api/management/userx', false],
    ['/api/management', false],
    ['/api/management/', false],
    ['/API/management/user', false],
    ['/api/user/management/v4/users', false],
    ['/', false],
    ['', false],
    ['api/management/user', false],
  ])('%j → %s', (path, expected) => {
    expect(matchLegacyPath('GET', path) !== null).toBe(expected);
  });
});

describe('legacyLocation', () => {
  it.each<[string, string]>([
    ['jane@example.com', '/api/management/user/jane%40example.com'],
    ['jane+news@example.com', '/api/management/user/jane%2Bnews%40example.com'],
    ['a/b@example.com', '/api/management/user/a%2Fb%40example.com'],
    ['a%2B@example.com', '/api/management/user/a%252B%40example.com'],
    ['jörg@example.com', '/api/management/user/j%C3%B6rg%40example.com'],
    ['a?b#c@example.com', '/api/management/user/a%3Fb%23c%40example.com'],
  ])('%j → %s', (email, location) => {
    expect(legacyLocation(email)).toBe(location);
  });

  it('is a legacy item path that matches get-user with the encoded segment', () => {
    const match = matchLegacyPath('GET', legacyLocation('jane+news@example.com'));
    expect(match).toMatchObject({ kind: 'route', emailSegment: 'jane%2Bnews%40example.com' });
  });
});
