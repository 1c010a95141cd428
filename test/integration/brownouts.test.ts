import request from 'supertest';
import { loadConfig } from '../../src/config/load';
import { Brownouts } from '../../src/http/brownouts';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { apikey, expectEnvelope, KEY_1, KEY_2, startStack, type Stack } from './harness';

const HOUR = 3_600_000;
const JANE = '/api/management/user/jane%40example.com';
const around = (now = Date.now()): { from: string; to: string } => ({ from: new Date(now - 60_000).toISOString(), to: new Date(now + HOUR).toISOString() });

/** Planned brownouts (BROWNOUTS): a client's legacy calls get 410 with the successor, and nothing is sent anywhere. */
describe('brownouts', () => {
  let stack: Stack;
  afterEach(() => stack.close());

  it('refuses the scheduled client with 410, Retry-After and the successor link; other clients and V4 calls go on', async () => {
    const client = credentialFingerprint(apikey(KEY_1));
    stack = await startStack({ brownouts: [{ client, ...around() }] });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    stack.sim.createUser(KEY_2, { name: 'Jane Two', contact_details: { email: 'jane@example.com' } });

    const refused = await request(stack.gateway.listener).get(JANE).set('authorization', apikey(KEY_1));
    expectEnvelope(refused, 410, 'LEGACY_API_BROWNOUT');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(HOUR / 1000 - 120);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(HOUR / 1000);
    expect(refused.headers.link).toBe('</api/user/management/v4/users>; rel="successor-version"');
    expect(refused.headers.deprecation).toMatch(/^@\d+$/);
    expect(stack.v4Requests()).toHaveLength(0);

    const write = await request(stack.gateway.listener).put(JANE).set('authorization', apikey(KEY_1)).send({ name: 'x' });
    expectEnvelope(write, 410, 'LEGACY_API_BROWNOUT');
    expect(stack.v4Requests()).toHaveLength(0);

    const other = await request(stack.gateway.listener).get(JANE).set('authorization', apikey(KEY_2));
    expect(other.status).toBe(200);
    const v4 = await request(stack.gateway.listener).get('/api/user/management/v4/users?limit=1').set('authorization', apikey(KEY_1));
    expect(v4.status).toBe(200);

    const line = stack.logLines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.request_id === refused.headers['x-request-id']);
    expect(line).toMatchObject({ route: 'get-user', legacy_status: 410, error_code: 'LEGACY_API_BROWNOUT', v4_calls: 0 });
  });

  it('a window limited to some routes refuses only those', async () => {
    stack = await startStack({ brownouts: [{ client: '*', ...around(), routes: ['delete-user'] }] });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    expect((await request(stack.gateway.listener).get(JANE)).status).toBe(200);
    expectEnvelope(await request(stack.gateway.listener).delete(JANE), 410, 'LEGACY_API_BROWNOUT');
    expect(stack.v4Requests().filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('a window in the past or the future changes nothing', async () => {
    const now = Date.now();
    stack = await startStack({
      brownouts: [
        { client: '*', from: new Date(now - 2 * HOUR).toISOString(), to: new Date(now - HOUR).toISOString() },
        { client: '*', from: new Date(now + HOUR).toISOString(), to: new Date(now + 2 * HOUR).toISOString() },
      ],
    });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    expect((await request(stack.gateway.listener).get(JANE)).status).toBe(200);
  });
});

describe('Brownouts (the schedule)', () => {
  const windows = [{ client: 'AAAAAAAAAAAAAAAA', from: '2026-12-10T09:00:00Z', to: '2026-12-10T10:00:00Z' }];
  it.each([
    ['2026-12-10T08:59:59.999Z', null],
    ['2026-12-10T09:00:00.000Z', 'AAAAAAAAAAAAAAAA'],
    ['2026-12-10T09:59:59.999Z', 'AAAAAAAAAAAAAAAA'],
    ['2026-12-10T10:00:00.000Z', null],
  ])('at %s the window is %s (from inclusive, to exclusive)', (at, expected) => {
    const brownouts = new Brownouts(windows, () => Date.parse(at));
    expect(brownouts.activeFor('AAAAAAAAAAAAAAAA', 'get-user')?.client ?? null).toBe(expected);
    expect(brownouts.activeFor('BBBBBBBBBBBBBBBB', 'get-user')).toBeNull();
  });

  it.each([
    [[{ client: '*', from: '2026-12-10T10:00:00Z', to: '2026-12-10T09:00:00Z' }], /from must be before to/],
    [[{ client: 'Apikey secret', from: '2026-12-10T09:00:00Z', to: '2026-12-10T10:00:00Z' }], /credential fingerprint/],
    [[{ client: '*', from: 'tomorrow', to: '2026-12-10T10:00:00Z' }], /ISO date-time/],
    [[{ client: '*', from: '2026-12-10T09:00:00Z', to: '2026-12-10T10:00:00Z', routes: ['list-all'] }], /routes/],
  ])('refuses a bad schedule at start: %j', (brownouts, message) => {
    expect(() => loadConfig({ env: {}, overrides: { brownouts } as never })).toThrow(message);
  });

  it('reads BROWNOUTS from the environment as JSON, and says so when it is not', () => {
    const config = loadConfig({ env: { BROWNOUTS: JSON.stringify(windows) } });
    expect(config.brownouts).toEqual(windows);
    expect(() => loadConfig({ env: { BROWNOUTS: '[{' } })).toThrow(/BROWNOUTS must be JSON/);
  });
});
