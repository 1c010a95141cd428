import http from 'node:http';
import request from 'supertest';
import { expectEnvelope, KEY_1, startStack, type Stack } from './harness';
import type { RecordedRequest } from '../../src/v4-simulator';

const USERS = '/api/user/management/v4/users';
const writes = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.method !== 'GET');
const lines = (stack: Stack): Array<Record<string, unknown>> => stack.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === 'translation');

describe('V4 misbehaving: each fault maps to the contract, nothing is lost, doubled or misdirected', () => {
  let stack: Stack;
  let janeId: string;
  beforeEach(async () => {
    stack = await startStack({ upstreamTimeoutMs: 400, upstreamMaxResponseBytes: 64 * 1024 });
    janeId = stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } }).id;
  });
  afterEach(async () => {
    await stack.close();
  });

  it('a PATCH whose connection is reset is not retried: 502, outcome unknown in the log, exactly one PATCH', async () => {
    stack.sim.addFault({ kind: 'reset', method: 'PATCH', times: 1 });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'New' });
    expectEnvelope(res, 502, 'UPSTREAM_ERROR');
    expect((res.body as { error: { message: string } }).error.message).toMatch(/may or may not have been applied/);
    expect(writes(stack.v4Requests())).toHaveLength(1);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('Jane');
    expect(lines(stack).at(-1)).toMatchObject({ error_code: 'UPSTREAM_ERROR', outcome_unknown: true, upstream_failure: 'reset' });
  });

  it('a PATCH applied by V4 whose answer is lost: 502 outcome unknown, applied exactly once', async () => {
    stack.sim.addFault({ kind: 'reset', method: 'PATCH', times: 1, afterApply: true });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'Applied' });
    expectEnvelope(res, 502, 'UPSTREAM_ERROR');
    expect(writes(stack.v4Requests())).toHaveLength(1);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('Applied');
    expect(stack.sim.journal).toEqual([expect.objectContaining({ method: 'PATCH', userId: janeId, emailBefore: 'jane@example.com', requestId: res.headers['x-request-id'] })]);
  });

  it('a slow PATCH: 504 after the deadline, outcome unknown, never resent', async () => {
    stack.sim.addFault({ kind: 'delay', delayMs: 800, method: 'PATCH', times: 1 });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'Late' });
    expectEnvelope(res, 504, 'UPSTREAM_TIMEOUT');
    expect(writes(stack.v4Requests())).toHaveLength(1);
    expect(lines(stack).at(-1)).toMatchObject({ error_code: 'UPSTREAM_TIMEOUT', outcome_unknown: true, upstream_failure: 'timeout' });
  });

  it('a POST that times out is never resent (no duplicate user)', async () => {
    stack.sim.addFault({ kind: 'delay', delayMs: 800, method: 'POST', times: 1 });
    const res = await request(stack.gateway.listener).post('/api/management/user').send({ email: 'once@example.com' });
    expectEnvelope(res, 504, 'UPSTREAM_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(writes(stack.v4Requests())).toHaveLength(1);
    expect(stack.sim.listUsers(KEY_1).filter((u) => u.contact_details.email === 'once@example.com')).toHaveLength(1);
  });

  it.each(['PATCH', 'DELETE', 'POST'])('a %s "succeeding" with a 200 that is not JSON is not vouched for: 502, outcome unknown (found by the chaos run)', async (method) => {
    stack.sim.addFault({ kind: 'garbage', method, times: 1 });
    const call =
      method === 'POST'
        ? request(stack.gateway.listener).post('/api/management/user').send({ email: 'g@example.com' })
        : method === 'PATCH'
          ? request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' })
          : request(stack.gateway.listener).delete('/api/management/user/jane%40example.com');
    const res = await call;
    expectEnvelope(res, 502, 'UPSTREAM_ERROR');
    expect(lines(stack).at(-1)).toMatchObject({ outcome_unknown: true });
    expect(stack.sim.journal).toHaveLength(0);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('Jane');
  });

  it('a DELETE reset after V4 applied it: 502, one DELETE, the user gone', async () => {
    stack.sim.addFault({ kind: 'reset', method: 'DELETE', times: 1, afterApply: true });
    expectEnvelope(await request(stack.gateway.listener).delete('/api/management/user/jane%40example.com'), 502, 'UPSTREAM_ERROR');
    expect(writes(stack.v4Requests())).toHaveLength(1);
    expect(stack.sim.getUser(KEY_1, janeId)).toBeUndefined();
  });

  it('a lookup that times out is retried once within the deadline', async () => {
    stack.sim.addFault({ kind: 'hang', method: 'GET', path: USERS, times: 1 });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'After retry' });
    expect(res.status).toBe(200);
    expect(stack.v4Requests().map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH']);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('After retry');
  });

  it('a lookup whose connection is reset before any answer is sent once more (a read changes nothing); reset again: 502 and no write', async () => {
    stack.sim.addFault({ kind: 'reset', method: 'GET', path: USERS, times: 2 });
    expectEnvelope(await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }), 502, 'UPSTREAM_ERROR');
    expect(stack.v4Requests().map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(writes(stack.v4Requests())).toHaveLength(0);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('Jane');
  });

  it('a lookup reset once before any answer is sent once more and the write goes on', async () => {
    stack.sim.addFault({ kind: 'reset', method: 'GET', path: USERS, times: 1 });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'After a reset' });
    expect(res.status).toBe(200);
    expect(stack.v4Requests().map((r) => r.method)).toEqual(['GET', 'GET', 'PATCH']);
    expect(stack.sim.getUser(KEY_1, janeId)?.name).toBe('After a reset');
  });

  it('5xx from V4 passes through with its status and body; nothing is written after a failed lookup', async () => {
    stack.sim.addFault({ kind: 'status', status: 503, method: 'GET', path: USERS, times: 1, body: '{"error":{"code":"MAINTENANCE","message":"back soon"}}' });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'MAINTENANCE', message: 'back soon' } });
    expect(writes(stack.v4Requests())).toHaveLength(0);
  });

  it('a 3xx is never followed: 502, and nothing is written on its account', async () => {
    stack.sim.addFault({ kind: 'status', status: 302, method: 'GET', path: USERS, times: 1, headers: { location: 'http://127.0.0.1:1/elsewhere' }, body: '' });
    expectEnvelope(await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' }), 502, 'UPSTREAM_ERROR');
    expect(stack.v4Requests()).toHaveLength(1);
  });

  it('a 200 that is not JSON gives 502; a huge one is cut off at the cap and gives 502', async () => {
    stack.sim.addFault({ kind: 'garbage', method: 'GET', times: 1 });
    expectEnvelope(await request(stack.gateway.listener).get('/api/management/user/jane%40example.com'), 502, 'UPSTREAM_ERROR');
    stack.sim.addFault({ kind: 'huge', method: 'GET', times: 1, hugeBytes: 5 * 1024 * 1024 });
    expectEnvelope(await request(stack.gateway.listener).get('/api/management/user'), 502, 'UPSTREAM_ERROR');
    expect(lines(stack).at(-1)).toMatchObject({ upstream_failure: 'too_large' });
  });

  // Ids that can be one encoded segment ('a/b', '../../admin', spaces) are served: encoded-ids.test.ts.
  it.each(['', '..', 'x'.repeat(200), 'id\nwith a newline', 42])('a lookup answering the id %j gives 502 and writes nothing', async (badId) => {
    const page = { data: [{ id: badId, contact_details: { email: 'jane@example.com' }, registration_information: { registration_state: 'UNREGISTERED', registration_time: 1 }, default_user_profile: { id: 'p', name: 'p' } }], meta: { offset: 0, limit: 2, total: 1 } };
    stack.sim.addFault({ kind: 'status', status: 200, method: 'GET', path: USERS, times: 1, body: JSON.stringify(page), headers: { 'content-type': 'application/json' } });
    expectEnvelope(await request(stack.gateway.listener).delete('/api/management/user/jane%40example.com'), 502, 'UPSTREAM_ERROR');
    expect(writes(stack.v4Requests())).toHaveLength(0);
    expect(stack.sim.getUser(KEY_1, janeId)).toBeDefined();
  });

  it('429 with Retry-After reaches the client unchanged, and the write is not attempted', async () => {
    stack.sim.addFault({ kind: 'status', status: 429, method: 'GET', times: 1, headers: { 'retry-after': '30' }, body: '{"error":{"code":"RATE_LIMITED","message":"later"}}' });
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ name: 'x' });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('30');
    expect(writes(stack.v4Requests())).toHaveLength(0);
  });

  it('a list cut off mid-stream ends the connection rather than answering a truncated array', async () => {
    // The default answer cap: a page of 500 users is larger than this file's 64 KiB one.
    const big = await startStack();
    big.sim.seedUsers(KEY_1, 1200);
    // The first page is served normally (a zero delay uses up the first match), the next page and its retry are reset.
    big.sim.addFault({ kind: 'delay', delayMs: 0, method: 'GET', path: USERS, times: 1 });
    big.sim.addFault({ kind: 'reset', method: 'GET', path: USERS, times: 2 });
    const server = http.createServer(big.gateway.listener).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as import('node:net').AddressInfo;
    const outcome = await new Promise<{ status: number; complete: boolean; body: string }>((resolve) => {
      http.get({ host: '127.0.0.1', port, path: '/api/management/user' }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('close', () => resolve({ status: res.statusCode ?? 0, complete: res.complete, body }));
      });
    });
    server.close();
    expect(outcome.status).toBe(200);
    expect(outcome.complete).toBe(false);
    expect(outcome.body.startsWith('[')).toBe(true);
    expect(outcome.body.endsWith(']')).toBe(false);
    expect(big.v4Requests()).toHaveLength(3);
    await big.close();
  });
});
