import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { loadConfig } from '../../src/config/load';
import type { RequestState } from '../../src/http/request-state';
import { EmailPrivacy } from '../../src/observability/email-privacy';
import { createMemoryLogger } from './memory-logger';
import { MigrationReport, type MigrationReportJson } from '../../src/observability/migration-report';
import { logTranslation } from '../../src/observability/translation-log';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { startGateway } from '../../src/server';
import { V4Simulator } from '../../src/v4-simulator';
import { apikey, KEY_1, KEY_2 } from './harness';
import { closedPortUrl, HASH_KEY, parsePrometheus, scrape, startObservedStack, untilLogged, type LogLine, type ObservedStack } from './observed-stack';

const ITEM = '/api/management/user/{email}';
const COLLECTION = '/api/management/user';
const KEYLESS = credentialFingerprint(apikey(KEY_1));
const hashed = (email: string): string | undefined => new EmailPrivacy('hash', HASH_KEY).forLog(email);

/** Every field the translation line can carry; a line never has another. */
const SCHEMA_FIELDS = [
  'level',
  'message',
  'timestamp',
  'request_id',
  'client_credential',
  'client_address',
  'route',
  'legacy_method',
  'legacy_path',
  'v4_method',
  'v4_path',
  'rules',
  'resolution',
  'email',
  'legacy_status',
  'v4_status',
  'v4_calls',
  'lookup_ms',
  'forward_ms',
  'total_ms',
  'error_code',
  'reason',
  'outcome_unknown',
  'upstream_failure',
  'client_aborted',
];

/** The line's fields, with the timings checked and replaced by their type (they vary run to run). */
function withoutTimings(line: LogLine): LogLine {
  expect(Object.keys(line).filter((key) => !SCHEMA_FIELDS.includes(key))).toEqual([]);
  expect(line).toMatchObject({ level: 'info', message: 'translation' });
  expect(new Date(line.timestamp as string).toISOString()).toBe(line.timestamp);
  const copy: LogLine = { ...line };
  for (const key of ['timestamp', 'level', 'message']) delete copy[key];
  for (const key of ['lookup_ms', 'forward_ms', 'total_ms']) {
    if (copy[key] === undefined) continue;
    expect(typeof copy[key]).toBe('number');
    expect(copy[key] as number).toBeGreaterThanOrEqual(0);
    copy[key] = 'ms';
  }
  return copy;
}

