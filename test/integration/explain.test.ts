import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../../src/config/load';
import { explain, type ExplainRequest } from '../../src/explain/explain';
import { apikey, KEY_1, startStack, type Stack } from './harness';

/**
 * `explain` is held against the real thing: for each call, what it says V4 would receive is what
 * the strict V4 simulator really received when the same call went through the gateway (the
 * resolved id in place of `{user_id}`), and an error it predicts is the error the client got.
 */
describe('explain', () => {
  let stack: Stack;
  let janeId: string;
  const config = loadConfig({ env: {}, overrides: { v4ApiKey: KEY_1 } });

  beforeEach(async () => {
    stack = await startStack();
    janeId = stack.sim.createUser(KEY_1, { name: 'Jane', external_id: 'C1', contact_details: { email: 'jane@example.com' } }).id;
    stack.sim.createUser(KEY_1, { name: 'Joe', external_id: 'C2', contact_details: { email: 'joe@example.com' } });
    stack.sim.clearRequests();
  });
  afterEach(() => stack.close());

  async function send(call: ExplainRequest): Promise<request.Response> {
    const agent = request(stack.gateway.listener);
    const method = call.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete';
    const req = agent[method](call.path).set('authorization', apikey(KEY_1));
    return call.body === undefined ? req : req.set('content-type', 'application/json').send(call.body);
  }

  /** What V4 received, with the real id written as explain writes it. */
  function received(): Array<{ method: string; path: string; body: unknown }> {
    return stack.v4Requests().map((r) => ({ method: r.method, path: r.url.replace(`/${encodeURIComponent(janeId)}`, '/{user_id}'), body: r.body }));
  }

  it.each<[string, ExplainRequest]>([
    ['PUT renaming cid', { method: 'PUT', path: '/api/management/user/Jane%40example.com', body: '{"cid":"C9","name":"Jane Q"}' }],
    ['PUT moving the email', { method: 'PUT', path: '/api/management/user/jane%40example.com', body: '{"email":"jane.q@example.com"}' }],
    ['GET by email', { method: 'GET', path: '/api/management/user/jane%40example.com' }],
    ['DELETE', { method: 'DELETE', path: '/api/management/user/jane%40example.com' }],
    ['POST', { method: 'POST', path: '/api/management/user', body: '{"name":"New","email":"new@example.com","cid":"C3","user_flags":[]}' }],
    ['the list filtered by cid', { method: 'GET', path: '/api/management/user?cid=C1' }],
    ['the list filtered by email', { method: 'GET', path: '/api/management/user?email=jane%40example.com' }],
    ['one page of the list', { method: 'GET', path: '/api/management/user?offset=0&limit=1' }],
  ])('%s: the V4 calls it names are the ones V4 received', async (_name, call) => {
    const explanation = await explain(config, { ...call, authorization: apikey(KEY_1) });
    const res = await send(call);
    expect(res.status).toBeLessThan(300);
    expect(explanation.answer.status).toBe(res.status);
    expect(explanation.v4Calls.map(({ method, path, body }) => ({ method, path, body }))).toEqual(received());
    expect(explanation.v4Calls.length).toBeGreaterThan(0);
  });

  it.each<[string, ExplainRequest, string]>([
    ['service in the body', { method: 'PUT', path: '/api/management/user/jane%40example.com', body: '{"service":"premium"}' }, 'SERVICE_PARAMETER_REMOVED'],
    ['service in the query', { method: 'GET', path: '/api/management/user?service=x' }, 'SERVICE_PARAMETER_REMOVED'],
    ['a bad email', { method: 'GET', path: '/api/management/user/not-an-email' }, 'INVALID_EMAIL'],
    ['conflicting names', { method: 'POST', path: '/api/management/user', body: '{"cid":"a","external_id":"b"}' }, 'CONFLICTING_FIELDS'],
    ['broken JSON', { method: 'POST', path: '/api/management/user', body: '{"cid":' }, 'INVALID_JSON'],
    ['a method the route does not offer', { method: 'PATCH' as string, path: '/api/management/user/jane%40example.com', body: '{}' }, 'METHOD_NOT_ALLOWED'],
    ['an unknown list parameter', { method: 'GET', path: '/api/management/user?sort=name' }, 'INVALID_QUERY'],
  ])('%s: the error it predicts is the error the client gets, and nothing reaches V4', async (_name, call, code) => {
    const explanation = await explain(config, { ...call, authorization: apikey(KEY_1) });
    const agent = request(stack.gateway.listener);
    const method = call.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch';
    let req = agent[method](call.path).set('authorization', apikey(KEY_1));
    if (call.body !== undefined) req = req.set('content-type', 'application/json').send(call.body);
    const res = await req;
    const got = res.body as { error: { code: string; message: string } };
    expect(explanation.error).toBe(code);
    expect({ status: explanation.answer.status, code: explanation.error }).toEqual({ status: res.status, code: got.error.code });
    expect((explanation.answer.body as { error: { message: string } }).error.message).toBe(got.error.message);
    expect(explanation.v4Calls).toEqual([]);
    expect(stack.v4Requests()).toHaveLength(0);
  });

  it('without credentials anywhere, says the client would get 401 when asked to explain exactly that', async () => {
    const bare = loadConfig({ env: {} });
    const exact = await explain(bare, { method: 'DELETE', path: '/api/management/user/jane%40example.com', authorization: null });
    expect(exact).toMatchObject({ error: 'MISSING_CREDENTIALS', answer: { status: 401 }, v4Calls: [] });
    const assumed = await explain(bare, { method: 'DELETE', path: '/api/management/user/jane%40example.com' });
    expect(assumed.error).toBeUndefined();
    expect(assumed.v4Calls.map((c) => `${c.purpose} ${c.method}`)).toEqual(['lookup GET', 'forward DELETE']);
    expect(assumed.notes.join(' ')).toMatch(/as if the client sent one/);
  });

  it('runs from the command line (the built CLI) and prints the V4 calls', () => {
    const out = execFileSync(process.execPath, [join(__dirname, '../../dist/src/cli.js'), 'explain', 'PUT', '/api/management/user/jane%40example.com', '--body', '{"cid":"C1"}'], {
      env: { PATH: process.env.PATH ?? '' },
      encoding: 'utf8',
    });
    expect(out).toContain('lookup  GET /api/user/management/v4/users?email=jane%40example.com&limit=2');
    expect(out).toContain('forward PATCH /api/user/management/v4/users/{user_id}');
    expect(out).toContain('body: {"external_id":"C1"}');
    expect(out).toMatch(/the client gets 200:\n {2}\{.*"cid":"C1"/);
  });
});
