import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { apikey, expectEnvelope, KEY_1, KEY_2, startStack, type Stack } from './harness';

describe('the error table: gateway-made errors and what reaches V4', () => {
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' }, external_id: 'C1' });
  });
  afterEach(async () => {
    await stack.close();
  });

  describe('400 INVALID_JSON, 413, 415 for bodies', () => {
    it.each([
      ['broken JSON', '{"name": ', 'application/json', 400, 'INVALID_JSON'],
      ['an array', '[1,2]', 'application/json', 400, 'INVALID_JSON'],
      ['a string', '"jane"', 'application/json', 400, 'INVALID_JSON'],
      ['null', 'null', 'application/json', 400, 'INVALID_JSON'],
      ['a __proto__ key', '{"name":"x","__proto__":{"admin":true}}', 'application/json', 400, 'INVALID_JSON'],
      ['a nested constructor key', '{"contact_details":{"constructor":{"prototype":{}}}}', 'application/json', 400, 'INVALID_JSON'],
      ['a prototype key in an array', '{"user_flags":[{"prototype":1}]}', 'application/json', 400, 'INVALID_JSON'],
      ['text/plain', '{"name":"x"}', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['form data', 'name=x', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ])('PUT with %s → %i %s, nothing reaches V4', async (_what, body, type, status, code) => {
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').set('content-type', type).send(body);
      expectEnvelope(res, status, code);
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it('accepts a charset suffix and +json media types', async () => {
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').set('content-type', 'application/merge-patch+json; charset=UTF-8').send('{"name":"J2"}');
      expect(res.status).toBe(200);
      expect(stack.v4Requests().filter((r) => r.method === 'PATCH')).toHaveLength(1);
    });

    it('refuses an empty body with INVALID_JSON', async () => {
      const res = await request(stack.gateway.listener).post('/api/management/user').set('content-type', 'application/json');
      expectEnvelope(res, 400, 'INVALID_JSON');
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it('refuses a gzip-encoded body without inflating it (415)', async () => {
      const res = await request(stack.gateway.listener).post('/api/management/user').set('content-type', 'application/json').set('content-encoding', 'gzip').send('xxxx');
      expectEnvelope(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it('refuses a body past BODY_LIMIT with 413 PAYLOAD_TOO_LARGE', async () => {
      const small = await startStack({ bodyLimit: '1kb' });
      try {
        const res = await request(small.gateway.listener).post('/api/management/user').send({ email: 'big@example.com', name: 'x'.repeat(2000) });
        expectEnvelope(res, 413, 'PAYLOAD_TOO_LARGE');
        expect(small.v4Requests()).toHaveLength(0);
        const fits = await request(small.gateway.listener).post('/api/management/user').send({ email: 'ok@example.com', name: 'x'.repeat(500) });
        expect(fits.status).toBe(201);
      } finally {
        await small.close();
      }
    });
  });

  describe('400 CONFLICTING_FIELDS', () => {
    it.each([
      [{ cid: 'A', external_id: 'B' }],
      [{ email: 'a@example.com', contact_details: { email: 'b@example.com' } }],
    ])('refuses both sides of one rule with different values: %j', async (body) => {
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send(body);
      expectEnvelope(res, 400, 'CONFLICTING_FIELDS');
      expect(stack.v4Requests()).toHaveLength(0);
    });

    it('accepts both sides with the same value, sending the V4 field once', async () => {
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ cid: 'A', external_id: 'A' });
      expect(res.status).toBe(200);
      const patch = stack.v4Requests().find((r) => r.method === 'PATCH');
      expect(patch?.body).toEqual({ external_id: 'A' });
    });
  });

  describe('400 INVALID_EMAIL', () => {
    it.each([
      'no-at-sign',
      'a%2Fb%40example.com',
      'a%5Cb%40example.com',
      'jane%0D%0A%40example.com',
      'jane%00%40example.com',
      'jane%20doe%40example.com',
      'a%40b%40example.com',
      '..',
      '%2e%2e',
      'a%40example.com/extra',
      `${'a'.repeat(300)}%40example.com`,
      '%E0%A4%A',
    ])('%s', async (segment) => {
      for (const method of ['get', 'put', 'delete'] as const) {
        const res = await request(stack.gateway.listener)[method](`/api/management/user/${segment}`).send({ name: 'x' });
        expectEnvelope(res, 400, 'INVALID_EMAIL');
      }
      expect(stack.v4Requests()).toHaveLength(0);
    });
  });

  describe('401 MISSING_CREDENTIALS and the caller\'s own credentials', () => {
    it('answers 401 when neither the caller nor the gateway has a key, and V4 sees nothing', async () => {
      const keyless = await startStack({ v4ApiKey: null });
      try {
        for (const call of [
          request(keyless.gateway.listener).get('/api/management/user'),
          request(keyless.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }),
          request(keyless.gateway.listener).get('/api/user/management/v4/users'),
        ]) {
          expectEnvelope(await call, 401, 'MISSING_CREDENTIALS');
        }
        expect(keyless.v4Requests()).toHaveLength(0);
      } finally {
        await keyless.close();
      }
    });

    it('forwards the caller\'s Authorization as it came (another tenant gets its own users)', async () => {
      stack.sim.createUser(KEY_2, { name: 'Jane of tenant 2', contact_details: { email: 'jane@example.com' } });
      const res = await request(stack.gateway.listener).get('/api/management/user/jane%40example.com').set('authorization', apikey(KEY_2));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ name: 'Jane of tenant 2' });
      expect(stack.v4Requests().every((r) => r.headers.authorization === apikey(KEY_2))).toBe(true);
    });

    it('passes V4\'s 401 for a wrong key through unchanged', async () => {
      const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').set('authorization', 'Apikey wrong').send({ name: 'x' });
      expect(res.status).toBe(401);
      expect((res.body as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      expect(stack.v4Requests().filter((r) => r.method === 'PATCH')).toHaveLength(0);
    });

    it('reads the key from V4_API_KEY_FILE, trimmed', async () => {
      const { mkdtempSync, writeFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { tmpdir } = await import('node:os');
      const file = join(mkdtempSync(join(tmpdir(), 'gw-key-')), 'key');
      writeFileSync(file, `  ${KEY_2}\n`);
      const fromFile = await startStack({ v4ApiKey: null, v4ApiKeyFile: file });
      try {
        const res = await request(fromFile.gateway.listener).get('/api/management/user');
        expect(res.status).toBe(200);
        expect(fromFile.v4Requests()[0]?.headers.authorization).toBe(apikey(KEY_2));
      } finally {
        await fromFile.close();
      }
    });
  });

  describe('403 FORBIDDEN_CLIENT', () => {
    it('refuses callers outside ALLOW_CIDRS on every path, and V4 sees nothing', async () => {
      const closed = await startStack({ allowCidrs: ['10.0.0.0/8'] });
      try {
        for (const path of ['/api/management/user', '/api/user/management/v4/users', '/elsewhere']) {
          expectEnvelope(await request(closed.gateway.listener).get(path), 403, 'FORBIDDEN_CLIENT');
        }
        expect(closed.v4Requests()).toHaveLength(0);
      } finally {
        await closed.close();
      }
    });

    it('believes X-Forwarded-For only from TRUSTED_PROXIES', async () => {
      const proxied = await startStack({ allowCidrs: ['10.1.2.3/32'], trustedProxies: ['127.0.0.1/32', '::1/128'] });
      const untrusted = await startStack({ allowCidrs: ['10.1.2.3/32'] });
      try {
        expect((await request(proxied.gateway.listener).get('/api/management/user').set('x-forwarded-for', '10.1.2.3')).status).toBe(200);
        expectEnvelope(await request(proxied.gateway.listener).get('/api/management/user').set('x-forwarded-for', '10.9.9.9'), 403, 'FORBIDDEN_CLIENT');
        expectEnvelope(await request(untrusted.gateway.listener).get('/api/management/user').set('x-forwarded-for', '10.1.2.3'), 403, 'FORBIDDEN_CLIENT');
      } finally {
        await proxied.close();
        await untrusted.close();
      }
    });
  });

  describe('409 AMBIGUOUS_EMAIL', () => {
    it('refuses to write when V4 holds two users with the email', async () => {
      stack.sim.createUser(KEY_1, { name: 'Jane twin', contact_details: { email: 'JANE@example.com' } }, { allowDuplicateEmail: true });
      for (const call of [
        request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }),
        request(stack.gateway.listener).delete('/api/management/user/jane%40example.com'),
        request(stack.gateway.listener).get('/api/management/user/jane%40example.com'),
      ]) {
        expectEnvelope(await call, 409, 'AMBIGUOUS_EMAIL');
      }
      expect(stack.v4Requests().every((r) => r.method === 'GET' && r.url.includes('?email=jane%40example.com&limit=2'))).toBe(true);
      expect(stack.sim.listUsers(KEY_1).map((u) => u.name)).toEqual(['Jane', 'Jane twin']);
    });
  });

  describe('502 UPSTREAM_ERROR and 504 UPSTREAM_TIMEOUT', () => {
    it('answers 502 when V4 is unreachable', async () => {
      const dead = http.createServer();
      await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
      const port = (dead.address() as AddressInfo).port;
      await new Promise<void>((resolve) => dead.close(() => resolve()));
      const orphan = await startStack({ v4BaseUrl: `http://127.0.0.1:${port}` });
      try {
        expectEnvelope(await request(orphan.gateway.listener).get('/api/management/user/jane%40example.com'), 502, 'UPSTREAM_ERROR');
        expectEnvelope(await request(orphan.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }), 502, 'UPSTREAM_ERROR');
        expectEnvelope(await request(orphan.gateway.listener).get('/api/user/management/v4/users'), 502, 'UPSTREAM_ERROR');
      } finally {
        await orphan.close();
      }
    });

    it('answers 504 when V4 does not answer within UPSTREAM_TIMEOUT_MS', async () => {
      const slow = await startStack({ upstreamTimeoutMs: 300 });
      try {
        slow.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } });
        slow.sim.addFault({ kind: 'hang' });
        expectEnvelope(await request(slow.gateway.listener).get('/api/management/user/jane%40example.com'), 504, 'UPSTREAM_TIMEOUT');
        expectEnvelope(await request(slow.gateway.listener).get('/api/user/management/v4/users'), 504, 'UPSTREAM_TIMEOUT');
      } finally {
        await slow.close();
      }
    });

    it('answers 502 when V4 answers a lookup with something that is not JSON', async () => {
      stack.sim.addFault({ kind: 'garbage', method: 'GET', times: 1 });
      expectEnvelope(await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }), 502, 'UPSTREAM_ERROR');
      expect(stack.v4Requests().filter((r) => r.method === 'PATCH')).toHaveLength(0);
    });

    it('passes V4 5xx and 429 answers through with their status, body and Retry-After', async () => {
      stack.sim.addFault({ kind: 'status', status: 429, headers: { 'retry-after': '7' }, body: '{"error":{"code":"RATE_LIMITED","message":"slow down"}}', times: 1 });
      const res = await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
      expect(res.status).toBe(429);
      expect(res.headers['retry-after']).toBe('7');
      expect(res.body).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down' } });
    });
  });

  describe('what every answer carries', () => {
    it('X-Request-Id on every answer: the caller\'s when sane, a new one otherwise; sent to V4', async () => {
      const mine = await request(stack.gateway.listener).get('/api/management/user').set('x-request-id', 'abc-123');
      expect(mine.headers['x-request-id']).toBe('abc-123');
      expect(stack.v4Requests()[0]?.headers['x-request-id']).toBe('abc-123');
      const bad = await request(stack.gateway.listener).get('/nowhere').set('x-request-id', 'evil\tvalue with spaces');
      expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      const forbidden = await startStack({ allowCidrs: ['10.0.0.0/8'] });
      try {
        expect((await request(forbidden.gateway.listener).get('/x')).headers['x-request-id']).toBeTruthy();
      } finally {
        await forbidden.close();
      }
    });

    it('Deprecation, Link and (when configured) Sunset on legacy answers, errors included', async () => {
      const dated = await startStack({ deprecationDate: '2026-01-01T00:00:00Z', sunsetDate: 'Wed, 30 Jun 2027 00:00:00 GMT' });
      try {
        for (const res of [await request(dated.gateway.listener).get('/api/management/user'), await request(dated.gateway.listener).get('/api/management/user/bad')]) {
          expect(res.headers.deprecation).toBe('@1767225600');
          expect(res.headers.link).toBe('</api/user/management/v4/users>; rel="successor-version"');
          expect(res.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
        }
      } finally {
        await dated.close();
      }
    });
  });
});