describe('the translation log: one line per call, field by field', () => {
  let stack: ObservedStack;
  let userId: string;
  beforeEach(async () => {
    stack = await startObservedStack();
    userId = stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'Jane+Billing@Example.com' }, external_id: 'CUST-1' }).id;
  });
  afterEach(async () => {
    await stack.close();
  });

  it('a translated PUT: route, both sides, rules, resolution, statuses, timings; then a verified one', async () => {
    const res = await request(stack.gateway.listener).put('/api/management/user/Jane%2BBilling%40Example.com').set('x-request-id', 'put-1').send({ cid: 'CUST-0042', name: 'Jane Doe' });
    expect(res.status).toBe(200);
    const line = await stack.lineOf('put-1');
    expect(withoutTimings(line)).toEqual({
      request_id: 'put-1',
      client_credential: KEYLESS,
      client_address: '127.0.0.1',
      route: 'update-user',
      legacy_method: 'PUT',
      legacy_path: ITEM,
      v4_method: 'PATCH',
      v4_path: `/api/user/management/v4/users/${userId}`,
      rules: ['cid-is-external-id'],
      resolution: 'miss',
      email: hashed('jane+billing@example.com'),
      legacy_status: 200,
      v4_status: 200,
      v4_calls: 2,
      lookup_ms: 'ms',
      forward_ms: 'ms',
      total_ms: 'ms',
    });
    expect(line.total_ms as number).toBeGreaterThanOrEqual(Math.max(line.lookup_ms as number, line.forward_ms as number));
    // The line tells the truth about V4's side: the same path, the same request id, two calls.
    const v4 = stack.sim.requests;
    expect(v4.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/user/management/v4/users', `PATCH ${line.v4_path as string}`]);
    expect(v4.every((r) => r.headers['x-request-id'] === 'put-1')).toBe(true);

    await request(stack.gateway.listener).put('/api/management/user/jane%2Bbilling%40example.com').set('x-request-id', 'put-2').send({ name: 'J' });
    // From the cache: a by-id read to verify the email, then the PATCH.
    expect(await stack.lineOf('put-2')).toMatchObject({ resolution: 'verified', v4_calls: 2, rules: [], email: line.email, legacy_status: 200 });
  });

  it('a translated GET with its own key: the fingerprint of that key, a cache hit the second time', async () => {
    const other = stack.sim.createUser(KEY_2, { name: 'Sam', contact_details: { email: 'sam@example.com' } });
    await request(stack.gateway.listener).get('/api/management/user/sam%40example.com').set('authorization', apikey(KEY_2)).set('x-request-id', 'get-1').expect(200);
    await request(stack.gateway.listener).get('/api/management/user/sam%40example.com').set('authorization', apikey(KEY_2)).set('x-request-id', 'get-2').expect(200);
    expect(await stack.lineOf('get-1')).toMatchObject({ client_credential: credentialFingerprint(apikey(KEY_2)), route: 'get-user', resolution: 'miss', v4_method: 'GET', v4_path: `/api/user/management/v4/users/${other.id}`, v4_calls: 2 });
    const second = await stack.lineOf('get-2');
    // From the cache: the read by id is the only V4 call.
    expect(second).toMatchObject({ resolution: 'hit', v4_calls: 1 });
    expect(typeof second.lookup_ms).toBe('number');
  });

  it('a rejected call (service in the body): the code and why, nothing on the V4 side', async () => {
    const res = await request(stack.gateway.listener).put('/api/management/user/jane%2Bbilling%40example.com').set('x-request-id', 'svc-1').send({ name: 'x', service: 'premium' });
    expect(res.status).toBe(400);
    expect(withoutTimings(await stack.lineOf('svc-1'))).toEqual({
      request_id: 'svc-1',
      // The client is known (by its credentials) even though the call was refused before V4.
      client_credential: KEYLESS,
      client_address: '127.0.0.1',
      route: 'update-user',
      legacy_method: 'PUT',
      legacy_path: ITEM,
      rules: [],
      email: hashed('jane+billing@example.com'),
      legacy_status: 400,
      v4_calls: 0,
      total_ms: 'ms',
      error_code: 'SERVICE_PARAMETER_REMOVED',
      reason: 'service-removed in body',
    });
    expect(stack.sim.requests).toHaveLength(0);
  });

  it('a rejected call (service in the query) and bad input are logged with why', async () => {
    await request(stack.gateway.listener).get('/api/management/user?Service=premium').set('x-request-id', 'svc-2').expect(400);
    await request(stack.gateway.listener).get('/api/management/user/not-an-email').set('x-request-id', 'bad-1').expect(400);
    await request(stack.gateway.listener).patch('/api/management/user/jane%40example.com').set('x-request-id', 'bad-2').expect(405);
    expect(await stack.lineOf('svc-2')).toMatchObject({ route: 'list-users', legacy_path: COLLECTION, error_code: 'SERVICE_PARAMETER_REMOVED', reason: 'service-removed in query', legacy_status: 400, v4_calls: 0 });
    const bad = await stack.lineOf('bad-1');
    expect(bad).toMatchObject({ route: 'get-user', legacy_path: ITEM, error_code: 'INVALID_EMAIL', legacy_status: 400, v4_calls: 0 });
    expect(bad.email).toBeUndefined();
    expect(await stack.lineOf('bad-2')).toMatchObject({ route: 'legacy-method-not-allowed', legacy_method: 'PATCH', legacy_path: ITEM, error_code: 'METHOD_NOT_ALLOWED', legacy_status: 405 });
  });

  it('a forbidden caller (403): logged with why and who, nothing reaches V4, deprecation headers still sent', async () => {
    const closed = await startObservedStack({ allowCidrs: ['10.0.0.0/8'] });
    try {
      const res = await request(closed.gateway.listener).get('/api/management/user/jane%40example.com').set('x-request-id', 'forbidden-1').expect(403);
      expect(res.headers.deprecation).toMatch(/^@\d+$/);
      expect(withoutTimings(await closed.lineOf('forbidden-1'))).toEqual({
        request_id: 'forbidden-1',
        client_credential: KEYLESS,
        client_address: '127.0.0.1',
        route: 'forbidden',
        legacy_method: 'GET',
        legacy_path: ITEM,
        rules: [],
        legacy_status: 403,
        v4_calls: 0,
        total_ms: 'ms',
        error_code: 'FORBIDDEN_CLIENT',
        reason: 'caller outside ALLOW_CIDRS',
      });
      expect(closed.sim.requests).toHaveLength(0);
    } finally {
      await closed.close();
    }
  });

  it('a failed call (V4 down → 502): the failure kind and why; a pass-through likewise', async () => {
    const down = await startObservedStack({}, { v4BaseUrl: await closedPortUrl() });
    try {
      await request(down.gateway.listener).get('/api/management/user/jane%40example.com').set('x-request-id', 'down-1').expect(502);
      expect(withoutTimings(await down.lineOf('down-1'))).toEqual({
        request_id: 'down-1',
        client_credential: KEYLESS,
        client_address: '127.0.0.1',
        route: 'get-user',
        legacy_method: 'GET',
        legacy_path: ITEM,
        rules: [],
        email: hashed('jane@example.com'),
        legacy_status: 502,
        // The lookup could not have reached V4, so it was tried twice.
        v4_calls: 2,
        lookup_ms: 'ms',
        total_ms: 'ms',
        error_code: 'UPSTREAM_ERROR',
        reason: 'connect: ECONNREFUSED',
        upstream_failure: 'connect',
      });
      await request(down.gateway.listener).get('/api/user/management/v4/users').set('x-request-id', 'down-2').expect(502);
      expect(await down.lineOf('down-2')).toMatchObject({ route: 'v4-passthrough', legacy_path: 'other', v4_method: 'GET', v4_path: '/api/user/management/v4/users', error_code: 'UPSTREAM_ERROR', upstream_failure: 'connect', legacy_status: 502 });
    } finally {
      await down.close();
    }
  });

  it('a write whose answer was lost (reset after V4 applied it): outcome unknown', async () => {
    stack.sim.addFault({ method: 'PATCH', kind: 'reset', afterApply: true });
    await request(stack.gateway.listener).put('/api/management/user/jane%2Bbilling%40example.com').set('x-request-id', 'lost-1').send({ name: 'New' }).expect(502);
    expect(await stack.lineOf('lost-1')).toMatchObject({ route: 'update-user', v4_method: 'PATCH', error_code: 'UPSTREAM_ERROR', upstream_failure: 'reset', outcome_unknown: true, legacy_status: 502 });
  });

  it('a V4 error answer passed through: V4 status and legacy status, no gateway code', async () => {
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'status', status: 503, body: '{"error":{"code":"INJECTED_FAULT","message":"x"}}' });
    await request(stack.gateway.listener).get('/api/management/user/jane%2Bbilling%40example.com').set('x-request-id', 'v4err-1').expect(503);
    const line = await stack.lineOf('v4err-1');
    expect(line).toMatchObject({ route: 'get-user', legacy_status: 503, v4_status: 503 });
    expect(line.error_code).toBeUndefined();
  });

  it('a client that hangs up before the answer: client_aborted', async () => {
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'delay', delayMs: 300 });
    const server = http.createServer(stack.gateway.listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const req = http.request({ port, host: '127.0.0.1', path: '/api/management/user/jane%2Bbilling%40example.com', headers: { 'x-request-id': 'abort-1' } });
      req.on('error', () => undefined);
      req.end();
      // Hang up while the gateway waits for the (delayed) lookup.
      const deadline = Date.now() + 2000;
      while (stack.sim.requests.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      req.destroy();
      expect(await stack.lineOf('abort-1')).toMatchObject({ route: 'get-user', client_aborted: true });
      const metrics = await scrape(stack.admin);
      expect(metrics.value('legacy_gateway_requests_total', { route: 'get-user', legacy_status: 'aborted' })).toBe(1);
    } finally {
      await new Promise((resolve) => setTimeout(resolve, 350));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('stays one line per call whatever the input (CR/LF in path, query, body, headers)', async () => {
    const calls: Array<[string, () => request.Test]> = [
      ['crlf-1', () => request(stack.gateway.listener).get('/api/management/user/jane%0D%0A%7B%22level%22%3A%22error%22%7D%40example.com')],
      ['crlf-2', () => request(stack.gateway.listener).get('/api/management/user?email=a%0d%0ab%40example.com')],
      ['crlf-3', () => request(stack.gateway.listener).get('/api/management/user?x%0D%0Ay=1')],
      ['crlf-4', () => request(stack.gateway.listener).put('/api/management/user/jane%2Bbilling%40example.com').send({ name: 'a\r\nb', 'we\r\nird': '\u2028x\n{"level":"error"}' })],
      ['crlf-5', () => request(stack.gateway.listener).post('/api/management/user').send({ email: 'x\r\n@example.com', service: { 'a\nb': 1 } })],
      ['crlf-6', () => request(stack.gateway.listener).get('/unknown%0D%0Apath').set('user-agent', 'evil%0D%0Aagent')],
      ['crlf-7', () => request(stack.gateway.listener).get('/api/user/management/v4/users/%0A%0D').set('authorization', 'Apikey \tzz')],
    ];
    for (const [id, call] of calls) await call().set('x-request-id', id);
    for (const [id] of calls) await untilLogged(stack, id);
    for (const raw of stack.lines) {
      expect(raw).not.toMatch(/[\r\n]/);
      expect(() => JSON.parse(raw) as unknown).not.toThrow();
    }
    expect(stack.translations().map((line) => line.request_id)).toEqual(calls.map(([id]) => id));
  });

  it('escapes CR/LF in every field it writes (a reason holding them stays on one line, intact)', () => {
    const { translations, lines } = createMemoryLogger();
    const reason = 'first\r\nsecond\n{"level":"error","message":"forged"}\u2028';
    const state: RequestState = {
      requestId: 'esc-1',
      startedAt: performance.now(),
      clientAddress: '127.0.0.1',
      admitted: true,
      ownHeaders: [],
      authorization: null,
      record: { route: 'update-user', legacyMethod: 'PUT', legacyPath: ITEM, rules: [], v4Calls: 0, reason, errorCode: 'INVALID_JSON' },
    };
    logTranslation(translations, state, 400, true);
    expect(lines).toHaveLength(1);
    expect((JSON.parse(lines[0] as string) as LogLine).reason).toBe(reason);
  });
});

