// The V4 simulator is the upstream of every other integration test, so its strictness is
// tested here over real HTTP (node:http, so paths and query strings go out byte for byte).
import { request, type IncomingHttpHeaders } from 'node:http';
import { V4ApiError, V4Simulator, type V4User } from '../../src/v4-simulator';

const USERS = '/api/user/management/v4/users';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

interface CallOptions {
  /** API key sent as "Apikey <key>"; null sends no Authorization. Default k1. */
  key?: string | null;
  headers?: Record<string, string>;
  /** An object is sent as JSON with Content-Type application/json. */
  body?: string | object;
  timeoutMs?: number;
}

let sim: V4Simulator;

function call(method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const key = opts.key === undefined ? 'k1' : opts.key;
  if (key !== null) headers.authorization = `Apikey ${key}`;
  let payload: string | undefined;
  if (typeof opts.body === 'string') payload = opts.body;
  else if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, opts.headers);
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    // agent: false, so no pooled socket outlives a test's simulator.
    const req = request(`${sim.url}${path}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.timeoutMs !== undefined) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error('client timeout')));
    req.end(payload);
  });
}

function json(reply: Reply): Record<string, unknown> {
  return JSON.parse(reply.text) as Record<string, unknown>;
}

function errorOf(reply: Reply): { code: string; message: string } {
  return (json(reply) as { error: { code: string; message: string } }).error;
}

function page(reply: Reply): { data: V4User[]; meta: { offset: number; limit: number; total: number } } {
  return json(reply) as unknown as { data: V4User[]; meta: { offset: number; limit: number; total: number } };
}

const newUser = (email: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  contact_details: { email },
  ...extra,
});

beforeEach(async () => {
  sim = new V4Simulator({ apiKeys: ['k1', 'k2'], bodyLimitBytes: 16 * 1024 });
  await sim.start();
});

afterEach(async () => {
  await sim.stop();
});

describe('routing and auth', () => {
  it.each([
    ['no Authorization', null, undefined],
    ['an unknown key', 'nope', undefined],
    ['another scheme', null, { authorization: 'Bearer k1' }],
    ['a lower-case scheme', null, { authorization: 'apikey k1' }],
    ['an extra space', null, { authorization: 'Apikey  k1' }],
  ])('answers 401 UNAUTHORIZED for %s', async (_label, key, headers) => {
    const reply = await call('GET', USERS, { key, headers });
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(errorOf(reply).code).toBe('UNAUTHORIZED');
  });

  it('checks the key before the method and the body', async () => {
    expect((await call('PUT', USERS, { key: 'nope' })).status).toBe(401);
    expect((await call('POST', USERS, { key: 'nope', body: '{' })).status).toBe(401);
  });

  it.each([['/api/user/management/v4/user'], [`${USERS}/`], [`${USERS}/a/b`], ['/']])('answers 404 NOT_FOUND for %s', async (path) => {
    const reply = await call('GET', path, { key: null });
    expect(reply.status).toBe(404);
    expect(errorOf(reply).code).toBe('NOT_FOUND');
  });

  it.each([
    ['PUT', USERS, 'GET, POST'],
    ['DELETE', USERS, 'GET, POST'],
    ['POST', `${USERS}/x`, 'GET, PATCH, DELETE'],
    ['PUT', `${USERS}/x`, 'GET, PATCH, DELETE'],
  ])('answers 405 with Allow for %s %s', async (method, path, allow) => {
    const reply = await call(method, path);
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe(allow);
  });

  it('keeps each tenant to its own users', async () => {
    const created = json(await call('POST', USERS, { body: newUser('jane@example.com') }));
    const id = String(created.id);
    expect((await call('GET', `${USERS}/${id}`, { key: 'k2' })).status).toBe(404);
    expect((await call('DELETE', `${USERS}/${id}`, { key: 'k2' })).status).toBe(404);
    expect(page(await call('GET', USERS, { key: 'k2' })).meta.total).toBe(0);
    expect((await call('POST', USERS, { key: 'k2', body: newUser('jane@example.com') })).status).toBe(201);
    expect(sim.listUsers('k1')).toHaveLength(1);
    expect(sim.listUsers('k2')).toHaveLength(1);
  });

  it('accepts a tenant added after construction', async () => {
    expect((await call('GET', USERS, { key: 'late' })).status).toBe(401);
    sim.addTenant('late');
    expect((await call('GET', USERS, { key: 'late' })).status).toBe(200);
  });
});

describe('POST /users', () => {
  it('creates a user: 201, Location, server-set fields, fixed key order, no password', async () => {
    const before = Math.floor(Date.now() / 1000);
    const reply = await call('POST', USERS, {
      body: newUser('Jane@Example.com', { name: 'Jane', security: { user_password: 'correct horse' }, external_id: 'CUST-1' }),
    });
    expect(reply.status).toBe(201);
    const user = json(reply) as unknown as V4User;
    expect(user.id).toMatch(UUID);
    expect(reply.headers.location).toBe(`${USERS}/${user.id}`);
    expect(Object.keys(user)).toEqual(['id', 'name', 'contact_details', 'registration_information', 'external_id', 'default_user_profile']);
    expect(user.contact_details).toEqual({ email: 'Jane@Example.com' });
    expect(user.registration_information.registration_state).toBe('UNREGISTERED');
    expect(user.registration_information.registration_time).toBeGreaterThanOrEqual(before);
    expect(user.registration_information.registration_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(user.default_user_profile.id).toMatch(UUID);
    expect(user.default_user_profile.id).not.toBe(user.id);
    expect(user.default_user_profile.name).toBe('Jane');
    expect(reply.text).not.toContain('correct horse');
    expect(json(await call('GET', `${USERS}/${user.id}`))).toEqual(user);
  });

  it('names the default profile after the email when there is no name, and keeps the given state and flags', async () => {
    const user = json(
      await call('POST', USERS, {
        body: newUser('x@example.com', { registration_information: { registration_state: 'REGISTERED' }, user_flags: ['LICENSE_PURCHASE_RESTRICTED'] }),
      }),
    ) as unknown as V4User;
    expect(user.default_user_profile.name).toBe('x@example.com');
    expect(user.registration_information.registration_state).toBe('REGISTERED');
    expect(user.user_flags).toEqual(['LICENSE_PURCHASE_RESTRICTED']);
    expect(user).not.toHaveProperty('name');
    expect(user).not.toHaveProperty('external_id');
  });

  it('answers 409 EMAIL_TAKEN for an email already used, compared case-insensitively', async () => {
    expect((await call('POST', USERS, { body: newUser('jane@example.com') })).status).toBe(201);
    const reply = await call('POST', USERS, { body: newUser('JANE@example.COM') });
    expect(reply.status).toBe(409);
    expect(errorOf(reply).code).toBe('EMAIL_TAKEN');
    expect(sim.listUsers('k1')).toHaveLength(1);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a forwarded cid', newUser('a@example.com', { cid: 'CUST-1' }), 'cid'],
    ['a forwarded service', newUser('a@example.com', { service: 'premium' }), 'service'],
    ['a top-level registration_time', newUser('a@example.com', { registration_time: 1 }), 'registration_time'],
    ['a nested registration_time', newUser('a@example.com', { registration_information: { registration_time: 1 } }), 'registration_information.registration_time'],
    ['default_user_profile', newUser('a@example.com', { default_user_profile: { id: 'p', name: 'n' } }), 'default_user_profile'],
    ['id', newUser('a@example.com', { id: 'mine' }), 'id'],
    ['an unknown flag', newUser('a@example.com', { user_flags: ['VIP'] }), 'user_flags[0]'],
    ['flags that are not an array', newUser('a@example.com', { user_flags: 'LICENSE_PURCHASE_RESTRICTED' }), 'user_flags'],
    ['an unknown registration_state', newUser('a@example.com', { registration_information: { registration_state: 'ACTIVE' } }), 'registration_state'],
    ['no contact_details', { name: 'n' }, 'contact_details'],
    ['no email', { contact_details: { telephone_number_E123: '+44 20 7946 0958' } }, 'contact_details.email'],
    ['an email without @', newUser('example.com'), 'contact_details.email'],
    ['an email with two @', newUser('a@b@example.com'), 'contact_details.email'],
    ['an email with a space', newUser('a b@example.com'), 'contact_details.email'],
    ['an email of 255 characters', newUser(`${'a'.repeat(243)}@example.com`), 'contact_details.email'],
    ['an unknown contact attribute', { contact_details: { email: 'a@example.com', fax: '1' } }, 'contact_details.fax'],
    ['a numeric telephone', { contact_details: { email: 'a@example.com', telephone_number_E123: 44 } }, 'telephone_number_E123'],
    ['a short password', newUser('a@example.com', { security: { user_password: 'short' } }), 'security.user_password'],
    ['a numeric name', newUser('a@example.com', { name: 42 }), 'name'],
    ['a numeric external_id', newUser('a@example.com', { external_id: 42 }), 'external_id'],
  ])('answers 422 VALIDATION_FAILED for %s, naming it', async (_label, body, attribute) => {
    const reply = await call('POST', USERS, { body });
    expect(reply.status).toBe(422);
    expect(errorOf(reply).code).toBe('VALIDATION_FAILED');
    expect(errorOf(reply).message).toContain(attribute);
    expect(sim.listUsers('k1')).toHaveLength(0);
  });

  it('accepts an email of exactly 254 characters and external_id null', async () => {
    const email = `${'a'.repeat(242)}@example.com`;
    expect(email).toHaveLength(254);
    const reply = await call('POST', USERS, { body: newUser(email, { external_id: null }) });
    expect(reply.status).toBe(201);
    expect(json(reply).external_id).toBeNull();
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
    ['a JSON-like type', 'application/merge-patch+json'],
  ])('answers 415 for %s', async (_label, type) => {
    const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
    const reply = await call('POST', USERS, { body: JSON.stringify(newUser('a@example.com')), headers });
    expect(reply.status).toBe(415);
    expect(errorOf(reply).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('accepts a charset suffix on the content type', async () => {
    const reply = await call('POST', USERS, {
      body: JSON.stringify(newUser('a@example.com')),
      headers: { 'content-type': 'Application/JSON; charset=utf-8' },
    });
    expect(reply.status).toBe(201);
  });

  it.each([
    ['broken JSON', '{"contact_details": '],
    ['an empty body', ''],
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"user"'],
  ])('answers 400 VALIDATION_FAILED for %s', async (_label, body) => {
    const reply = await call('POST', USERS, { body, headers: { 'content-type': 'application/json' } });
    expect(reply.status).toBe(400);
    expect(errorOf(reply).code).toBe('VALIDATION_FAILED');
  });

  it('answers 413 PAYLOAD_TOO_LARGE past the body limit and stores nothing', async () => {
    const reply = await call('POST', USERS, { body: newUser('a@example.com', { name: 'x'.repeat(17 * 1024) }) });
    expect(reply.status).toBe(413);
    expect(errorOf(reply).code).toBe('PAYLOAD_TOO_LARGE');
    expect(sim.listUsers('k1')).toHaveLength(0);
  });
});

describe('GET /users (index)', () => {
  beforeEach(() => {
    sim.seedUsers('k1', 7);
  });

  it('pages in creation order with meta', async () => {
    const all = sim.listUsers('k1');
    const reply = await call('GET', `${USERS}?offset=2&limit=3`);
    expect(reply.status).toBe(200);
    const body = page(reply);
    expect(body.meta).toEqual({ offset: 2, limit: 3, total: 7 });
    expect(body.data.map((u) => u.id)).toEqual(all.slice(2, 5).map((u) => u.id));
    expect(body.data[0]).toEqual(all[2]);
  });

  it('defaults to offset 0 and limit 50, and answers an empty page past the end', async () => {
    expect(page(await call('GET', USERS)).meta).toEqual({ offset: 0, limit: 50, total: 7 });
    const past = page(await call('GET', `${USERS}?offset=7`));
    expect(past.data).toEqual([]);
    expect(past.meta.total).toBe(7);
  });

  it('accepts limit 500 and caps the default with a smaller maxLimit', async () => {
    expect(page(await call('GET', `${USERS}?limit=500`)).meta.limit).toBe(500);
    const small = new V4Simulator({ apiKeys: ['k'], maxLimit: 5 });
    small.seedUsers('k', 7);
    const url = await small.start();
    try {
      const res = await fetch(`${url}${USERS}`, { headers: { authorization: 'Apikey k' } });
      const body = (await res.json()) as { data: unknown[]; meta: { limit: number } };
      expect(body.meta.limit).toBe(5);
      expect(body.data).toHaveLength(5);
    } finally {
      await small.stop();
    }
  });

  it.each([
    ['limit=0'],
    ['limit=501'],
    ['limit=-1'],
    ['limit=1.5'],
    ['limit='],
    ['limit'],
    ['offset=-1'],
    ['offset=abc'],
    ['offset=1e3'],
    ['offset=%2B1'],
    ['page=2'],
    ['cid=CUST-1'],
    ['service=x'],
    ['email=a@example.com&email=b@example.com'],
    ['limit=1&limit=1'],
    ['email=%E0%A4%A'],
  ])('answers 400 VALIDATION_FAILED for ?%s', async (query) => {
    const reply = await call('GET', `${USERS}?${query}`);
    expect(reply.status).toBe(400);
    expect(errorOf(reply).code).toBe('VALIDATION_FAILED');
  });

  it('filters by email exactly and case-insensitively', async () => {
    const match = page(await call('GET', `${USERS}?email=USER3%40Example.COM`));
    expect(match.meta.total).toBe(1);
    expect(match.data[0]?.contact_details.email).toBe('user3@example.com');
    expect(page(await call('GET', `${USERS}?email=user3`)).meta.total).toBe(0);
    expect(page(await call('GET', `${USERS}?email=`)).meta.total).toBe(0);
  });

  it('treats + in the query as a literal plus, %2B too, and %20 as a space', async () => {
    sim.createUser('k1', newUser('jane+news@example.com'));
    expect(page(await call('GET', `${USERS}?email=jane+news@example.com`)).meta.total).toBe(1);
    expect(page(await call('GET', `${USERS}?email=jane%2Bnews%40example.com`)).meta.total).toBe(1);
    expect(page(await call('GET', `${USERS}?email=jane%20news@example.com`)).meta.total).toBe(0);
  });

  it('filters by external_id exactly, alone or with email', async () => {
    expect(page(await call('GET', `${USERS}?external_id=CUST-4`)).data.map((u) => u.name)).toEqual(['User 4']);
    expect(page(await call('GET', `${USERS}?external_id=cust-4`)).meta.total).toBe(0);
    expect(page(await call('GET', `${USERS}?email=user4@example.com&external_id=CUST-4`)).meta.total).toBe(1);
    expect(page(await call('GET', `${USERS}?email=user4@example.com&external_id=CUST-5`)).meta.total).toBe(0);
  });

  it('lists users that share an email (seeded on purpose) in creation order, and pages the matches', async () => {
    const a = sim.createUser('k1', newUser('twin@example.com', { name: 'A' }));
    const b = sim.createUser('k1', newUser('Twin@example.com', { name: 'B' }), { allowDuplicateEmail: true });
    expect(() => sim.createUser('k1', newUser('twin@example.com'))).toThrow(V4ApiError);
    const both = page(await call('GET', `${USERS}?email=twin@example.com&limit=2`));
    expect(both.data.map((u) => u.id)).toEqual([a.id, b.id]);
    expect(both.meta.total).toBe(2);
    const second = page(await call('GET', `${USERS}?email=twin@example.com&offset=1&limit=1`));
    expect(second.data.map((u) => u.id)).toEqual([b.id]);
  });

  it('pages correctly after deletions, before and after compaction', async () => {
    const big = new V4Simulator({ apiKeys: ['k'] });
    big.seedUsers('k', 3000);
    const url = await big.start();
    const ids = async (): Promise<string[]> => {
      const out: string[] = [];
      for (let offset = 0; ; offset += 500) {
        const res = await fetch(`${url}${USERS}?offset=${offset}&limit=500`, { headers: { authorization: 'Apikey k' } });
        const body = (await res.json()) as { data: V4User[]; meta: { total: number } };
        out.push(...body.data.map((u) => u.id));
        if (offset + 500 >= body.meta.total) return out;
      }
    };
    try {
      const seeded = big.listUsers('k');
      // Every third: tombstones below the compaction threshold.
      seeded.filter((_, i) => i % 3 === 0).forEach((u) => big.deleteUser('k', u.id));
      let expected = seeded.filter((_, i) => i % 3 !== 0).map((u) => u.id);
      expect(await ids()).toEqual(expected);
      // Most of the rest: tombstones outnumber live users, which compacts.
      expected.slice(0, 1500).forEach((id) => big.deleteUser('k', id));
      expected = expected.slice(1500);
      expect(await ids()).toEqual(expected);
      expect(big.listUsers('k').map((u) => u.id)).toEqual(expected);
      big.createUser('k', newUser('late@example.com'));
      const last = await ids();
      expect(last).toHaveLength(expected.length + 1);
      expect(last.slice(0, -1)).toEqual(expected);
    } finally {
      await big.stop();
    }
  });
});

describe('GET, PATCH and DELETE /users/{user_id}', () => {
  let user: V4User;
  beforeEach(() => {
    user = sim.createUser('k1', {
      name: 'Jane',
      contact_details: { email: 'jane@example.com', telephone_number_E123: '+44 20 7946 0958' },
      registration_information: { registration_state: 'UNREGISTERED' },
      external_id: 'CUST-1',
    });
  });

  it('answers 404 USER_NOT_FOUND for an unknown id, and decodes the id once', async () => {
    const reply = await call('GET', `${USERS}/nope`);
    expect(reply.status).toBe(404);
    expect(errorOf(reply).code).toBe('USER_NOT_FOUND');
    expect((await call('GET', `${USERS}/${encodeURIComponent(user.id)}`)).status).toBe(200);
    expect((await call('GET', `${USERS}/${user.id.replace('-', '%2D')}`)).status).toBe(200);
    expect((await call('GET', `${USERS}/${user.id.replace('-', '%252D')}`)).status).toBe(404);
  });

  it('a user seeded with an id that needs encoding is routed by its one encoded segment, decoded once', async () => {
    const odd = sim.createUser('k1', newUser('odd@example.com'), { id: 'a/b?c#d%e f' });
    expect(odd.id).toBe('a/b?c#d%e f');
    const reply = await call('GET', `${USERS}/${encodeURIComponent(odd.id)}`);
    expect(reply.status).toBe(200);
    expect(json(reply).id).toBe('a/b?c#d%e f');
    expect(sim.requests.at(-1)?.path).toBe(`${USERS}/a%2Fb%3Fc%23d%25e%20f`);
    expect((await call('GET', `${USERS}/a/b%3Fc%23d%25e%20f`)).status).toBe(404); // a raw slash is two segments
    expect((await call('GET', `${USERS}/${encodeURIComponent(encodeURIComponent(odd.id))}`)).status).toBe(404); // decoded once only
    expect((await call('DELETE', `${USERS}/${encodeURIComponent(odd.id)}`)).status).toBe(204);
    expect(sim.getUser('k1', odd.id)).toBeUndefined();
  });

  it('refuses to seed an empty or taken id', () => {
    expect(() => sim.createUser('k1', newUser('x@example.com'), { id: '' })).toThrow(RangeError);
    expect(() => sim.createUser('k1', newUser('y@example.com'), { id: user.id })).toThrow(RangeError);
    expect(sim.listUsers('k1')).toHaveLength(1);
  });

  it('merges nested objects and replaces the rest', async () => {
    const reply = await call('PATCH', `${USERS}/${user.id}`, {
      body: { contact_details: { telephone_number_E123: '+1 555 0100' }, registration_information: { registration_state: 'REGISTERED' }, user_flags: ['LICENSE_PURCHASE_RESTRICTED'], external_id: null },
    });
    expect(reply.status).toBe(200);
    const updated = json(reply) as unknown as V4User;
    expect(updated.contact_details).toEqual({ email: 'jane@example.com', telephone_number_E123: '+1 555 0100' });
    expect(updated.registration_information).toEqual({ registration_state: 'REGISTERED', registration_time: user.registration_information.registration_time });
    expect(updated.user_flags).toEqual(['LICENSE_PURCHASE_RESTRICTED']);
    expect(updated.external_id).toBeNull();
    expect(updated.name).toBe('Jane');
    expect(updated.default_user_profile).toEqual(user.default_user_profile);
    expect(Object.keys(updated)).toEqual(['id', 'name', 'user_flags', 'contact_details', 'registration_information', 'external_id', 'default_user_profile']);
    expect(sim.getUser('k1', user.id)).toEqual(updated);
    expect(page(await call('GET', `${USERS}?external_id=CUST-1`)).meta.total).toBe(0);
  });

  it('moves the email index with an email change, and answers 409 for another user’s email', async () => {
    sim.createUser('k1', newUser('other@example.com'));
    const taken = await call('PATCH', `${USERS}/${user.id}`, { body: { contact_details: { email: 'OTHER@example.com' } } });
    expect(taken.status).toBe(409);
    expect(errorOf(taken).code).toBe('EMAIL_TAKEN');
    expect(sim.getUser('k1', user.id)?.contact_details.email).toBe('jane@example.com');
    expect((await call('PATCH', `${USERS}/${user.id}`, { body: { contact_details: { email: 'Jane@Example.com' } } })).status).toBe(200);
    expect((await call('PATCH', `${USERS}/${user.id}`, { body: { contact_details: { email: 'new@example.com' } } })).status).toBe(200);
    expect(page(await call('GET', `${USERS}?email=jane@example.com`)).meta.total).toBe(0);
    expect(page(await call('GET', `${USERS}?email=new@example.com`)).data[0]?.id).toBe(user.id);
    expect((await call('POST', USERS, { body: newUser('jane@example.com') })).status).toBe(201);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['default_user_profile', { default_user_profile: { id: 'x', name: 'y' } }, 'default_user_profile'],
    ['registration_time', { registration_information: { registration_time: 5 } }, 'registration_time'],
    ['cid', { cid: 'CUST-2' }, 'cid'],
    ['security (not in UserUpdate)', { security: { user_password: 'long enough' } }, 'security'],
    ['a bad email', { contact_details: { email: 'nope' } }, 'contact_details.email'],
  ])('answers 422 for %s and leaves the user as it was', async (_label, body, attribute) => {
    const reply = await call('PATCH', `${USERS}/${user.id}`, { body });
    expect(reply.status).toBe(422);
    expect(errorOf(reply).message).toContain(attribute);
    expect(sim.getUser('k1', user.id)).toEqual(user);
  });

  it('answers 404 for PATCH of an unknown id and 415 without JSON', async () => {
    expect((await call('PATCH', `${USERS}/nope`, { body: { name: 'x' } })).status).toBe(404);
    expect((await call('PATCH', `${USERS}/${user.id}`, { body: '{"name":"x"}', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('deletes with 204 and no body, then 404, and frees the email', async () => {
    const reply = await call('DELETE', `${USERS}/${user.id}`, { body: 'ignored', headers: { 'content-type': 'text/plain' } });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect((await call('GET', `${USERS}/${user.id}`)).status).toBe(404);
    expect((await call('DELETE', `${USERS}/${user.id}`)).status).toBe(404);
    expect((await call('POST', USERS, { body: newUser('jane@example.com') })).status).toBe(201);
  });
});

describe('direct store access', () => {
  it('hands out copies, so callers cannot change the store', () => {
    const user = sim.createUser('k1', newUser('a@example.com', { user_flags: [] }));
    user.contact_details.email = 'changed@example.com';
    user.user_flags?.push('X');
    const [listed] = sim.listUsers('k1');
    expect(listed?.id).toBe(user.id);
    (listed as V4User).name = 'changed';
    expect(sim.getUser('k1', user.id)?.contact_details.email).toBe('a@example.com');
    expect(sim.getUser('k1', user.id)?.user_flags).toEqual([]);
    expect(sim.getUser('k1', user.id)).not.toHaveProperty('name');
  });

  it('validates like the HTTP API and throws for unknown users and tenants', () => {
    expect(() => sim.createUser('k1', { contact_details: { email: 'a@example.com' }, cid: 'x' })).toThrow(/cid/);
    expect(() => sim.updateUser('k1', 'nope', { name: 'x' })).toThrow(expect.objectContaining({ status: 404, code: 'USER_NOT_FOUND' }));
    expect(() => sim.listUsers('nobody')).toThrow(/Unknown tenant/);
    expect(sim.deleteUser('k1', 'nope')).toBe(false);
    expect(sim.getUser('k1', 'nope')).toBeUndefined();
  });

  it('updates behind the gateway’s back, visible over HTTP', async () => {
    const user = sim.createUser('k1', newUser('a@example.com'));
    sim.updateUser('k1', user.id, { contact_details: { email: 'b@example.com' } });
    expect(page(await call('GET', `${USERS}?email=a@example.com`)).meta.total).toBe(0);
    expect(page(await call('GET', `${USERS}?email=b@example.com`)).data[0]?.id).toBe(user.id);
  });

  it('seeds 100,000 users quickly and serves the last page and a filter without scanning', async () => {
    const big = new V4Simulator({ apiKeys: ['k'], record: false });
    const started = Date.now();
    big.seedUsers('k', 100_000);
    const seedMs = Date.now() - started;
    // Target ~2 s on a developer machine; the bound is loose for shared CI runners but still
    // fails on anything quadratic.
    expect(seedMs).toBeLessThan(5_000);
    const url = await big.start();
    try {
      const headers = { authorization: 'Apikey k' };
      const last = (await (await fetch(`${url}${USERS}?offset=99998&limit=5`, { headers })).json()) as { data: V4User[]; meta: { total: number } };
      expect(last.meta.total).toBe(100_000);
      expect(last.data.map((u) => u.name)).toEqual(['User 99998', 'User 99999']);
      const one = (await (await fetch(`${url}${USERS}?email=USER77777@example.com`, { headers })).json()) as { data: V4User[] };
      expect(one.data.map((u) => u.external_id)).toEqual(['CUST-77777']);
      expect(big.requests).toHaveLength(0); // record: false
    } finally {
      await big.stop();
    }
  });
});

describe('faults', () => {
  const create = (email: string, timeoutMs?: number): Promise<Reply> => call('POST', USERS, { body: newUser(email), timeoutMs });

  it('delay: waits, then answers normally and applies the write', async () => {
    sim.addFault({ kind: 'delay', delayMs: 150, method: 'POST', path: USERS, times: 1 });
    const started = Date.now();
    const reply = await create('slow@example.com');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(reply.status).toBe(201);
    expect(sim.listUsers('k1')).toHaveLength(1);
    const fast = Date.now();
    await create('fast@example.com');
    expect(Date.now() - fast).toBeLessThan(140);
  });

  it('status: answers the given status and headers without touching the store, `times` times', async () => {
    sim.addFault({ kind: 'status', status: 503, headers: { 'Retry-After': '2' }, method: 'POST', times: 2 });
    for (const email of ['a@example.com', 'b@example.com']) {
      const reply = await create(email);
      expect(reply.status).toBe(503);
      expect(reply.headers['retry-after']).toBe('2');
      expect(reply.headers['content-type']).toBe('application/json');
      expect(errorOf(reply).code).toBe('INJECTED_FAULT');
    }
    expect(sim.listUsers('k1')).toHaveLength(0);
    expect((await create('a@example.com')).status).toBe(201);
  });

  it('status: answers a given body as is, and also before auth', async () => {
    sim.addFault({ kind: 'status', status: 502, body: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
    const reply = await call('GET', USERS, { key: null });
    expect(reply.status).toBe(502);
    expect(reply.text).toBe('<html>bad gateway</html>');
    expect(reply.headers['content-type']).toBe('text/html');
  });

  it('status with afterApply: the write is stored, the answer is the fault', async () => {
    sim.addFault({ kind: 'status', status: 500, method: 'POST', afterApply: true, times: 1 });
    expect((await create('applied@example.com')).status).toBe(500);
    expect(sim.listUsers('k1').map((u) => u.contact_details.email)).toEqual(['applied@example.com']);
  });

  it('reset: the connection drops without an answer and nothing is stored', async () => {
    sim.addFault({ kind: 'reset', method: 'POST', times: 1 });
    await expect(create('lost@example.com')).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.listUsers('k1')).toHaveLength(0);
    expect((await create('lost@example.com')).status).toBe(201);
  });

  it('reset with afterApply: the write is stored, the answer is lost', async () => {
    const user = sim.createUser('k1', newUser('a@example.com'));
    sim.addFault({ kind: 'reset', method: 'DELETE', afterApply: true });
    await expect(call('DELETE', `${USERS}/${user.id}`)).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(sim.getUser('k1', user.id)).toBeUndefined();
  });

  it('hang: never answers and stores nothing; stop() closes the connection', async () => {
    sim.addFault({ kind: 'hang', method: 'POST', path: /\/users$/ });
    await expect(create('hung@example.com', 200)).rejects.toThrow('client timeout');
    expect(sim.listUsers('k1')).toHaveLength(0);
    const pending = create('hung2@example.com');
    const outcome = pending.then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 50));
    const stopping = Date.now();
    await sim.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(await outcome).toBe('closed');
    await sim.start(); // for afterEach
  });

  it('garbage: 200 application/json that is not JSON', async () => {
    sim.addFault({ kind: 'garbage', method: 'GET' });
    const reply = await call('GET', USERS);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(reply.text) as unknown).toThrow(SyntaxError);
  });

  it('huge: streams a JSON body of exactly hugeBytes', async () => {
    sim.addFault({ kind: 'huge', hugeBytes: 1_000_000, times: 1 });
    const reply = await call('GET', USERS);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe('1000000');
    expect(Buffer.byteLength(reply.text)).toBe(1_000_000);
    expect(typeof JSON.parse(reply.text)).toBe('string');
  });

  it('matches method and path (string exact, RegExp), first rule first, and clearFaults removes them', async () => {
    const user = sim.createUser('k1', newUser('a@example.com'));
    sim.addFault({ kind: 'status', status: 418, method: 'get', path: `${USERS}/${user.id}` });
    sim.addFault({ kind: 'status', status: 503, path: /^\/api\/user\/management\/v4\/users\/[^/]+$/ });
    expect((await call('GET', USERS)).status).toBe(200);
    expect((await call('GET', `${USERS}/${user.id}`)).status).toBe(418);
    expect((await call('PATCH', `${USERS}/${user.id}`, { body: { name: 'x' } })).status).toBe(503);
    expect(sim.getUser('k1', user.id)).not.toHaveProperty('name');
    sim.clearFaults();
    expect((await call('GET', `${USERS}/${user.id}`)).status).toBe(200);
  });

  it('rejects a rule that cannot work when it is added', () => {
    expect(() => sim.addFault({ kind: 'delay' })).toThrow(/delayMs/);
    expect(() => sim.addFault({ kind: 'explode' as 'hang' })).toThrow(/explode/);
  });
});

describe('recording', () => {
  it('records every request in arrival order, rejected and faulted ones too', async () => {
    sim.addFault({ kind: 'reset', path: '/faulted' });
    await call('GET', USERS, { key: null });
    await call('POST', `${USERS}?x=1`, { body: newUser('a+b@example.com') });
    await expect(call('GET', '/faulted')).rejects.toThrow();
    await call('GET', `${USERS}?email=a+b%40example.com&limit=2`);
    expect(sim.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET ${USERS}`,
      `POST ${USERS}?x=1`,
      'GET /faulted',
      `GET ${USERS}?email=a+b%40example.com&limit=2`,
    ]);
    const [unauthorized, post, , get] = sim.requests;
    expect(unauthorized?.headers.authorization).toBeUndefined();
    expect(post?.path).toBe(USERS);
    expect(post?.headers.authorization).toBe('Apikey k1');
    expect(post?.rawBody).toBe(JSON.stringify(newUser('a+b@example.com')));
    expect(post?.body).toEqual(newUser('a+b@example.com'));
    expect(get?.query).toEqual([
      ['email', 'a+b@example.com'],
      ['limit', '2'],
    ]);
    expect(get?.body).toBeUndefined();
  });

  it('keeps the path raw, filters by method and path prefix, and clears', async () => {
    const user = sim.createUser('k1', newUser('a@example.com'));
    await call('GET', `${USERS}/${user.id.replace('-', '%2D')}`);
    await call('DELETE', `${USERS}/${user.id}`);
    expect(sim.requestsMatching('GET', `${USERS}/`).map((r) => r.path)).toEqual([`${USERS}/${user.id.replace('-', '%2D')}`]);
    expect(sim.requestsMatching('delete')).toHaveLength(1);
    expect(sim.requestsMatching('POST')).toHaveLength(0); // createUser() is not recorded
    const before = sim.requests;
    sim.clearRequests();
    expect(sim.requests).toHaveLength(0);
    expect(before).toHaveLength(2);
  });

  it('records an oversized body as empty, and records nothing with record: false', async () => {
    await call('POST', USERS, { body: newUser('a@example.com', { name: 'x'.repeat(17 * 1024) }) });
    expect(sim.requests[0]?.rawBody).toBe('');
    const quiet = new V4Simulator({ apiKeys: ['k'], record: false });
    const url = await quiet.start();
    try {
      expect((await fetch(`${url}${USERS}`, { headers: { authorization: 'Apikey k' } })).status).toBe(200);
      expect(quiet.requests).toHaveLength(0);
    } finally {
      await quiet.stop();
    }
  });
});

describe('lifecycle', () => {
  it('has no url before start or after stop, and stop() is idempotent', async () => {
    const s = new V4Simulator();
    expect(() => s.url).toThrow(/not started/);
    const url = await s.start(0);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.url).toBe(url);
    await expect(s.start()).rejects.toThrow(/already started/);
    await s.stop();
    await s.stop();
    expect(() => s.url).toThrow(/not started/);
  });

  it('keeps connections alive for 65 s', async () => {
    const res = await fetch(`${sim.url}${USERS}`, { headers: { authorization: 'Apikey k1' } });
    await res.arrayBuffer();
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });
});
