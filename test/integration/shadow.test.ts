// The shadow comparison against real servers on port 0: the V4 simulator behind a real gateway
// (the V4 side, called over HTTP as a legacy client calls it) and the legacy simulator (the
// legacy side, called by the shadow's own HTTP caller). The runner is driven directly: wiring it
// into the gateway's request path is the gateway's job.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import request from 'supertest';
import { createApp, type GatewayApp } from '../../src/app';
import { loadConfig, type GatewayConfig } from '../../src/config/load';
import type { RawConfig } from '../../src/config/schema';
import { LegacySimulator } from '../../src/legacy-simulator';
import { createAdminApp } from '../../src/observability/admin-app';
import { createMemoryLogger } from './memory-logger';
import { createShadow, LegacyShadowCaller, type Shadow, type ShadowAnswer, type ShadowReportJson } from '../../src/shadow';
import type { JsonValue } from '../../src/translation/json';
import { V4Simulator, type V4User } from '../../src/v4-simulator';
import { KEY_1 } from './harness';
import { keepForSweep } from './log-sweep';

const HASH_KEY = 'shadow-test-hash-key-0001';
const enc = encodeURIComponent;

interface World {
  readonly sim: V4Simulator;
  readonly legacy: LegacySimulator;
  readonly gateway: GatewayApp;
  readonly gatewayUrl: string;
  readonly config: GatewayConfig;
  readonly shadow: Shadow;
  readonly registry: Registry;
  readonly lines: string[];
  readonly users: V4User[];
  close(): Promise<void>;
}

/** Five users; user0 has a flag, user1 a telephone number. */
function seed(sim: V4Simulator): V4User[] {
  sim.seedUsers(KEY_1, 5, (i) => ({
    name: `User ${i}`,
    contact_details: { email: `user${i}@example.com`, ...(i === 1 ? { telephone_number_E123: '+44 20 7946 0958' } : {}) },
    external_id: `CUST-${i}`,
    ...(i === 0 ? { user_flags: ['LICENSE_PURCHASE_RESTRICTED'] } : {}),
  }));
  return sim.listUsers(KEY_1);
}

async function startWorld(legacyOf: (sim: V4Simulator) => LegacySimulator, overrides: Partial<RawConfig> = {}): Promise<World> {
  const sim = new V4Simulator({ apiKeys: [KEY_1] });
  const v4Url = await sim.start(0);
  const users = seed(sim);
  const legacy = legacyOf(sim);
  const legacyUrl = await legacy.start(0);
  const { logger, lines, translations } = createMemoryLogger('debug');
  const settings: Partial<RawConfig> = { v4BaseUrl: v4Url, v4ApiKey: KEY_1, legacyBaseUrl: legacyUrl, shadowMode: 'v4-primary', logHashKey: HASH_KEY, ...overrides };
  const config = loadConfig({ env: {}, overrides: settings });
  // The runner is driven directly here (test/integration/shadow-wiring.test.ts covers the gateway's
  // own wiring): the gateway itself runs without a shadow of its own.
  const gateway = createApp(loadConfig({ env: {}, overrides: { ...settings, shadowMode: 'off' } }), { logger, translations });
  const server = http.createServer(gateway.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const registry = new Registry();
  const shadow = createShadow(config, { logger, registry });
  if (shadow === null) throw new Error('shadow mode is off');
  return {
    sim,
    legacy,
    gateway,
    gatewayUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    config,
    shadow,
    registry,
    lines,
    users,
    close: async () => {
      await shadow.runner.idle();
      keepForSweep(lines);
      shadow.close();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await legacy.stop();
      await sim.stop();
    },
  };
}

/** A legacy client's GET through the gateway, as status + parsed body (the V4 side). */
async function viaGateway(world: World, path: string, signal?: AbortSignal): Promise<ShadowAnswer & { text: string }> {
  const res = await fetch(world.gatewayUrl + path, signal === undefined ? {} : { signal });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as JsonValue), text };
}