describe('deprecation signals on every legacy answer', () => {
  const since = new Date('2026-01-15T00:00:00Z');
  const sunset = 'Thu, 31 Dec 2026 23:59:59 GMT';
  let stack: ObservedStack;
  beforeAll(async () => {
    stack = await startObservedStack({ sunsetDate: sunset }, { startedAt: since });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
  });
  afterAll(async () => {
    await stack.close();
  });

  it.each<[string, () => request.Test, number]>([
    ['a translated GET', () => request(stack.gateway.listener).get('/api/management/user/jane%40example.com'), 200],
    ['HEAD', () => request(stack.gateway.listener).head('/api/management/user/jane%40example.com'), 200],
    ['a list', () => request(stack.gateway.listener).get('/api/management/user'), 200],
    ['a service rejection', () => request(stack.gateway.listener).get('/api/management/user?service=x'), 400],
    ['an unknown user', () => request(stack.gateway.listener).get('/api/management/user/nobody%40example.com'), 404],
    ['OPTIONS', () => request(stack.gateway.listener).options('/api/management/user'), 204],
    ['a method not allowed', () => request(stack.gateway.listener).patch('/api/management/user'), 405],
  ])('%s carries Deprecation, Link and Sunset', async (_what, call, status) => {
    const res = await call();
    expect(res.status).toBe(status);
    expect(res.headers.deprecation).toBe(`@${since.getTime() / 1000}`);
    expect(res.headers.link).toBe('</api/user/management/v4/users>; rel="successor-version"');
    expect(res.headers.sunset).toBe(sunset);
  });

  it('a failed legacy call (502) carries them too; a V4 pass-through answer does not', async () => {
    const down = await startObservedStack({ deprecationDate: '2025-06-01T00:00:00Z' }, { v4BaseUrl: await closedPortUrl() });
    try {
      const res = await request(down.gateway.listener).get('/api/management/user/jane%40example.com').expect(502);
      expect(res.headers.deprecation).toBe(`@${Date.parse('2025-06-01T00:00:00Z') / 1000}`);
      expect(res.headers.link).toBe('</api/user/management/v4/users>; rel="successor-version"');
      expect(res.headers.sunset).toBeUndefined();
    } finally {
      await down.close();
    }
    const v4 = await request(stack.gateway.listener).get('/api/user/management/v4/users').expect(200);
    expect(v4.headers.deprecation).toBeUndefined();
  });
});

