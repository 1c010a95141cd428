import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { apikey, expectEnvelope, KEY_1, KEY_2, startStack, type Stack } from './harness';

describe('the Routes table, end to end against the V4 simulator', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    await stack.close();
  });

  function seedJane(key = KEY_1): string {
    return stack.sim.createUser(key, {
      name: 'Jane Doe',
      contact_details: { email: 'jane+billing@example.com', telephone_number_E123: '+44 20 7946 0958' },
      external_id: 'CUST-0042',
    }).id;
  }

  describe('GET /api/management/user', () => {
    it('returns every user of every V4 page, in order, in the legacy shape', async () => {
      stack.sim.seedUsers(KEY_1, 1203);
      const res = await request(stack.gateway.listener).get('/api/management/user');
      expect(res.status).toBe(200);
      const users = res.body as Array<Record<string, unknown>>;
      expect(users).toHaveLength(1203);
      expect(users[0]).toMatchObject({ email: 'user0@example.com', cid: 'CUST-0' });
      expect(users[1202]).toMatchObject({ email: 'user1202@example.com', cid: 'CUST-1202' });
      expect(users[0]).not.toHaveProperty('external_id');
      expect(users[0]).not.toHaveProperty('contact_details');
      const seen = stack.v4Requests().map((r) => `${r.method} ${r.url}`);
      expect(seen).toEqual([
        'GET /api/user/management/v4/users?offset=0&limit=500',
        'GET /api/user/management/v4/users?offset=500&limit=500',
        'GET /api/user/management/v4/users?offset=1000&limit=500',
      ]);
      expect(stack.v4Requests().every((r) => r.headers.authorization === apikey(KEY_1))).toBe(true);
    });

    it('answers an empty array when V4 holds nobody', async () => {
      const res = await request(stack.gateway.listener).get('/api/management/user');
      expect(res.status).toBe(200);
      expect(res.body).toEqual([]);
    });

    it('?email=E is one V4 call with that filter and gives 0 or 1 legacy user', async () => {
      seedJane();
      const found = await request(stack.gateway.listener).get('/api/management/user?email=Jane%2Bbilling%40Example.com');
      expect(found.status).toBe(200);
      expect(found.body).toEqual([expect.objectContaining({ email: 'jane+billing@example.com', cid: 'CUST-0042' })]);
      const none = await request(stack.gateway.listener).get('/api/management/user?email=nobody%40example.com');
      expect(none.status).toBe(200);
      expect(none.body).toEqual([]);
      expect(stack.v4Requests().map((r) => r.url)).toEqual([
        '/api/user/management/v4/users?email=Jane%2Bbilling%40Example.com',
        '/api/user/management/v4/users?email=nobody%40example.com',
      ]);
    });

    it('?offset=O&limit=L is one V4 page with that offset and limit', async () => {
      stack.sim.seedUsers(KEY_1, 30);
      const res = await request(stack.gateway.listener).get('/api/management/user?offset=10&limit=5');
      expect(res.status).toBe(200);
      expect((res.body as Array<{ email: string }>).map((u) => u.email)).toEqual(['user10@example.com', 'user11@example.com', 'user12@example.com', 'user13@example.com', 'user14@example.com']);
      expect(stack.v4Requests().map((r) => r.url)).toEqual(['/api/user/management/v4/users?offset=10&limit=5']);
    });

    it('?cid=X filters on V4 external_id', async () => {
      seedJane();
      const res = await request(stack.gateway.listener).get('/api/management/user?cid=CUST-0042');
      expect(res.status).toBe(200);
      expect(res.body).toEqual([expect.objectContaining({ cid: 'CUST-0042' })]);
      expect(stack.v4Requests().map((r) => r.url)).toEqual(['/api/user/management/v4/users?external_id=CUST-0042&offset=0&limit=500']);
    });

    it.each([
      ['a parameter given twice', '?email=a%40x.com&email=b%40x.com', 'INVALID_QUERY'],
      ['an unknown parameter', '?page=2', 'INVALID_QUERY'],
      ['a negative offset', '?offset=-1', 'INVALID_QUERY'],
      ['a zero limit', '?limit=0', 'INVALID_QUERY'],
      ['a non-numeric limit', '?limit=ten', 'INVALID_QUERY'],
      ['an implausible email filter', '?email=not-an-email', 'INVALID_EMAIL'],
    ])('refuses %s with 400 and sends nothing to V4', async (_what, query, code) => {
      const res = await request(stack.gateway.listener).get('/api/management/user' + query);
      expectEnvelope(res, 400, code);
      expect(stack.v4Requests()).toHaveLength(0);
    });
  });

  describe('GET /api/management/user/{email}', () => {
    it('resolves the email, reads the user by id and answers the legacy user', async () => {
      const id = seedJane();
      const res = await request(stack.gateway.listener).get('/api/management/user/Jane%2Bbilling%40Example.com');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        id,
        name: 'Jane Doe',
        email: 'jane+billing@example.com',
        cid: 'CUST-0042',
        contact_details: { telephone_number_E123: '+44 20 7946 0958' },
        registration_information: { registration_state: 'UNREGISTERED' },
      });
      expect(stack.v4Requests().map((r) => `${r.method} ${r.url}`)).toEqual([
        'GET /api/user/management/v4/users?email=jane%2Bbilling%40example.com&limit=2',
        `GET /api/user/management/v4/users/${id}`,
      ]);
    });

    it('answers 404 USER_NOT_FOUND for an email V4 does not know, after one lookup', async () => {
      const res = await request(stack.gateway.listener).get('/api/management/user/nobody%40example.com');
      expectEnvelope(res, 404, 'USER_NOT_FOUND');
      expect(stack.v4Requests().map((r) => r.url)).toEqual(['/api/user/management/v4/users?email=nobody%40example.com&limit=2']);
    });

    it('HEAD answers the same status and headers without a body', async () => {
      seedJane();
      const get = await request(stack.gateway.listener).get('/api/management/user/jane%2Bbilling%40example.com');
      const head = await request(stack.gateway.listener).head('/api/management/user/jane%2Bbilling%40example.com');
      expect(head.status).toBe(200);
      expect(head.text ?? '').toBe('');
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      expect(head.headers['content-length']).toBe(get.headers['content-length']);
      expect(head.headers.deprecation).toBe(get.headers.deprecation);
    });
  });

  describe('POST /api/management/user', () => {
    it('creates the user with the body translated and answers 201, the legacy user and a legacy Location', async () => {
      const res = await request(stack.gateway.listener)
        .post('/api/management/user')
        .set('content-type', 'application/json')
        .send({ email: 'sam+x@example.com', name: 'Sam Lee', cid: 'CUST-0100', user_flags: ['LICENSE_PURCHASE_RESTRICTED'] });
      expect(res.status).toBe(201);
      expect(res.headers.location).toBe('/api/management/user/sam%2Bx%40example.com');
      expect(res.body).toMatchObject({ email: 'sam+x@example.com', name: 'Sam Lee', cid: 'CUST-0100', user_flags: ['LICENSE_PURCHASE_RESTRICTED'] });
      expect(res.body).toHaveProperty('default_user_profile.id');
      const posts = stack.v4Requests();
      expect(posts).toHaveLength(1);
      expect(posts[0]).toMatchObject({ method: 'POST', url: '/api/user/management/v4/users' });
      expect(posts[0]?.body).toEqual({ contact_details: { email: 'sam+x@example.com' }, name: 'Sam Lee', external_id: 'CUST-0100', user_flags: ['LICENSE_PURCHASE_RESTRICTED'] });
      expect(posts[0]?.headers.authorization).toBe(apikey(KEY_1));
      expect(stack.sim.listUsers(KEY_1)).toHaveLength(1);
    });

    it('passes V4\'s 409 for a duplicate email through unchanged', async () => {
      seedJane();
      const res = await request(stack.gateway.listener).post('/api/management/user').send({ email: 'JANE+billing@example.com' });
      expect(res.status).toBe(409);
      expect((res.body as { error: { code: string } }).error.code).toBe('EMAIL_TAKEN');
      expect(res.body).not.toHaveProperty('error.request_id');
    });
  });

  describe('PUT /api/management/user/{email}', () => {
    it('is the worked example of the contract: lookup, then PATCH by user_id with the body translated', async () => {
      const id = seedJane();
      const res = await request(stack.gateway.listener)
        .put('/api/management/user/Jane%2Bbilling%40Example.com')
        .set('content-type', 'application/json')
        .set('x-request-id', 'req-0b7e')
        .send('{"cid": "CUST-0043", "name": "Jane Q. Doe", "contact_details": {"telephone_number_E123": "+44 20 7946 0000"}}');
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toBe('req-0b7e');
      expect(res.headers.deprecation).toMatch(/^@\d+$/);
      expect(res.headers.link).toBe('</api/user/management/v4/users>; rel="successor-version"');
      expect(res.body).toMatchObject({ id, name: 'Jane Q. Doe', email: 'jane+billing@example.com', cid: 'CUST-0043', contact_details: { telephone_number_E123: '+44 20 7946 0000' } });
      const [lookup, patch, ...rest] = stack.v4Requests();
      expect(rest).toHaveLength(0);
      expect(lookup).toMatchObject({ method: 'GET', url: '/api/user/management/v4/users?email=jane%2Bbilling%40example.com&limit=2' });
      expect(patch).toMatchObject({ method: 'PATCH', url: `/api/user/management/v4/users/${id}` });
      expect(patch?.body).toEqual({ external_id: 'CUST-0043', name: 'Jane Q. Doe', contact_details: { telephone_number_E123: '+44 20 7946 0000' } });
      expect(patch?.headers.authorization).toBe(apikey(KEY_1));
      expect(patch?.headers['x-request-id']).toBe('req-0b7e');
      expect(patch?.headers['content-type']).toMatch(/^application\/json/);
      expect(stack.sim.getUser(KEY_1, id)?.external_id).toBe('CUST-0043');
    });

    it('keeps fields the client leaves out (V4 PATCH merges)', async () => {
      const id = seedJane();
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%2Bbilling%40example.com').send({ name: 'J' });
      expect(res.status).toBe(200);
      expect(stack.sim.getUser(KEY_1, id)).toMatchObject({ name: 'J', external_id: 'CUST-0042', contact_details: { telephone_number_E123: '+44 20 7946 0958' } });
    });
  });

  describe('DELETE /api/management/user/{email}', () => {
    it('resolves and deletes by user_id, answering V4\'s 204', async () => {
      const id = seedJane();
      const res = await request(stack.gateway.listener).delete('/api/management/user/jane%2Bbilling%40example.com');
      expect(res.status).toBe(204);
      expect(res.text ?? '').toBe('');
      expect(stack.v4Requests().map((r) => `${r.method} ${r.url}`)).toEqual([
        'GET /api/user/management/v4/users?email=jane%2Bbilling%40example.com&limit=2',
        `DELETE /api/user/management/v4/users/${id}`,
      ]);
      expect(stack.sim.listUsers(KEY_1)).toHaveLength(0);
    });
  });

  describe('service, wherever it stands', () => {
    it.each([
      ['GET', '/api/management/user?service=premium', undefined],
      ['GET', '/api/management/user?SERVICE=premium', undefined],
      ['GET', '/api/management/user?Service=a&service=b', undefined],
      ['GET', '/api/management/user?service%5B%5D=a', undefined],
      ['GET', '/api/management/user/jane%40example.com?service=x', undefined],
      ['DELETE', '/api/management/user/jane%40example.com?service=x', undefined],
      ['POST', '/api/management/user', { email: 'a@example.com', service: 'premium' }],
      ['POST', '/api/management/user', { email: 'a@example.com', contact_details: { Service: 'x' } }],
      ['PUT', '/api/management/user/jane%40example.com', { name: 'x', user_flags: [{ service: 'x' }] }],
      ['PUT', '/api/management/user/jane%40example.com?service=premium', { name: 'x' }],
    ])('%s %s → 400 SERVICE_PARAMETER_REMOVED, nothing reaches V4', async (method, path, body) => {
      let req = request(stack.gateway.listener)[method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'](path);
      if (body !== undefined) req = req.send(body);
      const res = await req;
      expectEnvelope(res, 400, 'SERVICE_PARAMETER_REMOVED');
      expect((res.body as { error: { message: string } }).error.message).toBe(
        'The service parameter was removed in User Management V4; manage licenses with the Licenses v4 API (/api/license/v4/users/{user_id}).',
      );
      expect(stack.v4Requests()).toHaveLength(0);
    });
  });

  describe('other paths and methods', () => {
    it('forwards /api/user/management/v4/... unchanged, with the configured key for a caller without one', async () => {
      const id = seedJane();
      const res = await request(stack.gateway.listener).get(`/api/user/management/v4/users/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id, external_id: 'CUST-0042', contact_details: { email: 'jane+billing@example.com' } });
      expect(res.headers.deprecation).toBeUndefined();
      const [forwarded] = stack.v4Requests();
      expect(forwarded).toMatchObject({ method: 'GET', url: `/api/user/management/v4/users/${id}` });
      expect(forwarded?.headers.authorization).toBe(apikey(KEY_1));
    });

    it('forwards a V4 write with the caller\'s own key and body untouched', async () => {
      const res = await request(stack.gateway.listener)
        .post('/api/user/management/v4/users?x=1')
        .set('authorization', apikey(KEY_2))
        .send({ contact_details: { email: 'v4@example.com' }, external_id: 'E1' });
      expect(res.status).toBe(201);
      const [forwarded] = stack.v4Requests();
      expect(forwarded?.url).toBe('/api/user/management/v4/users?x=1');
      expect(forwarded?.headers.authorization).toBe(apikey(KEY_2));
      expect(stack.sim.listUsers(KEY_2)).toHaveLength(1);
      expect(stack.sim.listUsers(KEY_1)).toHaveLength(0);
    });

    it('answers 404 NOT_FOUND for any other path when no legacy backend is configured', async () => {
      const res = await request(stack.gateway.listener).get('/api/other/thing');
      expectEnvelope(res, 404, 'NOT_FOUND');
      expect(stack.v4Requests()).toHaveLength(0);
    });

    // Only the legacy routes are legacy: a path that merely starts like the collection is not one.
    it('answers 404 for a path that only starts like the legacy collection, logged as unknown-route', async () => {
      const res = await request(stack.gateway.listener).get('/api/management/users');
      expectEnvelope(res, 404, 'NOT_FOUND');
      expect(res.headers.deprecation).toBeUndefined();
      const lines = stack.logLines.map((line) => JSON.parse(line) as { message?: string; route?: string; legacy_status?: number; request_id?: string });
      expect(lines.find((line) => line.request_id === res.headers['x-request-id'])).toMatchObject({ message: 'translation', route: 'unknown-route', legacy_status: 404 });
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it.each(['/api/user/management/v4/../../management/user', '/api/user/management/v4/%2e%2e/x', '/api\\user'])('never forwards a path with dot segments: %s', async (path) => {
      const res = await request(stack.gateway.listener).get(path);
      expectEnvelope(res, 404, 'NOT_FOUND');
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it.each([
      ['PATCH', '/api/management/user/jane%40example.com', 'GET, HEAD, PUT, DELETE, OPTIONS'],
      ['POST', '/api/management/user/jane%40example.com', 'GET, HEAD, PUT, DELETE, OPTIONS'],
      ['PUT', '/api/management/user', 'GET, HEAD, POST, OPTIONS'],
      ['DELETE', '/api/management/user', 'GET, HEAD, POST, OPTIONS'],
    ])('%s %s → 405 METHOD_NOT_ALLOWED with Allow', async (method, path, allow) => {
      const res = await request(stack.gateway.listener)[method.toLowerCase() as 'patch' | 'post' | 'put' | 'delete'](path).send({});
      expectEnvelope(res, 405, 'METHOD_NOT_ALLOWED');
      expect(res.headers.allow).toBe(allow);
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it.each([
      ['/api/management/user', 'GET, HEAD, POST, OPTIONS'],
      ['/api/management/user/jane%40example.com', 'GET, HEAD, PUT, DELETE, OPTIONS'],
    ])('OPTIONS %s → 204 with Allow, nothing reaches V4', async (path, allow) => {
      const res = await request(stack.gateway.listener).options(path);
      expect(res.status).toBe(204);
      expect(res.headers.allow).toBe(allow);
      expect(res.headers['x-request-id']).toBeTruthy();
      expect(stack.v4Requests()).toHaveLength(0);
    });
  });
});

describe('a configured legacy backend', () => {
  it('receives every unknown route unchanged, and its answer reaches the client', async () => {
    const received: Array<{ method?: string; url?: string; body: string }> = [];
    const backend = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, body });
        res.writeHead(418, { 'content-type': 'text/plain' });
        res.end('legacy says hi');
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const stack = await startStack({ legacyBaseUrl: `http://127.0.0.1:${(backend.address() as AddressInfo).port}` });
    try {
      const res = await request(stack.gateway.listener).post('/api/management/roles?x=1').set('content-type', 'text/plain').send('hello');
      expect(res.status).toBe(418);
      expect(res.text).toBe('legacy says hi');
      expect(received).toEqual([{ method: 'POST', url: '/api/management/roles?x=1', body: 'hello' }]);
      expect(stack.v4Requests()).toHaveLength(0);
    } finally {
      await stack.close();
      backend.close();
    }
  });
});

describe('V4 pass-through turned off', () => {
  it('answers 404 for V4 paths and forwards nothing', async () => {
    const stack = await startStack({ v4Passthrough: false });
    try {
      const res = await request(stack.gateway.listener).get('/api/user/management/v4/users');
      expectEnvelope(res, 404, 'NOT_FOUND');
      expect(stack.v4Requests()).toHaveLength(0);
    } finally {
      await stack.close();
    }
  });
});
