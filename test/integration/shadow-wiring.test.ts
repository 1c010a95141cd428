// The shadow comparison as the gateway runs it (SHADOW_MODE), end to end over real HTTP: a legacy
// client calls the gateway; the V4 simulator and the legacy simulator are the two backends. Each
// test asserts what the client got, what each backend received, and what /migration/diffs says.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { Registry } from 'prom-client';
import { createApp, type GatewayApp } from '../../src/app';
import { loadConfig } from '../../src/config/load';
import type { RawConfig } from '../../src/config/schema';
import { LegacySimulator } from '../../src/legacy-simulator';
import { createAdminApp } from '../../src/observability/admin-app';
import type { ShadowReportJson } from '../../src/shadow';
import { V4Simulator } from '../../src/v4-simulator';
import { apikey, KEY_1 } from './harness';
import { keepForSweep } from './log-sweep';
import { createMemoryLogger } from './memory-logger';

interface World {
  readonly sim: V4Simulator;
  readonly legacy: LegacySimulator;
  readonly gateway: GatewayApp;
  readonly url: string;
  readonly registry: Registry;
  diffs(): Promise<ShadowReportJson>;
  close(): Promise<void>;
}

const JANE = 'jane@example.com';

async function startWorld(overrides: Partial<RawConfig>, legacyOf: (sim: V4Simulator) => LegacySimulator = (sim) => LegacySimulator.sharing(sim, KEY_1)): Promise<World> {
  const sim = new V4Simulator({ apiKeys: [KEY_1] });
  const v4Url = await sim.start(0);
  sim.createUser(KEY_1, { name: 'Jane', external_id: 'C1', user_flags: ['LICENSE_PURCHASE_RESTRICTED'], contact_details: { email: JANE } });
  sim.createUser(KEY_1, { name: 'Joe', external_id: 'C2', contact_details: { email: 'joe@example.com' } });
  const legacy = legacyOf(sim);
  const legacyUrl = await legacy.start(0);
  sim.clearRequests();
  const { logger, lines, translations } = createMemoryLogger('debug');
  const registry = new Registry();
  const config = loadConfig({ env: {}, overrides: { v4BaseUrl: v4Url, v4ApiKey: KEY_1, legacyBaseUrl: legacyUrl, shadowTimeoutMs: 1000, ...overrides } });
  const gateway = createApp(config, { logger, translations, metricsRegistry: registry });
  const server = http.createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const runner = gateway.shadow?.runner;
  if (runner === undefined) throw new Error('no shadow');
  return {
    sim,
    legacy,
    gateway,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    registry,
    diffs: async () => {
      await runner.idle();
      const res = await request(createAdminApp({ readiness: [], logger, warmUp: () => Promise.reject(new Error('unused')), diffs: runner })).get('/migration/diffs');
      expect(res.status).toBe(200);
      return res.body as ShadowReportJson;
    },
    close: async () => {
      await runner.idle();
      keepForSweep(lines);
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await legacy.stop();
      await sim.stop();
    },
  };
}

async function get(world: World, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(world.url + path, { headers: { authorization: apikey(KEY_1) } });
  return { status: res.status, text: await res.text() };
}