/** v4-primary: the client's call answered by the gateway, then the shadow started beside it. */
async function clientCall(world: World, route: string, path: string, requestId: string): Promise<{ answer: ShadowAnswer & { text: string }; submitted: string }> {
  const answer = await viaGateway(world, path);
  const caller = world.shadow.legacyCaller as LegacyShadowCaller;
  const submitted = world.shadow.runner.submit({
    route,
    client: 'client-a',
    requestId,
    primary: answer,
    shadow: (signal) => caller.call({ method: 'GET', pathAndQuery: path, headers: { 'x-request-id': requestId } }, signal),
  });
  return { answer, submitted };
}

async function diffsOverHttp(world: World): Promise<ShadowReportJson> {
  const admin = createAdminApp({ readiness: [], logger: world.gateway.logger, warmUp: () => Promise.reject(new Error('unused')), diffs: world.shadow.runner });
  const res = await request(admin).get('/migration/diffs');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.body as ShadowReportJson;
}

async function metricValue(world: World, route: string, result: string): Promise<number> {
  const values = (await world.registry.getSingleMetric('gateway_shadow_comparisons_total')?.get())?.values ?? [];
  return values.find((v) => v.labels.route === route && v.labels.result === result)?.value ?? 0;
}

const READS: ReadonlyArray<[string, string]> = [
  ['list-users', '/api/management/user'],
  ['list-users', `/api/management/user?email=${enc('user2@example.com')}`],
  ['list-users', '/api/management/user?cid=CUST-3'],
  ['list-users', '/api/management/user?offset=1&limit=2'],
  ['get-user', `/api/management/user/${enc('user0@example.com')}`],
  ['get-user', `/api/management/user/${enc('User1@Example.com')}`],
  ['get-user', `/api/management/user/${enc('nobody@example.com')}`],
];

describe('shadow comparison, V4 via the gateway against the legacy simulator sharing its data', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld((sim) => LegacySimulator.sharing(sim, KEY_1));
  });
  afterAll(() => world.close());

  it('equal data gives zero differences on every read route, and each backend got its call', async () => {
    world.sim.clearRequests();
    for (const [i, [route, path]] of READS.entries()) {
      const { submitted } = await clientCall(world, route, path, `eq-${i}`);
      expect(submitted).toBe('started');
    }
    await world.shadow.runner.idle();

    const report = await diffsOverHttp(world);
    expect(report.mode).toBe('v4-primary');
    expect(report.totals).toMatchObject({ compared: 7, equal: 7, different: 0, noise: 0, expected: 0, shadow_failed: 0, match_rate: 1 });
    expect(report.entries.map((e) => [e.route, e.compared, e.equal, e.top_paths.length])).toEqual(
      expect.arrayContaining([
        ['list-users', 4, 4, 0],
        ['get-user', 3, 3, 0],
      ]),
    );
    // The legacy backend got the legacy calls as the client made them, and nothing else.
    expect(world.legacy.requests.map((r) => [r.method, r.url, r.headers['x-request-id']])).toEqual(READS.map(([, path], i) => ['GET', path, `eq-${i}`]));
    // V4 got the translated calls (never the email in a path): index pages and lookups, then by-id reads.
    const v4 = world.sim.requests.map((r) => `${r.method} ${r.url}`);
    expect(v4).toContain('GET /api/user/management/v4/users?email=user1%40example.com&limit=2');
    expect(v4).toContain(`GET /api/user/management/v4/users/${world.users[1]?.id ?? ''}`);
    expect(v4.some((line) => line.includes('external_id=CUST-3'))).toBe(true);
    expect(v4.every((line) => !/users\/[^?]*@/.test(line))).toBe(true);
    expect(await metricValue(world, 'get-user', 'equal')).toBe(3);
  });

  it('the two backends write their JSON differently (key order), which is not a difference', async () => {
    const path = `/api/management/user/${enc('user1@example.com')}`;
    const gatewayText = (await viaGateway(world, path)).text;
    const legacyRes = await fetch(world.legacy.url + path);
    const legacyText = await legacyRes.text();
    expect(gatewayText).not.toBe(legacyText);
    expect(JSON.parse(gatewayText)).toEqual(JSON.parse(legacyText));
  });
});

