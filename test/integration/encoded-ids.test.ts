// The contract: "Never put into a V4 URL: only the user_id that V4 returned is, percent-encoded
// as one path segment." Ids that need encoding are served (not refused), and V4 sees each of them
// as exactly one encoded segment. The simulator seeds users with ids of the test's choosing.
import request from 'supertest';
import type { RecordedRequest } from '../../src/v4-simulator';
import { expectEnvelope, KEY_1, startStack, type Stack } from './harness';

const USERS = '/api/user/management/v4/users';
const EMAIL = 'odd.id@example.com';
const LEGACY_PATH = '/api/management/user/odd.id%40example.com';
/** Holds every character the issue names: `/ ? # % space`. */
const ODD_ID = 'tenant/42?x=1#frag%20 end';
const ODD_SEGMENT = 'tenant%2F42%3Fx%3D1%23frag%2520%20end';

const byIdCalls = (requests: readonly RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.path.startsWith(`${USERS}/`));
const lookups = (requests: readonly RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.path === USERS);

/** What V4 saw after the users prefix, asserted to be one segment (no raw `/`). */
function segmentOf(r: RecordedRequest): string {
  const segment = r.path.slice(`${USERS}/`.length);
  expect(segment).not.toContain('/');
  return segment;
}

it('the literal segment the tests expect is encodeURIComponent of the test id', () => {
  expect(encodeURIComponent(ODD_ID)).toBe(ODD_SEGMENT);
});

describe('user ids that need percent-encoding', () => {
  let stack: Stack;
  afterEach(async () => stack.close());

  it('GET by email: the client gets its user; V4 saw one encoded segment; the second GET comes from the cache', async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { name: 'Odd', contact_details: { email: EMAIL }, external_id: 'C-ODD' }, { id: ODD_ID });
    const res = await request(stack.gateway.listener).get(LEGACY_PATH);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: EMAIL, name: 'Odd', cid: 'C-ODD' });
    const first = stack.v4Requests();
    expect(first.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(lookups(first)).toHaveLength(1);
    expect(byIdCalls(first).map(segmentOf)).toEqual([ODD_SEGMENT]);

    stack.sim.clearRequests();
    expect((await request(stack.gateway.listener).get(LEGACY_PATH)).status).toBe(200);
    expect(lookups(stack.v4Requests())).toHaveLength(0);
    expect(byIdCalls(stack.v4Requests()).map(segmentOf)).toEqual([ODD_SEGMENT]);
  });

  it('PUT by email (verification on): the by-id check and the PATCH each go to the one encoded segment, and V4 applied it', async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { name: 'Odd', contact_details: { email: EMAIL } }, { id: ODD_ID });
    expect((await request(stack.gateway.listener).get(LEGACY_PATH)).status).toBe(200); // caches the id
    stack.sim.clearRequests();
    const res = await request(stack.gateway.listener).put(LEGACY_PATH).send({ name: 'Renamed', cid: 'C-NEW' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: EMAIL, name: 'Renamed', cid: 'C-NEW' });
    const seen = stack.v4Requests();
    expect(seen.map((r) => `${r.method} ${segmentOf(r)}`)).toEqual([`GET ${ODD_SEGMENT}`, `PATCH ${ODD_SEGMENT}`]);
    expect(stack.sim.getUser(KEY_1, ODD_ID)).toMatchObject({ name: 'Renamed', external_id: 'C-NEW' });
  });

  it('DELETE by email: 204, V4 saw one encoded segment, the user is gone', async () => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { contact_details: { email: EMAIL } }, { id: ODD_ID });
    const res = await request(stack.gateway.listener).delete(LEGACY_PATH);
    expect(res.status).toBe(204);
    expect(byIdCalls(stack.v4Requests()).map((r) => `${r.method} ${segmentOf(r)}`)).toEqual([`DELETE ${ODD_SEGMENT}`]);
    expect(stack.sim.getUser(KEY_1, ODD_ID)).toBeUndefined();
  });

  it('warm-up caches such an id: a PUT with verification off is then one PATCH to the encoded segment', async () => {
    stack = await startStack({ verifyCachedWrites: false });
    stack.sim.createUser(KEY_1, { contact_details: { email: EMAIL } }, { id: ODD_ID });
    stack.sim.createUser(KEY_1, { contact_details: { email: 'plain@example.com' } });
    const report = await stack.gateway.warmUp();
    expect(report).toMatchObject({ users: 2, cached: 2 });
    stack.sim.clearRequests();
    expect((await request(stack.gateway.listener).put(LEGACY_PATH).send({ name: 'Warm' })).status).toBe(200);
    expect(stack.v4Requests().map((r) => `${r.method} ${segmentOf(r)}`)).toEqual([`PATCH ${ODD_SEGMENT}`]);
    expect(stack.sim.getUser(KEY_1, ODD_ID)?.name).toBe('Warm');
  });

  it.each(['../../admin', 'a/b', '%2F', '%', 'ü 😀', '.x', 'x'.repeat(128)])('the id %j is served as one segment: GET, then DELETE (checked first)', async (id) => {
    stack = await startStack();
    stack.sim.createUser(KEY_1, { contact_details: { email: EMAIL } }, { id });
    expect((await request(stack.gateway.listener).get(LEGACY_PATH)).status).toBe(200);
    expect((await request(stack.gateway.listener).delete(LEGACY_PATH)).status).toBe(204);
    const segments = byIdCalls(stack.v4Requests()).map((r) => `${r.method} ${segmentOf(r)}`);
    // GET, then the DELETE's check of the cached id (verification on), then the DELETE.
    const one = encodeURIComponent(id);
    expect(segments).toEqual([`GET ${one}`, `GET ${one}`, `DELETE ${one}`]);
    expect(stack.sim.getUser(KEY_1, id)).toBeUndefined();
  });

  it.each(['.', '..', 'tab\there', 'nul\u0000', 'del\u007f', 'c1\u0085', 'lone\ud800', 'x'.repeat(129)])(
    'the id %j cannot be one safe segment: 502, nothing sent by id',
    async (id) => {
      stack = await startStack();
      stack.sim.createUser(KEY_1, { contact_details: { email: EMAIL } }, { id });
      expectEnvelope(await request(stack.gateway.listener).delete(LEGACY_PATH), 502, 'UPSTREAM_ERROR');
      expect(byIdCalls(stack.v4Requests())).toHaveLength(0);
      expect(stack.sim.getUser(KEY_1, id)).toBeDefined();
    },
  );
});