describe('/healthz and /readyz', () => {
  let stack: ObservedStack;
  afterEach(async () => {
    await stack.close();
  });

  it('/healthz answers 200 while the process runs, also while shutting down', async () => {
    stack = await startObservedStack();
    expect((await request(stack.admin).get('/healthz')).body).toEqual({ status: 'ok' });
    stack.shuttingDown = true;
    await request(stack.admin).get('/healthz').expect(200);
  });

  it('/readyz without a key configured: config and shutdown only; 503 while shutting down', async () => {
    stack = await startObservedStack({ v4ApiKey: null });
    expect((await request(stack.admin).get('/readyz').expect(200)).body).toEqual({ status: 'ready', checks: { config: 'ok', shutdown: 'ok' } });
    stack.shuttingDown = true;
    expect((await request(stack.admin).get('/readyz').expect(503)).body).toEqual({ status: 'not ready', reason: 'shutting down', checks: { config: 'ok', shutdown: 'shutting down' } });
  });

  it('with a key: /readyz probes V4 with the configured key and is ready once V4 accepted it', async () => {
    stack = await startObservedStack({}, { probe: {} });
    expect(stack.probe?.problem()).toBe('V4 not probed yet');
    expect(stack.sim.requests).toHaveLength(0);
    expect((await request(stack.admin).get('/readyz').expect(200)).body).toEqual({ status: 'ready', checks: { config: 'ok', shutdown: 'ok', v4: 'ok' } });
    expect(stack.probe?.result).toMatchObject({ ok: true, status: 200 });
    expect(stack.sim.requests).toHaveLength(1);
    const [probe] = stack.sim.requests;
    expect(probe?.url).toBe('/api/user/management/v4/users?limit=1');
    expect(probe?.headers.authorization).toBe(apikey(KEY_1));
    expect(probe?.headers['x-request-id']).toMatch(/^readiness-probe-[0-9a-f-]{36}$/);
    stack.shuttingDown = true;
    expect((await request(stack.admin).get('/readyz').expect(503)).body.reason).toBe('shutting down');
  });

  it.each<[string, { status: number } | 'down' | 'hang', string]>([
    ['V4 answers 503', { status: 503 }, 'V4 probe failed: V4 answered 503'],
    ['V4 refuses the key (401)', { status: 401 }, 'V4 probe failed: V4 refused the configured key (401)'],
    ['V4 refuses the key (403)', { status: 403 }, 'V4 probe failed: V4 refused the configured key (403)'],
    ['the URL is not V4 (404)', { status: 404 }, 'V4 probe failed: V4 answered 404'],
    ['V4 hangs past the probe deadline', 'hang', 'V4 probe failed: timeout: no answer within 200 ms'],
  ])('not ready when %s; ready again once it recovers', async (_what, fault, reason) => {
    stack = await startObservedStack({}, { probe: { intervalMs: 200 } });
    expect((await stack.probe?.probe())?.ok).toBe(true);
    stack.sim.addFault(fault === 'hang' ? { kind: 'hang', times: 1 } : fault === 'down' ? { kind: 'reset' } : { kind: 'status', status: fault.status, body: '{}', times: 1 });
    expect((await stack.probe?.probe())?.ok).toBe(false);
    expect((await request(stack.admin).get('/readyz').expect(503)).body).toEqual({ status: 'not ready', reason, checks: { config: 'ok', shutdown: 'ok', v4: reason } });
    expect((await stack.probe?.probe())?.ok).toBe(true);
    await request(stack.admin).get('/readyz').expect(200);
    // Changes of state are logged, single probes are not.
    const probeLines = stack.lines.filter((line) => line.includes('V4 probe')).map((line) => JSON.parse(line) as LogLine);
    expect(probeLines.map((line) => [line.level, line.message])).toEqual([
      ['info', 'V4 probe ok'],
      ['warn', 'V4 probe failing: not ready'],
      ['info', 'V4 probe ok'],
    ]);
    expect(probeLines[1]?.problem).toBe(reason.replace('V4 probe failed: ', ''));
  });

  it('a key the probe uses that V4 does not know: not ready, and the key never shows', async () => {
    stack = await startObservedStack({}, { probe: { apiKey: 'probe-key-unknown-to-v4' } });
    await stack.probe?.probe();
    const res = await request(stack.admin).get('/readyz').expect(503);
    expect(res.body.reason).toBe('V4 probe failed: V4 refused the configured key (401)');
    expect(stack.lines.join('\n')).not.toContain('probe-key-unknown-to-v4');
  });

  it('429 counts as answered (reachable, key not refused): throttling must not take every replica out', async () => {
    stack = await startObservedStack({}, { probe: {} });
    stack.sim.addFault({ kind: 'status', status: 429, body: '{}' });
    expect(await stack.probe?.probe()).toMatchObject({ ok: true, status: 429 });
    await request(stack.admin).get('/readyz').expect(200);
  });

  it('not ready when V4 is down (nothing listens)', async () => {
    stack = await startObservedStack({}, { v4BaseUrl: await closedPortUrl(), probe: {} });
    await stack.probe?.probe();
    const res = await request(stack.admin).get('/readyz').expect(503);
    expect(res.body.reason).toBe('V4 probe failed: connect: ECONNREFUSED');
  });

  it('a success goes stale: not ready when the probe has not answered for staleAfterMs', async () => {
    stack = await startObservedStack({}, { probe: { intervalMs: 1000, staleAfterMs: 300 } });
    await stack.probe?.probe();
    await request(stack.admin).get('/readyz').expect(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await request(stack.admin).get('/readyz').expect(503)).body.reason).toMatch(/^V4 probe stale: last answer \d+ s ago$/);
  });

  it('probes only when /readyz asks, at most once per interval; an idle gateway sends V4 nothing', async () => {
    stack = await startObservedStack({}, { probe: { intervalMs: 300 } });
    const probes = (): number => stack.sim.requests.filter((r) => r.url === '/api/user/management/v4/users?limit=1').length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(probes()).toBe(0);
    await request(stack.admin).get('/readyz').expect(200);
    await request(stack.admin).get('/readyz').expect(200);
    expect(probes()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await request(stack.admin).get('/readyz').expect(200);
    expect(probes()).toBe(2);
    stack.probe?.stop();
    await request(stack.admin).get('/readyz');
    expect(probes()).toBe(2);
  });
});