describe('shadow comparison, planted differences in one store', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld((sim) => LegacySimulator.copying(sim, KEY_1));
    const [u0, u1, u2] = world.users;
    if (u0 === undefined || u1 === undefined || u2 === undefined) throw new Error('seeding failed');
    world.legacy.store.update(u1.id, { name: 'Legacy Name' }); // a changed name
    world.legacy.store.update(u0.id, { user_flags: [] }); // a missing flag
    world.legacy.setService(u2.id, 'premium'); // the legacy-only field
    world.legacy.store.create({ contact_details: { email: 'only-legacy@example.com' }, external_id: 'CUST-L' }); // a list with an extra user
    world.sim.createUser(KEY_1, { contact_details: { email: 'only-v4@example.com' }, external_id: 'CUST-V' }); // and one only V4 has
  });
  afterAll(() => world.close());

  it('finds each with the right path, kind and class; counts them per route; logs each without an email', async () => {
    for (const [i, [route, path]] of READS.entries()) await clientCall(world, route, path, `pl-${i}`);
    await clientCall(world, 'get-user', `/api/management/user/${enc('user2@example.com')}`, 'pl-service');
    await world.shadow.runner.idle();
    const report = await diffsOverHttp(world);
    if (process.env.SHADOW_SAMPLE_OUT !== undefined) writeFileSync(process.env.SHADOW_SAMPLE_OUT, JSON.stringify(report, null, 2) + '\n');

    const paths = (route: string) =>
      (report.entries.find((e) => e.route === route)?.top_paths ?? []).map((p) => `${p.kind} ${p.path} ${p.class} ${p.count}`).sort();
    expect(paths('get-user')).toEqual(['changed /name regression 1', 'extra /user_flags/* regression 1', 'missing /service expected 1']);
    // The whole list: user1's name, user0's flag, user2's service, and the user each side alone has.
    // The ?offset=1&limit=2 page holds user1 and user2 on both sides (one name, one service).
    expect(paths('list-users')).toEqual([
      'changed /*/name regression 2',
      'extra /* regression 1',
      'extra /*/user_flags/* regression 1',
      'missing /* regression 1',
      'missing /*/service expected 3', // the whole list, ?email=user2, and the offset page
    ]);
    const getUser = report.entries.find((e) => e.route === 'get-user');
    expect(getUser).toMatchObject({ compared: 4, equal: 1, expected: 1, different: 2, match_rate: 0.5 });
    const list = report.entries.find((e) => e.route === 'list-users');
    // ?email=user2 differs only by the expected service; ?cid=CUST-3 is equal.
    expect(list).toMatchObject({ compared: 4, equal: 1, expected: 1, different: 2 });

    // Examples name the user by the keyed hash, as the logs would.
    const whole = list?.examples.find((e) => e.request_id === 'pl-0');
    const onlyLegacy = whole?.differences.find((d) => d.kind === 'missing' && d.pattern === '/*');
    expect(onlyLegacy?.item).toMatch(/^h:/);
    const text = JSON.stringify(report);
    expect(text).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]/);

    const logged = world.lines.filter((l) => l.includes('"shadow difference"'));
    expect(logged.filter((l) => l.includes('"warn"'))).toHaveLength(2 + 5); // get-user regressions + list regressions
    expect(logged.join('\n')).not.toMatch(/@example\.com/);
    expect(await metricValue(world, 'list-users', 'different')).toBe(2);
  });
});

