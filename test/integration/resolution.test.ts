import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import { until } from './controlled-lookup';
import { apikey, KEY_1, KEY_2, startStack, type Stack } from './harness';
import { createMemoryLogger } from './memory-logger';
import type { RecordedRequest } from '../../src/v4-simulator';

const LOOKUP = /^\/api\/user\/management\/v4\/users\?email=/;
const lookups = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.method === 'GET' && LOOKUP.test(r.url));
const byMethod = (requests: RecordedRequest[], method: string): RecordedRequest[] => requests.filter((r) => r.method === method);

describe('resolution: email → user_id, never wrong and rarely slow', () => {
  let stack: Stack;
  afterEach(async () => {
    await stack.close();
  });

  it('two PUTs for one email cost one lookup (the second verifies by id)', async () => {
    stack = await startStack();
    const id = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    expect((await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'A' })).status).toBe(200);
    expect((await request(stack.gateway.listener).put('/api/management/user/JANE%40example.com').send({ name: 'B' })).status).toBe(200);
    const seen = stack.v4Requests().map((r) => `${r.method} ${r.url}`);
    expect(seen).toEqual([
      'GET /api/user/management/v4/users?email=jane%40example.com&limit=2',
      `PATCH /api/user/management/v4/users/${id}`,
      `GET /api/user/management/v4/users/${id}`,
      `PATCH /api/user/management/v4/users/${id}`,
    ]);
    expect(stack.gateway.resolver.stats).toMatchObject({ hits: 1, misses: 1, verifications: 1, verificationMismatches: 0 });
  });

  it('without VERIFY_CACHED_WRITES, the second PUT is the PATCH alone', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    const id = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'A' });
    stack.sim.clearRequests();
    expect((await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'B' })).status).toBe(200);
    expect(stack.v4Requests().map((r) => `${r.method} ${r.url}`)).toEqual([`PATCH /api/user/management/v4/users/${id}`]);
  });

  it('50 concurrent GETs of one cold email share one lookup', async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    stack.sim.addFault({ kind: 'delay', delayMs: 150, method: 'GET', path: '/api/user/management/v4/users', times: 1 });
    const answers = await Promise.all(Array.from({ length: 50 }, () => request(stack.gateway.listener).get('/api/management/user/jane%40example.com')));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
    expect(answers.every((a) => (a.body as { name: string }).name === 'Jane')).toBe(true);
    expect(lookups(stack.v4Requests())).toHaveLength(1);
    expect(stack.gateway.resolver.stats.misses).toBe(1);
    expect(stack.gateway.resolver.stats.coalesced).toBe(49);
  });

  it('a failed lookup is not cached, and every caller waiting on it gets the failure', async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    stack.sim.addFault({ kind: 'status', status: 503, method: 'GET', path: '/api/user/management/v4/users', times: 1 });
    const failed = await Promise.all(Array.from({ length: 5 }, () => request(stack.gateway.listener).get('/api/management/user/jane%40example.com')));
    expect(failed.map((a) => a.status)).toEqual(Array(5).fill(503));
    const later = await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
    expect(later.status).toBe(200);
    expect(lookups(stack.v4Requests())).toHaveLength(2);
    expect(stack.gateway.resolver.stats.lookupsFailed).toBe(1);
  });

  it('keeps tenants apart: one email, two tenants, each reaches its own user', async () => {
    stack = await startStack();
    const one = stack.sim.createUser(KEY_1, { name: 'Tenant 1 Jane', contact_details: { email: 'jane@example.com' } }).id;
    const two = stack.sim.createUser(KEY_2, { name: 'Tenant 2 Jane', contact_details: { email: 'jane@example.com' } }).id;
    const a = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'T1' });
    const b = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').set('authorization', apikey(KEY_2)).send({ name: 'T2' });
    const c = await request(stack.gateway.listener).get('/api/management/user/jane%40example.com').set('authorization', apikey(KEY_2));
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(stack.sim.getUser(KEY_1, one)?.name).toBe('T1');
    expect(stack.sim.getUser(KEY_2, two)?.name).toBe('T2');
    expect((c.body as { id: string }).id).toBe(two);
    const patches = byMethod(stack.v4Requests(), 'PATCH').map((r) => [r.url, r.headers.authorization]);
    expect(patches).toEqual([
      [`/api/user/management/v4/users/${one}`, apikey(KEY_1)],
      [`/api/user/management/v4/users/${two}`, apikey(KEY_2)],
    ]);
    expect(lookups(stack.v4Requests())).toHaveLength(2);
  });

  it('delete then PUT answers 404 and never PATCHes the old id', async () => {
    stack = await startStack();
    const id = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    expect((await request(stack.gateway.listener).delete('/api/management/user/jane%40example.com')).status).toBe(204);
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'ghost' });
    expect(res.status).toBe(404);
    expect((res.body as { error: { code: string } }).error.code).toBe('USER_NOT_FOUND');
    expect(byMethod(stack.v4Requests(), 'PATCH')).toHaveLength(0);
    expect(lookups(stack.v4Requests())).toHaveLength(2);
    expect(stack.v4Requests().some((r) => r.method === 'GET' && r.url.endsWith(id))).toBe(false);
  });

  it('a create caches the new email: the PUT after it needs no lookup', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    const created = await request(stack.gateway.listener).post('/api/management/user').send({ email: 'New@Example.com', name: 'N' });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    expect((await request(stack.gateway.listener).put('/api/management/user/new%40example.com').send({ name: 'N2' })).status).toBe(200);
    expect(lookups(stack.v4Requests())).toHaveLength(0);
    expect(byMethod(stack.v4Requests(), 'PATCH').map((r) => r.url)).toEqual([`/api/user/management/v4/users/${id}`]);
  });

  it('an email change through the gateway moves the cache entry', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    const id = stack.sim.createUser(KEY_1, { contact_details: { email: 'old@example.com' } }).id;
    const moved = await request(stack.gateway.listener).put('/api/management/user/old%40example.com').send({ email: 'new@example.com' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id, email: 'new@example.com' });
    expect(byMethod(stack.v4Requests(), 'PATCH')[0]?.body).toEqual({ contact_details: { email: 'new@example.com' } });
    stack.sim.clearRequests();
    expect((await request(stack.gateway.listener).put('/api/management/user/new%40example.com').send({ name: 'X' })).status).toBe(200);
    expect(lookups(stack.v4Requests())).toHaveLength(0);
    const old = await request(stack.gateway.listener).put('/api/management/user/old%40example.com').send({ name: 'Y' });
    expect(old.status).toBe(404);
    expect(lookups(stack.v4Requests())).toHaveLength(1);
    expect(byMethod(stack.v4Requests(), 'PATCH')).toHaveLength(1);
  });

  it('a user renamed in V4 while a new user takes the old email: the write reaches the new user, never the renamed one', async () => {
    stack = await startStack();
    const renamed = stack.sim.createUser(KEY_1, { name: 'Original', contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).get('/api/management/user/jane%40example.com'); // caches jane → renamed
    stack.sim.updateUser(KEY_1, renamed, { contact_details: { email: 'jane.old@example.com' } });
    const newcomer = stack.sim.createUser(KEY_1, { name: 'Newcomer', contact_details: { email: 'jane@example.com' } }).id;
    stack.sim.clearRequests();
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'Updated' });
    expect(res.status).toBe(200);
    expect((res.body as { id: string }).id).toBe(newcomer);
    expect(stack.sim.getUser(KEY_1, renamed)?.name).toBe('Original');
    expect(stack.sim.getUser(KEY_1, newcomer)?.name).toBe('Updated');
    expect(byMethod(stack.v4Requests(), 'PATCH').map((r) => r.url)).toEqual([`/api/user/management/v4/users/${newcomer}`]);
    expect(stack.gateway.resolver.stats.verificationMismatches).toBe(1);
  });

  it('a renamed user with nobody taking the old email: the DELETE fails with 404 and deletes nothing', async () => {
    stack = await startStack();
    const renamed = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
    stack.sim.updateUser(KEY_1, renamed, { contact_details: { email: 'moved@example.com' } });
    const res = await request(stack.gateway.listener).delete('/api/management/user/jane%40example.com');
    expect(res.status).toBe(404);
    expect(byMethod(stack.v4Requests(), 'DELETE')).toHaveLength(0);
    expect(stack.sim.getUser(KEY_1, renamed)).toBeDefined();
  });

  it('a GET by email of a renamed user notices from the answer it has and looks up afresh', async () => {
    stack = await startStack();
    const renamed = stack.sim.createUser(KEY_1, { name: 'Original', contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
    stack.sim.updateUser(KEY_1, renamed, { contact_details: { email: 'moved@example.com' } });
    const newcomer = stack.sim.createUser(KEY_1, { name: 'Newcomer', contact_details: { email: 'jane@example.com' } }).id;
    stack.sim.clearRequests();
    const res = await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
    expect(res.status).toBe(200);
    expect((res.body as { id: string }).id).toBe(newcomer);
    expect(stack.v4Requests().map((r) => `${r.method} ${r.url}`)).toEqual([
      `GET /api/user/management/v4/users/${renamed}`,
      'GET /api/user/management/v4/users?email=jane%40example.com&limit=2',
      `GET /api/user/management/v4/users/${newcomer}`,
    ]);
  });

  it('delete-and-recreate behind the gateway\'s back heals with one extra lookup', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    const first = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'A' });
    stack.sim.deleteUser(KEY_1, first);
    const second = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    stack.sim.clearRequests();
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'B' });
    expect(res.status).toBe(200);
    expect(stack.v4Requests().map((r) => `${r.method} ${r.url}`)).toEqual([
      `PATCH /api/user/management/v4/users/${first}`,
      'GET /api/user/management/v4/users?email=jane%40example.com&limit=2',
      `PATCH /api/user/management/v4/users/${second}`,
    ]);
    expect(stack.sim.getUser(KEY_1, second)?.name).toBe('B');
    expect(stack.gateway.resolver.stats.selfHeals).toBe(1);
  });

  it('heals at most once: a second 404 goes to the client', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    const first = stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } }).id;
    await request(stack.gateway.listener).get('/api/management/user/jane%40example.com');
    stack.sim.deleteUser(KEY_1, first);
    stack.sim.createUser(KEY_1, { contact_details: { email: 'jane@example.com' } });
    stack.sim.clearRequests();
    stack.sim.addFault({ kind: 'status', status: 404, method: 'PATCH', body: '{"error":{"code":"USER_NOT_FOUND","message":"gone"}}' });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'B' });
    expect(res.status).toBe(404);
    expect(byMethod(stack.v4Requests(), 'PATCH')).toHaveLength(2);
    expect(lookups(stack.v4Requests())).toHaveLength(1);
  });

  it('warm-up pages through the index so a bulk job needs no lookups, and never caches a shared email', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    stack.sim.seedUsers(KEY_1, 1200);
    stack.sim.createUser(KEY_1, { contact_details: { email: 'twin@example.com' } });
    stack.sim.createUser(KEY_1, { contact_details: { email: 'TWIN@example.com' } }, { allowDuplicateEmail: true });
    const report = await stack.gateway.warmUp();
    expect(report).toMatchObject({ pages: 3, users: 1202, cached: 1200, ambiguous: 1 });
    expect(stack.v4Requests().map((r) => r.url)).toEqual([
      '/api/user/management/v4/users?offset=0&limit=500',
      '/api/user/management/v4/users?offset=500&limit=500',
      '/api/user/management/v4/users?offset=1000&limit=500',
    ]);
    stack.sim.clearRequests();
    for (const i of [0, 599, 1199]) {
      expect((await request(stack.gateway.listener).put(`/api/management/user/user${i}%40example.com`).send({ name: `N${i}` })).status).toBe(200);
    }
    expect(stack.v4Requests().map((r) => r.method)).toEqual(['PATCH', 'PATCH', 'PATCH']);
    const twin = await request(stack.gateway.listener).put('/api/management/user/twin%40example.com').send({ name: 'x' });
    expect(twin.status).toBe(409);
    expect(lookups(stack.v4Requests())).toHaveLength(1);
    expect(stack.logLines.some((line) => line.includes('cache warm-up finished'))).toBe(true);
  });

  it('the cache is bounded by CACHE_MAX (least recently used out first) and CACHE_TTL_MS', async () => {
    stack = await startStack({ verifyCachedWrites: false, cacheMax: 2, cacheTtlMs: 300 });
    for (const name of ['a', 'b', 'c']) stack.sim.createUser(KEY_1, { contact_details: { email: `${name}@example.com` } });
    const get = (name: string): Promise<unknown> => request(stack.gateway.listener).get(`/api/management/user/${name}%40example.com`).expect(200);
    await get('a');
    await get('b');
    await get('c'); // evicts a
    expect(stack.gateway.resolver.size).toBe(2);
    expect(stack.gateway.resolver.stats.evictions).toBe(1);
    stack.sim.clearRequests();
    await get('c');
    expect(lookups(stack.v4Requests())).toHaveLength(0);
    await get('a');
    expect(lookups(stack.v4Requests())).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    stack.sim.clearRequests();
    await get('a');
    expect(lookups(stack.v4Requests())).toHaveLength(1);
  });

  it('a read answered before a write moved the email does not put the old mapping back (no later write goes to the old user)', async () => {
    // A real proxy between gateway and V4 that holds the answer to one GET by id: V4 answers at
    // once (the user still has the email), the gateway sees it only after the PUT moved it.
    stack = await startStack({ verifyCachedWrites: false });
    const id = stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } }).id;
    const simUrl = new URL(stack.sim.url);
    let holdPath: string | null = null;
    let fetched = false;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const proxy = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const out = http.request({ host: simUrl.hostname, port: simUrl.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const send = (): void => {
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(Buffer.concat(body));
            };
            if (req.method === 'GET' && req.url === holdPath) {
              holdPath = null;
              fetched = true;
              void released.then(send);
            } else send();
          });
        });
        out.end(Buffer.concat(chunks));
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const gateway = createApp(loadConfig({ env: {}, overrides: { v4BaseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, v4ApiKey: KEY_1, verifyCachedWrites: false } }), createMemoryLogger('info'));
    try {
      expect((await request(gateway.listener).get('/api/management/user/jane%40example.com')).status).toBe(200);
      holdPath = `/api/user/management/v4/users/${id}`;
      const slowRead = request(gateway.listener).get('/api/management/user/jane%40example.com').then((r) => r);
      await until('the held read to be answered by V4', () => fetched);
      const moved = await request(gateway.listener).put('/api/management/user/jane%40example.com').send({ email: 'jane.new@example.com' });
      expect(moved.status).toBe(200);
      release();
      const read = await slowRead;
      expect(read.status).toBe(200); // read before the write: the old answer is still a true one
      stack.sim.clearRequests();
      // jane@example.com is nobody's now: a write to it must look it up and find nobody.
      const late = await request(gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'Not Jane' });
      expect(late.status).toBe(404);
      expect(byMethod(stack.v4Requests(), 'PATCH')).toHaveLength(0);
      expect(stack.sim.getUser(KEY_1, id)?.name).toBe('Jane');
    } finally {
      gateway.close();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      proxy.closeAllConnections();
    }
  });
});