describe('startGateway: the admin port wired as in production', () => {
  let sim: V4Simulator;
  beforeEach(async () => {
    sim = new V4Simulator({ apiKeys: [KEY_1] });
    await sim.start(0);
    sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
  });
  afterEach(async () => {
    await sim.stop();
  });

  async function untilReady(adminUrl: string): Promise<request.Response> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const res = await request(adminUrl).get('/readyz');
      if (res.status === 200 || Date.now() > deadline) return res;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('ready once V4 answered the probe; 503 "shutting down" while calls in flight drain; metrics and the report only on ADMIN_PORT', async () => {
    const config = loadConfig({ env: {}, overrides: { v4BaseUrl: sim.url, v4ApiKey: KEY_1, port: 0, adminPort: 0, host: '127.0.0.1', adminHost: '127.0.0.1', logLevel: 'error', v4ProbeIntervalMs: 100 } });
    const running = await startGateway(config);
    const base = `http://127.0.0.1:${running.port}`;
    const admin = `http://127.0.0.1:${running.adminPort}`;
    try {
      expect((await untilReady(admin)).body).toEqual({ status: 'ready', checks: { config: 'ok', shutdown: 'ok', v4: 'ok' } });
      await request(base).get('/api/management/user/jane%40example.com').expect(200);
      const metrics = parsePrometheus((await request(admin).get('/metrics').expect(200)).text);
      expect(metrics.value('legacy_gateway_requests_total', { route: 'get-user', legacy_status: '200', v4_status: '200' })).toBe(1);
      expect(metrics.value('legacy_gateway_v4_probe_up')).toBe(1);
      expect(metrics.value('legacy_gateway_v4_probes_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
      const report = (await request(admin).get('/migration/report').expect(200)).body as MigrationReportJson;
      expect(report.clients.map((c) => [c.credential, c.legacy_routes['get-user']])).toEqual([[KEYLESS, 1]]);
      // Never on PORT.
      for (const path of ['/metrics', '/migration/report', '/readyz', '/healthz']) {
        expect((await request(base).get(path)).status).toBe(404);
      }

      // A call in flight (V4 slow to answer the read by id) when the shutdown begins.
      const byId = (): number => sim.requests.filter((r) => r.method === 'GET' && /\/users\/./.test(r.path)).length;
      const readsBefore = byId();
      sim.addFault({ method: 'GET', path: /^\/api\/user\/management\/v4\/users\/./, kind: 'delay', delayMs: 500 });
      const slow = request(base).get('/api/management/user/jane%40example.com').then((res) => res.status);
      const deadline = Date.now() + 2000;
      while (byId() === readsBefore && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      const stopping = running.shutdown();
      const during = await request(admin).get('/readyz');
      expect(during.status).toBe(503);
      expect(during.body).toMatchObject({ status: 'not ready', reason: 'shutting down' });
      await request(admin).get('/healthz').expect(200);
      expect(await slow).toBe(200);
      await stopping;
      await expect(request(admin).get('/healthz')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await running.shutdown();
    }
  });

  it('not ready while V4 is down; ready without a probe when no key is configured', async () => {
    const down = await startGateway(loadConfig({ env: {}, overrides: { v4BaseUrl: await closedPortUrl(), v4ApiKey: KEY_1, port: 0, adminPort: 0, host: '127.0.0.1', adminHost: '127.0.0.1', logLevel: 'error', v4ProbeIntervalMs: 50 } }));
    try {
      const admin = `http://127.0.0.1:${down.adminPort}`;
      const deadline = Date.now() + 2000;
      let res = await request(admin).get('/readyz');
      while (res.body.reason === 'V4 not probed yet' && Date.now() < deadline) res = await request(admin).get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.reason).toBe('V4 probe failed: connect: ECONNREFUSED');
      expect(parsePrometheus((await request(admin).get('/metrics')).text).value('legacy_gateway_v4_probe_up')).toBe(0);
    } finally {
      await down.shutdown();
    }
    const keyless = await startGateway(loadConfig({ env: {}, overrides: { v4BaseUrl: sim.url, port: 0, adminPort: 0, host: '127.0.0.1', adminHost: '127.0.0.1', logLevel: 'error' } }));
    try {
      const admin = `http://127.0.0.1:${keyless.adminPort}`;
      expect((await request(admin).get('/readyz').expect(200)).body.checks).toEqual({ config: 'ok', shutdown: 'ok' });
      expect(parsePrometheus((await request(admin).get('/metrics')).text).has('legacy_gateway_v4_probe_up')).toBe(false);
    } finally {
      await keyless.shutdown();
    }
  });
});

describe('/metrics', () => {
  let stack: ObservedStack;
  beforeEach(async () => {
    stack = await startObservedStack({}, { probe: {} });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
  });
  afterEach(async () => {
    await stack.close();
  });

  it('is Prometheus text with the default process metrics and every gateway family typed', async () => {
    await stack.probe?.probe();
    const metrics = await scrape(stack.admin);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(metrics.has(name)).toBe(true);
    }
    expect(Object.fromEntries([...metrics.types].filter(([name]) => name.startsWith('legacy_gateway_')))).toEqual({
      legacy_gateway_requests_total: 'counter',
      legacy_gateway_request_duration_seconds: 'histogram',
      legacy_gateway_v4_duration_seconds: 'histogram',
      legacy_gateway_resolution_outcomes_total: 'counter',
      legacy_gateway_rejections_total: 'counter',
      legacy_gateway_upstream_errors_total: 'counter',
      legacy_gateway_outcome_unknown_writes_total: 'counter',
      legacy_gateway_resolver_resolutions_total: 'counter',
      legacy_gateway_resolver_verifications_total: 'counter',
      legacy_gateway_resolver_verification_mismatches_total: 'counter',
      legacy_gateway_resolver_self_heals_total: 'counter',
      legacy_gateway_resolver_lookups_failed_total: 'counter',
      legacy_gateway_cache_evictions_total: 'counter',
      legacy_gateway_cache_entries: 'gauge',
      legacy_gateway_v4_requests_total: 'counter',
      legacy_gateway_migration_report_clients: 'gauge',
      legacy_gateway_migration_report_overflow_calls_total: 'counter',
      legacy_gateway_v4_probe_up: 'gauge',
      legacy_gateway_v4_probe_last_success_timestamp_seconds: 'gauge',
      legacy_gateway_v4_probes_total: 'counter',
    });
    expect(metrics.value('legacy_gateway_v4_probe_up')).toBe(1);
    expect(metrics.value('legacy_gateway_v4_probe_last_success_timestamp_seconds')).toBeCloseTo(Date.now() / 1000, -1);
  });

  it('counters move by exactly the calls made', async () => {
    const app = stack.gateway.listener;
    const before = await scrape(stack.admin);
    await request(app).put('/api/management/user/jane%40example.com').send({ name: 'A' }).expect(200); // miss
    await request(app).put('/api/management/user/jane%40example.com').send({ name: 'B' }).expect(200); // hit, verified
    await request(app).get('/api/management/user/jane%40example.com').expect(200); // hit
    await request(app).put('/api/management/user/jane%40example.com').send({ service: 'x' }).expect(400);
    await request(app).get('/api/management/user/nobody%40example.com').expect(404); // miss, not found
    await request(app).get('/api/management/user/bad-email').expect(400);
    await request(app).get('/api/user/management/v4/users').expect(200);
    const after = await scrape(stack.admin);
    const delta = (name: string, labels?: Record<string, string>): number => after.value(name, labels) - before.value(name, labels);

    expect(delta('legacy_gateway_requests_total')).toBe(7);
    expect(delta('legacy_gateway_requests_total', { route: 'update-user', legacy_status: '200', v4_status: '200' })).toBe(2);
    expect(delta('legacy_gateway_requests_total', { route: 'update-user', legacy_status: '400', v4_status: 'none' })).toBe(1);
    expect(delta('legacy_gateway_requests_total', { route: 'get-user', legacy_status: '200', v4_status: '200' })).toBe(1);
    expect(delta('legacy_gateway_requests_total', { route: 'get-user', legacy_status: '404', v4_status: 'none' })).toBe(1);
    expect(delta('legacy_gateway_requests_total', { route: 'get-user', legacy_status: '400' })).toBe(1);
    expect(delta('legacy_gateway_requests_total', { route: 'v4-passthrough', legacy_status: '200', v4_status: '200' })).toBe(1);

    expect(delta('legacy_gateway_request_duration_seconds_count', { route: 'update-user', legacy_status: '200' })).toBe(2);
    expect(delta('legacy_gateway_request_duration_seconds_bucket', { route: 'update-user', legacy_status: '200', le: '+Inf' })).toBe(2);
    expect(delta('legacy_gateway_request_duration_seconds_sum', { route: 'update-user', legacy_status: '200' })).toBeGreaterThan(0);
    expect(delta('legacy_gateway_request_duration_seconds_count')).toBe(7);
    expect(delta('legacy_gateway_v4_duration_seconds_count', { route: 'update-user', phase: 'lookup' })).toBe(2);
    expect(delta('legacy_gateway_v4_duration_seconds_count', { route: 'update-user', phase: 'forward' })).toBe(2);
    expect(delta('legacy_gateway_v4_duration_seconds_count', { route: 'get-user', phase: 'lookup' })).toBe(2);

    expect(delta('legacy_gateway_resolution_outcomes_total', { route: 'update-user', outcome: 'miss' })).toBe(1);
    expect(delta('legacy_gateway_resolution_outcomes_total', { route: 'update-user', outcome: 'verified' })).toBe(1);
    expect(delta('legacy_gateway_resolution_outcomes_total', { route: 'get-user', outcome: 'hit' })).toBe(1);
    expect(delta('legacy_gateway_resolution_outcomes_total', { route: 'get-user', outcome: 'not_found' })).toBe(1);

    expect(delta('legacy_gateway_rejections_total', { route: 'update-user', code: 'SERVICE_PARAMETER_REMOVED' })).toBe(1);
    expect(delta('legacy_gateway_rejections_total', { route: 'get-user', code: 'USER_NOT_FOUND' })).toBe(1);
    expect(delta('legacy_gateway_rejections_total', { route: 'get-user', code: 'INVALID_EMAIL' })).toBe(1);
    expect(delta('legacy_gateway_rejections_total')).toBe(3);
    expect(delta('legacy_gateway_upstream_errors_total')).toBe(0);

    expect(delta('legacy_gateway_resolver_resolutions_total', { result: 'miss' })).toBe(2);
    expect(delta('legacy_gateway_resolver_resolutions_total', { result: 'hit' })).toBe(2);
    expect(delta('legacy_gateway_resolver_verifications_total')).toBe(1);
    expect(delta('legacy_gateway_resolver_verification_mismatches_total')).toBe(0);
    expect(after.value('legacy_gateway_cache_entries')).toBe(1);
    expect(delta('legacy_gateway_v4_requests_total', { kind: 'lookup' })).toBe(2);
    expect(delta('legacy_gateway_v4_requests_total', { kind: 'write' })).toBe(2);
    expect(delta('legacy_gateway_v4_requests_total', { kind: 'read' })).toBe(2); // the verification and the GET
    expect(after.value('legacy_gateway_migration_report_clients')).toBe(1); // every call came from the keyless client
  });

  it('resolver counters follow the live stats: a verification mismatch and a self-heal', async () => {
    const app = stack.gateway.listener;
    const jane = stack.sim.listUsers(KEY_1)[0];
    await request(app).get('/api/management/user/jane%40example.com').expect(200); // cached
    // Someone else moves the email to another user: the cached id no longer holds it.
    stack.sim.updateUser(KEY_1, jane?.id as string, { contact_details: { email: 'jane.old@example.com' } });
    stack.sim.createUser(KEY_1, { name: 'Jane 2', contact_details: { email: 'jane@example.com' } });
    const before = await scrape(stack.admin);
    await request(app).put('/api/management/user/jane%40example.com').send({ name: 'C' }).expect(200);
    // And the cached id is deleted behind the gateway's back: the read self-heals.
    const current = stack.sim.listUsers(KEY_1).find((u) => u.contact_details.email === 'jane@example.com');
    stack.sim.deleteUser(KEY_1, current?.id as string);
    stack.sim.createUser(KEY_1, { name: 'Jane 3', contact_details: { email: 'jane@example.com' } });
    await request(app).get('/api/management/user/jane%40example.com').expect(200);
    const after = await scrape(stack.admin);
    const delta = (name: string, labels?: Record<string, string>): number => after.value(name, labels) - before.value(name, labels);
    expect(delta('legacy_gateway_resolver_verifications_total')).toBe(1);
    expect(delta('legacy_gateway_resolver_verification_mismatches_total')).toBe(1);
    expect(delta('legacy_gateway_resolver_self_heals_total')).toBe(1);
    expect(delta('legacy_gateway_resolution_outcomes_total', { route: 'get-user', outcome: 'healed' })).toBe(1);
    expect(after.value('legacy_gateway_resolver_self_heals_total')).toBe(stack.gateway.resolver.stats.selfHeals);
  });

  it('upstream errors by kind, outcome-unknown writes, failed lookups', async () => {
    const app = stack.gateway.listener;
    const before = await scrape(stack.admin);
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'garbage', times: 1 });
    await request(app).get('/api/management/user/jane%40example.com').expect(502); // invalid_answer
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'status', status: 500, body: '{"error":{}}', times: 1 });
    await request(app).get('/api/management/user/jane%40example.com').expect(500); // v4_5xx, passed through
    await request(app).put('/api/management/user/jane%40example.com').send({ name: 'Z' }).expect(200);
    stack.sim.addFault({ method: 'PATCH', kind: 'reset', afterApply: true, times: 1 });
    await request(app).put('/api/management/user/jane%40example.com').send({ name: 'Y' }).expect(502); // reset, outcome unknown
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'status', status: 502, body: '{}', times: 1 });
    await request(app).get('/api/user/management/v4/users').expect(502); // v4_5xx on the pass-through
    const after = await scrape(stack.admin);
    const delta = (name: string, labels?: Record<string, string>): number => after.value(name, labels) - before.value(name, labels);
    expect(delta('legacy_gateway_upstream_errors_total', { route: 'get-user', kind: 'invalid_answer' })).toBe(1);
    expect(delta('legacy_gateway_upstream_errors_total', { route: 'get-user', kind: 'v4_5xx' })).toBe(1);
    expect(delta('legacy_gateway_upstream_errors_total', { route: 'update-user', kind: 'reset' })).toBe(1);
    expect(delta('legacy_gateway_upstream_errors_total', { route: 'v4-passthrough', kind: 'v4_5xx' })).toBe(1);
    expect(delta('legacy_gateway_upstream_errors_total')).toBe(4);
    expect(delta('legacy_gateway_outcome_unknown_writes_total', { route: 'update-user' })).toBe(1);
    expect(delta('legacy_gateway_resolver_lookups_failed_total')).toBe(2);
    expect(delta('legacy_gateway_rejections_total')).toBe(0);

    const down = await startObservedStack({ upstreamTimeoutMs: 300 }, { v4BaseUrl: await closedPortUrl() });
    try {
      await request(down.gateway.listener).get('/api/management/user/jane%40example.com').expect(502);
      await request(down.gateway.listener).get('/api/user/management/v4/users').expect(502);
      const metrics = await scrape(down.admin);
      expect(metrics.value('legacy_gateway_upstream_errors_total', { route: 'get-user', kind: 'connect' })).toBe(1);
      expect(metrics.value('legacy_gateway_upstream_errors_total', { route: 'v4-passthrough', kind: 'connect' })).toBe(1);
      expect(metrics.value('legacy_gateway_v4_requests_total', { kind: 'retry' })).toBe(1);
    } finally {
      await down.close();
    }
  });

  it('timeouts are counted as such', async () => {
    const slow = await startObservedStack({ upstreamTimeoutMs: 150 });
    try {
      slow.sim.addFault({ method: 'GET', kind: 'delay', delayMs: 400 });
      await request(slow.gateway.listener).get('/api/management/user/jane%40example.com').expect(504);
      const metrics = await scrape(slow.admin);
      expect(metrics.value('legacy_gateway_upstream_errors_total', { route: 'get-user', kind: 'timeout' })).toBe(1);
      expect(metrics.value('legacy_gateway_requests_total', { route: 'get-user', legacy_status: '504', v4_status: 'none' })).toBe(1);
    } finally {
      await slow.close();
    }
  });
});

