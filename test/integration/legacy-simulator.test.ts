// The legacy simulator over HTTP: the legacy shape of the contract, strictly.
import { LegacySimulator } from '../../src/legacy-simulator';
import { V4Simulator } from '../../src/v4-simulator';

const KEY = 'legacy-sim-key-0001';
const enc = encodeURIComponent;

describe('legacy simulator', () => {
  const v4 = new V4Simulator({ apiKeys: [KEY] });
  const legacy = LegacySimulator.sharing(v4, KEY);
  let base = '';
  beforeAll(async () => {
    base = await legacy.start(0);
  });
  afterAll(() => legacy.stop());

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown> & { error?: { code: string; request_id: string } }) };
  };

  it('creates, reads, updates and deletes the legacy way, in the data V4 holds too', async () => {
    const created = await call('POST', '/api/management/user', { email: 'Jane+billing@Example.com', cid: 'CUST-42', name: 'Jane', service: 'premium' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/api/management/user/${enc('Jane+billing@Example.com')}`);
    expect(created.body).toMatchObject({ email: 'Jane+billing@Example.com', cid: 'CUST-42', name: 'Jane', service: 'premium' });
    expect(Object.keys(created.body ?? {}).slice(0, 4)).toEqual(['id', 'name', 'email', 'cid']); // the contract's order
    const id = String(created.body?.id);
    expect(v4.getUser(KEY, id)).toMatchObject({ external_id: 'CUST-42', contact_details: { email: 'Jane+billing@Example.com' } });

    const read = await call('GET', `/api/management/user/${enc('jane+billing@example.com')}`);
    expect(read).toMatchObject({ status: 200, body: { id, service: 'premium' } });
    const updated = await call('PUT', `/api/management/user/${enc('jane+billing@example.com')}`, { name: 'Jane Doe', contact_details: { telephone_number_E123: '+1 555' } });
    expect(updated.body).toMatchObject({ name: 'Jane Doe', cid: 'CUST-42', contact_details: { telephone_number_E123: '+1 555' } });
    expect((await call('GET', '/api/management/user?cid=CUST-42')).body).toEqual([updated.body]);
    expect((await call('GET', '/api/management/user?service=premium')).body).toEqual([updated.body]);
    expect((await call('GET', '/api/management/user?service=basic')).body).toEqual([]);
    expect((await call('DELETE', `/api/management/user/${enc('JANE+billing@example.com')}`)).status).toBe(204);
    expect(v4.getUser(KEY, id)).toBeUndefined();
    expect((await call('GET', `/api/management/user/${enc('jane+billing@example.com')}`)).body?.error?.code).toBe('USER_NOT_FOUND');
  });

  it('pages with offset/limit in creation order', async () => {
    v4.seedUsers(KEY, 5, (i) => ({ contact_details: { email: `page${i}@example.com` } }));
    const page = await call('GET', '/api/management/user?offset=1&limit=2');
    expect((page.body as unknown as Array<{ email: string }>).map((u) => u.email)).toEqual(['page1@example.com', 'page2@example.com']);
  });

  it.each([
    ['GET', '/api/management/user?email=a%40b.c&email=d%40e.f', undefined, 400, 'INVALID_QUERY'],
    ['GET', '/api/management/user?sort=name', undefined, 400, 'INVALID_QUERY'],
    ['GET', '/api/management/user?limit=0', undefined, 400, 'INVALID_QUERY'],
    ['GET', '/api/management/user/not-an-email', undefined, 400, 'INVALID_EMAIL'],
    ['POST', '/api/management/user', '{"email":', 400, 'INVALID_JSON'],
    ['POST', '/api/management/user', [1], 400, 'INVALID_JSON'],
    ['POST', '/api/management/user', { email: 'x@example.com', cid: 'A', external_id: 'B' }, 400, 'CONFLICTING_FIELDS'],
    ['POST', '/api/management/user', { email: 'x@example.com', colour: 'red' }, 422, 'VALIDATION_FAILED'],
    ['PATCH', `/api/management/user/${enc('x@example.com')}`, undefined, 405, 'METHOD_NOT_ALLOWED'],
    ['GET', '/api/other', undefined, 404, 'NOT_FOUND'],
  ])('%s %s (case %#): the error in the legacy envelope', async (method, path, body, status, code) => {
    const res = await call(method, path, body, { 'x-request-id': 'req-legacy-1' });
    expect({ status: res.status, code: res.body?.error?.code, requestId: res.body?.error?.request_id }).toEqual({ status, code, requestId: 'req-legacy-1' });
  });

  it('records what it received and applies faults like the V4 simulator', async () => {
    legacy.clearRequests();
    legacy.addFault({ method: 'GET', path: '/api/management/user', kind: 'status', status: 503, times: 1 });
    expect((await call('GET', '/api/management/user')).status).toBe(503);
    expect((await call('GET', '/api/management/user')).status).toBe(200);
    expect(legacy.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /api/management/user', 'GET /api/management/user']);
    expect(legacy.faultsApplied().status).toBe(1);
  });

  it('a copy keeps ids and times, and changes apart from the original', () => {
    const copy = LegacySimulator.copying(v4, KEY);
    const [first] = v4.listUsers(KEY);
    if (first === undefined) throw new Error('no users');
    expect(copy.legacyUser(first.id)).toMatchObject({ id: first.id, registration_information: first.registration_information });
    copy.store.update(first.id, { name: 'Only in the copy' });
    expect(v4.getUser(KEY, first.id)?.name).not.toBe('Only in the copy');
  });
});