describe('SHADOW_MODE=v4-primary through the gateway', () => {
  let world: World;
  afterEach(() => world.close());

  it('answers from V4, sends the same read to the legacy backend, and finds equal data equal', async () => {
    world = await startWorld({ shadowMode: 'v4-primary' });
    const path = `/api/management/user/${encodeURIComponent(JANE)}`;
    const got = await get(world, path);
    expect(got.status).toBe(200);
    expect(JSON.parse(got.text)).toMatchObject({ name: 'Jane', cid: 'C1', email: JANE });
    const report = await world.diffs();
    // V4: the lookup and the read; the legacy backend: the very same legacy read, once.
    expect(world.sim.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(world.legacy.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${path}`]);
    expect(world.legacy.requests[0]?.headers.authorization).toBe(apikey(KEY_1));
    expect(report.totals).toMatchObject({ compared: 1, different: 0, shadow_failed: 0 });
    expect(report.entries[0]).toMatchObject({ route: 'get-user', compared: 1, match_rate: 1 });
  });

  it('finds a planted difference (a changed name, a missing flag) with its path and kind', async () => {
    world = await startWorld({ shadowMode: 'v4-primary' }, (sim) => {
      const copy = LegacySimulator.copying(sim, KEY_1);
      const jane = copy.store.all().find((u) => u.contact_details.email === JANE);
      if (jane === undefined) throw new Error('no jane');
      copy.store.update(jane.id, { name: 'Jane Legacy', user_flags: [] });
      return copy;
    });
    await get(world, `/api/management/user/${encodeURIComponent(JANE)}`);
    const report = await world.diffs();
    const entry = report.entries.find((e) => e.route === 'get-user');
    expect(entry).toMatchObject({ compared: 1, different: 1 });
    expect(entry?.top_paths).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: '/name', kind: 'changed', class: 'regression' }),
        expect.objectContaining({ path: '/user_flags/*', kind: 'extra', class: 'regression' }),
      ]),
    );
  });

  it('compares a streamed list once its last page went out (more than one V4 page)', async () => {
    world = await startWorld({ shadowMode: 'v4-primary' });
    world.sim.seedUsers(KEY_1, 620, (i) => ({ name: `Bulk ${i}`, contact_details: { email: `bulk${i}@example.com` } }));
    const got = await get(world, '/api/management/user');
    expect(JSON.parse(got.text)).toHaveLength(622);
    const report = await world.diffs();
    expect(world.sim.requests.filter((r) => r.path.endsWith('/users')).length).toBe(2);
    expect(report.entries.find((e) => e.route === 'list-users')).toMatchObject({ compared: 1, different: 0 });
  });

  it('compares a refusal too: a user unknown to both is 404 on both sides', async () => {
    world = await startWorld({ shadowMode: 'v4-primary' });
    const got = await get(world, '/api/management/user/nobody%40example.com');
    expect(got.status).toBe(404);
    const report = await world.diffs();
    expect(report.entries.find((e) => e.route === 'get-user')).toMatchObject({ compared: 1, different: 0 });
  });

  it('never sends a write to the legacy backend', async () => {
    world = await startWorld({ shadowMode: 'v4-primary' });
    const res = await request(world.url).put(`/api/management/user/${encodeURIComponent(JANE)}`).set('authorization', apikey(KEY_1)).send({ name: 'Jane Q' });
    expect(res.status).toBe(200);
    await world.diffs();
    expect(world.legacy.requests).toHaveLength(0);
    expect(world.sim.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
  });

  it('with SHADOW_VERIFY_WRITES, reads the written user back from both sides (reads only)', async () => {
    world = await startWorld({ shadowMode: 'v4-primary', shadowVerifyWrites: true }, (sim) => LegacySimulator.copying(sim, KEY_1));
    const res = await request(world.url).put(`/api/management/user/${encodeURIComponent(JANE)}`).set('authorization', apikey(KEY_1)).send({ name: 'Jane Q' });
    expect(res.status).toBe(200);
    const report = await world.diffs();
    expect(world.legacy.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /api/management/user/${encodeURIComponent(JANE)}`]);
    // The copy did not get the write: the read-back finds the name V4 has and the legacy store lacks.
    const entry = report.entries.find((e) => e.route === 'update-user');
    expect(entry).toMatchObject({ compared: 1, different: 1 });
    expect(entry?.top_paths).toEqual([expect.objectContaining({ path: '/name', kind: 'changed' })]);
  });

  it.each(['hang', 'reset', 'garbage'] as const)('a legacy backend that answers with %s changes nothing the client sees, and is counted', async (kind) => {
    // The deadline only matters for the hang; the others fail at once.
    world = await startWorld({ shadowMode: 'v4-primary', shadowTimeoutMs: kind === 'hang' ? 1000 : 5000 });
    const path = `/api/management/user/${encodeURIComponent(JANE)}`;
    const before = await get(world, path);
    const first = (await world.diffs()).totals;
    world.legacy.addFault({ kind, path: /^\/api\/management\/user/ });
    const during = await get(world, path);
    // The client's answer came back while the shadow was still out (a hang holds it to its deadline).
    if (kind === 'hang') expect(world.gateway.shadow?.runner.inFlight).toBe(1);
    expect(during).toEqual(before);
    const report = await world.diffs();
    // The faulty call is one more shadow failure and no comparison (measured against the first call's result).
    expect({ compared: report.totals.compared - first.compared, failed: report.totals.shadow_failed - first.shadow_failed }).toEqual({ compared: 0, failed: 1 });
    const failures = report.entries[0]?.shadow_failures ?? {};
    expect(Object.values(failures).reduce((a, b) => a + (b ?? 0), 0)).toBe(report.totals.shadow_failed);
    const metrics = await world.registry.getSingleMetricAsString('gateway_shadow_comparisons_total');
    expect(metrics).toMatch(new RegExp(`gateway_shadow_comparisons_total\\{route="get-user",result="shadow_failed"\\} ${report.totals.shadow_failed}`));
  });

  it('learns a field that changes on every read as noise, and still reports a real mismatch', async () => {
    world = await startWorld({ shadowMode: 'v4-primary', shadowNoiseSamples: 5 }, (sim) => {
      const copy = LegacySimulator.copying(sim, KEY_1);
      const joe = copy.store.all().find((u) => u.contact_details.email === 'joe@example.com');
      if (joe !== undefined) copy.store.update(joe.id, { external_id: 'C2-legacy' });
      return copy;
    });
    // V4 answers each read of Jane with another name, as a volatile field would (one fault rule per read).
    const jane = world.sim.listUsers(KEY_1).find((u) => u.contact_details.email === JANE);
    if (jane === undefined) throw new Error('no jane');
    for (let i = 0; i < 20; i += 1) {
      world.sim.addFault({ kind: 'status', status: 200, method: 'GET', path: `/api/user/management/v4/users/${jane.id}`, times: 1, body: JSON.stringify({ ...jane, name: `Jane ${i}` }), headers: { 'content-type': 'application/json' } });
    }
    for (let i = 0; i < 5; i += 1) await get(world, `/api/management/user/${encodeURIComponent(JANE)}`);
    await get(world, '/api/management/user/joe%40example.com');
    const report = await world.diffs();
    expect(report.learnt_noise['get-user']).toContain('/name');
    const entry = report.entries.find((e) => e.route === 'get-user');
    expect(entry?.top_paths).toEqual(expect.arrayContaining([expect.objectContaining({ path: '/name', class: 'noise' }), expect.objectContaining({ path: '/cid', class: 'regression' })]));
  });
});