describe('a shadow that hangs, is reset or answers garbage', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld((sim) => LegacySimulator.sharing(sim, KEY_1), { shadowTimeoutMs: 300 });
  });
  afterAll(() => world.close());

  it.each([
    ['hang', 'timeout'],
    ['reset', 'reset'],
    ['garbage', 'invalid_answer'],
  ] as const)('%s: the client answer is the gateway\'s, unchanged, and the shadow is counted as failed (%s)', async (fault, kind) => {
    const path = `/api/management/user/${enc('user3@example.com')}`;
    const expected = await viaGateway(world, path); // the same call without a shadow
    world.legacy.clearRequests();
    world.legacy.addFault({ method: 'GET', path: `/api/management/user/${enc('user3@example.com')}`, kind: fault, times: 1 });
    const before = (await diffsOverHttp(world)).totals.shadow_failed;

    const { answer, submitted } = await clientCall(world, 'get-user', path, `f-${fault}`);
    expect(submitted).toBe('started');
    expect(world.shadow.runner.inFlight).toBe(1); // the client had its answer while the shadow was still out
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(expected.body);

    await world.shadow.runner.idle();
    const report = await diffsOverHttp(world);
    expect(report.totals.shadow_failed).toBe(before + 1);
    expect(report.entries.find((e) => e.route === 'get-user')?.shadow_failures[kind]).toBeGreaterThanOrEqual(1);
    expect(world.legacy.faultsApplied()[fault]).toBeGreaterThanOrEqual(1);
    expect(world.legacy.requests.map((r) => r.url)).toEqual([path]);
    expect(report.totals.different).toBe(0);
  });
});

describe('legacy-primary with learnt noise', () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld((sim) => LegacySimulator.copying(sim, KEY_1), { shadowMode: 'legacy-primary', shadowNoiseSamples: 1 });
  });
  afterAll(() => world.close());

  it('a field that changes between two reads of the legacy backend is noise; a cid that is not the external_id is a regression', async () => {
    const u3 = world.users[3] as V4User;
    world.legacy.store.update(u3.id, { external_id: 'LEGACY-CID' }); // a real rename mismatch
    const path = `/api/management/user/${enc('user3@example.com')}`;
    // The legacy backend's first answer carries another registration_time: a field that changes per read.
    const stored = world.legacy.legacyUser(u3.id) as { registration_information: { registration_time: number } };
    const moved = { ...stored, registration_information: { ...stored.registration_information, registration_time: stored.registration_information.registration_time + 7 } };
    world.legacy.addFault({ method: 'GET', path, kind: 'status', status: 200, body: JSON.stringify(moved), times: 1 });

    const legacyCaller = new LegacyShadowCaller(world.legacy.url);
    try {
      const read = (signal: AbortSignal) => legacyCaller.call({ method: 'GET', pathAndQuery: path }, signal);
      const primary = await read(AbortSignal.timeout(5_000)); // what the client got from the legacy backend
      const submitted = world.shadow.runner.submit({ route: 'get-user', client: 'client-b', requestId: 'noise-1', primary, primaryAgain: read, shadow: (signal) => viaGateway(world, path, signal) });
      expect(submitted).toBe('started');
      await world.shadow.runner.idle();
    } finally {
      legacyCaller.close();
    }
    const report = await diffsOverHttp(world);
    expect(report.learnt_noise).toEqual({ 'get-user': ['/registration_information/registration_time'] });
    const entry = report.entries.find((e) => e.route === 'get-user');
    expect(entry?.top_paths.map((p) => `${p.kind} ${p.path} ${p.class}`).sort()).toEqual(['changed /cid regression', 'changed /registration_information/registration_time noise']);
    expect(entry?.different).toBe(1);
    // The legacy backend was asked twice (the client's read and the noise sample), V4 once through the gateway.
    expect(world.legacy.requests.filter((r) => r.url === path)).toHaveLength(2);
  });
});
