import request from 'supertest';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { until as untilNamed } from './controlled-lookup';
import { apikey, KEY_1, startStack, type Stack } from './harness';

const until = (condition: () => boolean): Promise<void> => untilNamed('the race to reach its point', condition, 5_000);

/** Races of the in-memory cache with writes through the same gateway, over real HTTP. */
const USERS = '/api/user/management/v4/users';

describe('the in-memory cache and writes racing it', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('a write while a lookup of the same email runs does not fail the reader (it resolves again)', async () => {
    stack = await startStack();
    stack.sim.addFault({ kind: 'delay', delayMs: 400, method: 'GET', path: USERS, times: 1 }); // the reader's lookup is slow
    // `then` sends it now; the answer is awaited below, after the write.
    const read = request(stack.gateway.listener).get('/api/management/user/jane%40example.com').then((res) => res);
    await until(() => stack.v4Requests().some((r) => r.method === 'GET' && r.path === USERS));
    const created = await request(stack.gateway.listener).post('/api/management/user').send({ email: 'jane@example.com', name: 'Jane' });
    expect(created.status).toBe(201);
    const res = await read;
    // Before the fix: 500 INTERNAL_ERROR ("replaced": the write aborted the lookup under the reader).
    expect(res.status).toBe(200);
    expect((res.body as { email?: string }).email).toBe('jane@example.com');
  });

  it('a warm-up keeps nothing a write overtook while it paged', async () => {
    stack = await startStack();
    const jane = stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    const joe = stack.sim.createUser(KEY_1, { name: 'Joe', contact_details: { email: 'joe@example.com' } });
    // Page 1 as V4 held it when the pass began; page 2 slow, so that a rename lands between them.
    const page1 = { data: [jane, joe], meta: { offset: 0, limit: 500, total: 3 } };
    stack.sim.addFault({ kind: 'status', status: 200, method: 'GET', path: USERS, times: 1, body: JSON.stringify(page1), headers: { 'content-type': 'application/json' } });
    stack.sim.addFault({ kind: 'delay', delayMs: 500, method: 'GET', path: USERS, times: 1 });
    const warming = stack.gateway.warmUp(apikey(KEY_1));
    await until(() => stack.v4Requests().filter((r) => r.method === 'GET' && r.path === USERS).length >= 2);
    // Through the gateway, while page 2 is out: Jane moves to another address.
    const renamed = await request(stack.gateway.listener).put('/api/management/user/jane%40example.com').send({ email: 'jane.q@example.com' });
    expect(renamed.status).toBe(200);
    const report = await warming;
    const credential = credentialFingerprint(apikey(KEY_1));
    // Jane's old address is not put back (it would send her writes to Jane by the old address); Joe is cached.
    expect(stack.gateway.resolver.peek(credential, 'jane@example.com')).toBeUndefined();
    expect(stack.gateway.resolver.peek(credential, 'joe@example.com')).toBe(joe.id);
    expect(report.cached).toBe(1);
  });
});