describe('the migration report', () => {
  let stack: ObservedStack;
  const A = '10.0.0.5';
  const B = '10.0.0.6';
  beforeEach(async () => {
    stack = await startObservedStack({ allowCidrs: ['127.0.0.1/32', '::1/128', '10.0.0.0/8'], trustedProxies: ['127.0.0.1/32', '::1/128'] });
    stack.sim.createUser(KEY_1, { name: 'Jane', contact_details: { email: 'jane@example.com' } });
    stack.sim.createUser(KEY_2, { name: 'Sam', contact_details: { email: 'sam@example.com' } });
    const app = stack.gateway.listener;
    // Client A: no key of its own (the gateway's), legacy only, one service rejection, one error.
    await request(app).get('/api/management/user').set('x-forwarded-for', A).expect(200);
    await request(app).get('/api/management/user').set('x-forwarded-for', A).expect(200);
    await request(app).get('/api/management/user/jane%40example.com').set('x-forwarded-for', A).expect(200);
    await request(app).put('/api/management/user/jane%40example.com').set('x-forwarded-for', A).send({ name: 'J' }).expect(200);
    await request(app).get('/api/management/user/nobody%40example.com').set('x-forwarded-for', A).expect(404);
    await request(app).options('/api/management/user').set('x-forwarded-for', A).expect(204);
    stack.sim.addFault({ method: 'GET', path: '/api/user/management/v4/users', kind: 'garbage', times: 1 });
    await request(app).get('/api/management/user/other%40example.com').set('x-forwarded-for', A).expect(502);
    await request(app).get('/api/management/user?service=premium').set('x-forwarded-for', A).expect(400);
    // Client B: its own key, half moved to V4.
    await request(app).get('/api/management/user/sam%40example.com').set('x-forwarded-for', B).set('authorization', apikey(KEY_2)).expect(200);
    await request(app).get('/api/user/management/v4/users').set('x-forwarded-for', B).set('authorization', apikey(KEY_2)).expect(200);
    await request(app).get('/somewhere/else').set('x-forwarded-for', B).set('authorization', apikey(KEY_2)).expect(404);
    // Not a client: refused by ALLOW_CIDRS, never in the report.
    await request(app).get('/api/management/user').set('x-forwarded-for', '192.168.7.7').expect(403);
  });
  afterEach(async () => {
    await stack.close();
  });

  it('JSON: per client, calls by route, rejections, errors, first and last seen, legacy share', async () => {
    const res = await request(stack.admin).get('/migration/report').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const report = res.body as MigrationReportJson;
    expect(report).toMatchObject({ max_clients: 10_000, clients_tracked: 2, overflow: { calls: 0, legacy_calls: 0, v4_calls: 0 } });
    expect(Date.parse(report.since)).toBeLessThanOrEqual(Date.parse(report.generated_at));
    // Most legacy calls first. Calls refused before V4 (the service rejection, OPTIONS, an
    // unknown route) count for the client that made them: its credentials are known at once.
    const [a, b] = report.clients;
    expect({ ...a, first_seen: 't', last_seen: 't', last_legacy_call: 't' }).toEqual({
      credential: KEYLESS,
      address: A,
      first_seen: 't',
      last_seen: 't',
      last_legacy_call: 't',
      calls: 8,
      legacy_calls: 8,
      v4_calls: 0,
      other_calls: 0,
      legacy_share: 1,
      legacy_routes: { 'list-users': 3, 'get-user': 3, 'create-user': 0, 'update-user': 1, 'delete-user': 0 },
      legacy_other: 1,
      service_rejections: 1,
      rejections: { USER_NOT_FOUND: 1, SERVICE_PARAMETER_REMOVED: 1 },
      errors: 1,
    });
    expect(Date.parse(a?.first_seen as string)).toBeLessThan(Date.parse(a?.last_seen as string));
    expect(a?.last_legacy_call).toBe(a?.last_seen);
    expect(b).toMatchObject({
      credential: credentialFingerprint(apikey(KEY_2)),
      address: B,
      calls: 3,
      legacy_calls: 1,
      v4_calls: 1,
      other_calls: 1,
      legacy_share: 0.5,
      legacy_routes: { 'list-users': 0, 'get-user': 1, 'create-user': 0, 'update-user': 0, 'delete-user': 0 },
      rejections: { NOT_FOUND: 1 },
      errors: 0,
    });
    // Its last calls went elsewhere: the last legacy call is older than the last call.
    expect(Date.parse(b?.last_legacy_call as string)).toBeLessThan(Date.parse(b?.last_seen as string));
    expect(report.clients.some((c) => c.address === '192.168.7.7')).toBe(false);
  });

  it('CSV: the same rows, one per client, with a header', async () => {
    const json = (await request(stack.admin).get('/migration/report')).body as MigrationReportJson;
    const res = await request(stack.admin).get('/migration/report?format=csv').expect(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    const rows = res.text.split('\r\n');
    expect(rows.pop()).toBe('');
    expect(rows[0]).toBe(
      'credential,address,first_seen,last_seen,last_legacy_call,calls,legacy_calls,v4_calls,other_calls,legacy_share,list-users,get-user,create-user,update-user,delete-user,legacy_other,service_rejections,rejections,errors',
    );
    expect(rows).toHaveLength(3);
    const header = (rows[0] as string).split(',');
    const records = rows.slice(1).map((row) => Object.fromEntries(row.split(',').map((field, i) => [header[i], field])));
    expect(records.map((r) => [r.credential, r.address])).toEqual(json.clients.map((c) => [c.credential ?? '', c.address]));
    expect(records.map((r) => [r.first_seen, r.last_seen, r.last_legacy_call])).toEqual(json.clients.map((c) => [c.first_seen, c.last_seen, c.last_legacy_call ?? '']));
    expect(records[0]).toMatchObject({ calls: '8', legacy_calls: '8', v4_calls: '0', legacy_share: '1', 'list-users': '3', 'get-user': '3', 'update-user': '1', legacy_other: '1', service_rejections: '1', errors: '1' });
    expect(records[0]?.rejections?.split(';').sort()).toEqual(['SERVICE_PARAMETER_REMOVED=1', 'USER_NOT_FOUND=1']);
    expect(records[1]).toMatchObject({ calls: '3', legacy_share: '0.5', v4_calls: '1', other_calls: '1', 'get-user': '1', rejections: 'NOT_FOUND=1' });
  });

  it('refuses a format it does not know', async () => {
    const res = await request(stack.admin).get('/migration/report?format=xml').expect(400);
    expect(res.body.error.code).toBe('INVALID_QUERY');
  });

  it('is bounded: past max_clients new clients go to overflow, the ones there keep counting', () => {
    const report = new MigrationReport({ maxClients: 2 });
    const call = (credential: string, address: string, route: string, status = 200): void => {
      report.observe({ requestId: 'x', startedAt: 0, clientAddress: address, admitted: true, authorization: null, credential, ownHeaders: [], record: { route, legacyMethod: 'GET', legacyPath: '', rules: [], v4Calls: 0 } }, status, true);
    };
    call('c1', '10.0.0.1', 'list-users');
    call('c2', '10.0.0.1', 'get-user');
    call('c3', '10.0.0.1', 'get-user');
    call('c3', '10.0.0.2', 'v4-passthrough');
    call('c1', '10.0.0.1', 'v4-passthrough', 503);
    call('c1', '10.0.0.1', 'forbidden', 403);
    const json = report.toJson();
    expect(json.clients_tracked).toBe(2);
    expect(json.overflow).toEqual({ calls: 2, legacy_calls: 1, v4_calls: 1 });
    expect(json.clients.map((c) => [c.credential, c.calls, c.errors])).toEqual([
      ['c1', 2, 1],
      ['c2', 1, 0],
    ]);
    expect(report.toCsv().split('\r\n')).toHaveLength(4);
  });
});