describe('SHADOW_MODE=legacy-primary through the gateway', () => {
  let world: World;
  afterEach(() => world.close());

  it('answers from the legacy backend unchanged and shadows the translated read to V4', async () => {
    world = await startWorld({ shadowMode: 'legacy-primary' });
    const path = `/api/management/user/${encodeURIComponent(JANE)}`;
    const res = await fetch(world.url + path, { headers: { authorization: apikey(KEY_1), 'x-request-id': 'lp-1' } });
    const got = { status: res.status, text: await res.text() };
    // The legacy backend's answer, with the gateway's request id and deprecation headers added.
    expect(res.headers.get('x-request-id')).toBe('lp-1');
    expect(res.headers.get('deprecation')).toMatch(/^@\d+$/);
    expect(res.headers.get('link')).toContain('rel="successor-version"');
    const report = await world.diffs();
    expect(world.legacy.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET ${path}`]);
    const legacyBody = JSON.parse(got.text) as Record<string, unknown>;
    expect(legacyBody).toMatchObject({ name: 'Jane', cid: 'C1', email: JANE });
    // V4 got the translated read: the lookup by email and the read by id.
    expect(world.sim.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/user/management/v4/users', expect.stringMatching(/^GET \/api\/user\/management\/v4\/users\/[^/]+$/)]);
    expect(report).toMatchObject({ mode: 'legacy-primary', totals: { compared: 1, different: 0 } });
  });

  it('never forwards a legacy path with dot segments to the legacy backend, nor shadows one', async () => {
    world = await startWorld({ shadowMode: 'legacy-primary' });
    for (const path of ['/api/management/user/../../admin/secret', '/api/management/user/%2e%2e/%2e%2e/admin']) {
      const got = await new Promise<number>((resolve, reject) => {
        // A raw request: fetch would resolve the dot segments itself.
        const { hostname, port } = new URL(world.url);
        const req = http.request({ hostname, port, path, headers: { authorization: apikey(KEY_1) } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(got).toBe(404);
    }
    await world.diffs();
    expect(world.legacy.requests).toHaveLength(0);
    expect(world.sim.requests).toHaveLength(0);
  });

  it('sends writes to the legacy backend only', async () => {
    world = await startWorld({ shadowMode: 'legacy-primary' }, (sim) => LegacySimulator.copying(sim, KEY_1));
    const res = await request(world.url).put(`/api/management/user/${encodeURIComponent(JANE)}`).set('authorization', apikey(KEY_1)).send({ name: 'Jane Q' });
    expect(res.status).toBe(200);
    await world.diffs();
    expect(world.legacy.requests.map((r) => r.method)).toEqual(['PUT']);
    expect(world.sim.requests).toHaveLength(0);
  });
});
