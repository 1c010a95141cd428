// Two gateway processes (as `npm start` runs them) on one real redis-server, against the V4
// simulator, all over HTTP: what replica B does after a write through replica A, what V4 receives,
// and what Redis failing (killed, restarted, paused) changes: nothing in any answer.
import http from 'node:http';
import { V4Simulator } from '../../src/v4-simulator';
import type { RecordedRequest } from '../../src/v4-simulator/types';
import type { FleetReportJson } from '../../src/observability/shared-report';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { spawnGateway, type GatewayProcess } from './process-harness';
import { haveRedisServer, RedisServer } from '../bench/redis-server';

const describeWithRedis = haveRedisServer() || process.env.CI === 'true' ? describe : describe.skip;

const KEY = 'fleet-test-key-0001';
/** A second tenant: its calls are a client row of their own in the report. */
const KEY_2 = 'fleet-test-key-0002';

interface Answer {
  status: number;
  body: string;
}

function send(port: number, method: string, path: string, body?: unknown, headers: http.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: payload === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end(payload);
  });
}

const userPath = (email: string): string => `/api/management/user/${encodeURIComponent(email)}`;

/** What V4 received, in a compact form: `GET lookup`, `GET id`, `PATCH id`, `DELETE id`. */
function kinds(requests: readonly RecordedRequest[]): string[] {
  return requests.map((r) => `${r.method} ${r.url.includes('?email=') ? 'lookup' : r.path.split('/').length > 6 ? 'id' : r.path}`);
}

async function metric(gateway: GatewayProcess, name: string): Promise<number | null> {
  const text = (await send(gateway.adminPort, 'GET', '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.split(' ')[1]);
}

async function until(what: string, condition: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const redisUp = (gateway: GatewayProcess, up: boolean) => async (): Promise<boolean> => (await metric(gateway, 'legacy_gateway_redis_up')) === (up ? 1 : 0);

describeWithRedis('two gateway processes on one Redis', () => {
  let redis: RedisServer;
  let sim: V4Simulator;
  let a: GatewayProcess;
  let b: GatewayProcess;

  beforeAll(async () => {
    redis = await RedisServer.start();
    sim = new V4Simulator({ apiKeys: [KEY, KEY_2] });
    const simUrl = await sim.start(0);
    const env = {
      V4_BASE_URL: simUrl,
      V4_API_KEY: KEY,
      REDIS_URL: redis.url,
      REDIS_HEALTH_INTERVAL_MS: '100',
      REDIS_REPORT_INTERVAL_MS: '100',
      // Generous: a slow CI machine must not turn a lock wait into a second lookup.
      REDIS_LOCK_MS: '5000',
      V4_PROBE_INTERVAL_MS: '0',
      LOG_LEVEL: 'info',
    };
    [a, b] = await Promise.all([spawnGateway(env), spawnGateway(env)]);
    await until('A up on Redis', redisUp(a, true));
    await until('B up on Redis', redisUp(b, true));
  }, 30_000);

  afterAll(async () => {
    for (const gateway of [a, b]) {
      if (gateway === undefined) continue;
      // A replica that died mid-suite says why here.
      if (gateway.child.exitCode !== null || gateway.child.signalCode !== null) process.stderr.write(`gateway exited ${String(gateway.child.exitCode ?? gateway.child.signalCode)}: ${gateway.stderr.join('')} ${gateway.stdout.slice(-5).join("\n")}\n`);
      gateway.child.kill('SIGTERM');
      await gateway.exited;
    }
    await sim?.stop();
    await redis?.stop();
  });

  beforeEach(() => sim.clearRequests());

  test('a rename through A is seen by B on its very next call, without a verification read', async () => {
    const { id } = sim.createUser(KEY, { name: 'Old', contact_details: { email: 'rename-old@example.com' } });
    expect((await send(b.port, 'GET', userPath('rename-old@example.com'))).status).toBe(200);
    // A finds the entry B's lookup left in Redis: no lookup of its own.
    sim.clearRequests();
    expect((await send(a.port, 'GET', userPath('rename-old@example.com'))).status).toBe(200);
    expect(kinds(sim.requests)).toEqual(['GET id']);

    const renamed = await send(a.port, 'PUT', userPath('rename-old@example.com'), { email: 'rename-new@example.com' });
    expect(renamed.status).toBe(200);
    expect(sim.getUser(KEY, id)?.contact_details.email).toBe('rename-new@example.com');

    // B's next call with the old email: its local entry is gone, so V4 gets a lookup, never a read of the moved user.
    sim.clearRequests();
    const old = await send(b.port, 'GET', userPath('rename-old@example.com'));
    expect(old.status).toBe(404);
    expect(kinds(sim.requests)).toEqual(['GET lookup']);

    // And the new email: the id from Redis, no lookup.
    sim.clearRequests();
    const fresh = await send(b.port, 'GET', userPath('rename-new@example.com'));
    expect(fresh.status).toBe(200);
    expect(JSON.parse(fresh.body)).toMatchObject({ email: 'rename-new@example.com', name: 'Old' });
    expect(kinds(sim.requests)).toEqual(['GET id']);
    expect(sim.requests[0]?.path).toContain(id);
  });

  test('a delete through A makes B answer 404 with no V4 write (and no read of the deleted id)', async () => {
    sim.createUser(KEY, { name: 'Doomed', contact_details: { email: 'doomed@example.com' } });
    expect((await send(b.port, 'GET', userPath('doomed@example.com'))).status).toBe(200);
    expect((await send(a.port, 'DELETE', userPath('doomed@example.com'))).status).toBe(204);
    sim.clearRequests();
    const deleted = await send(b.port, 'DELETE', userPath('doomed@example.com'));
    expect(deleted.status).toBe(404);
    expect(JSON.parse(deleted.body)).toMatchObject({ error: { code: 'USER_NOT_FOUND' } });
    expect(kinds(sim.requests)).toEqual(['GET lookup']);
    // Nothing was written since the delete through A.
    expect(sim.journal).toHaveLength(0);
  });

  test('concurrent cold GETs for one email on both replicas cost one V4 lookup in all', async () => {
    sim.createUser(KEY, { name: 'Cold', contact_details: { email: 'cold@example.com' } });
    sim.clearRequests();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? a.port : b.port, 'GET', userPath('cold@example.com'))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(kinds(sim.requests).filter((kind) => kind === 'GET lookup')).toHaveLength(1);
  });

  test('/migration/report on either replica shows the fleet, with the replicas that contributed', async () => {
    sim.createUser(KEY_2, { name: 'Reported', contact_details: { email: 'reported@example.com' } });
    const auth = { authorization: `Apikey ${KEY_2}` };
    for (const gateway of [a, a, b]) expect((await send(gateway.port, 'GET', userPath('reported@example.com'), undefined, auth)).status).toBe(200);
    // Tenant 2's client row: all its calls came in this test.
    const fingerprint = credentialFingerprint(`Apikey ${KEY_2}`);
    const callsOf = (report: FleetReportJson): number[] => report.clients.filter((client) => client.credential === fingerprint).map((client) => client.legacy_calls);
    let report: FleetReportJson | undefined;
    // B's counts reach Redis on its next flush (100 ms here); A's own are flushed by the read itself.
    await until('the three calls of tenant 2 in the fleet report', async () => {
      report = JSON.parse((await send(a.adminPort, 'GET', '/migration/report')).body) as FleetReportJson;
      return callsOf(report)[0] === 3;
    });
    if (report === undefined) throw new Error('no report');
    expect(report.fleet.source).toBe('redis');
    expect(report.fleet.replicas_contributed).toBe(2);
    for (const replica of report.fleet.replicas) expect(Number.isNaN(Date.parse(replica.last_reported))).toBe(false);
    // The same fleet figures on the other replica; each replica alone saw 2 and 1 of them.
    const fromB = JSON.parse((await send(b.adminPort, 'GET', '/migration/report')).body) as FleetReportJson;
    expect(callsOf(fromB)).toEqual([3]);
    expect(JSON.stringify(report)).not.toContain('reported@example.com');
    expect(JSON.stringify(report)).not.toContain(KEY_2);
  });

  /**
   * One legacy write, checked against what V4 applied: the status, and every write V4 applied
   * for it went to `userId`, which held the email the client named (none for a 404).
   */
  async function write(gateway: GatewayProcess, method: 'PUT' | 'DELETE', email: string, body: unknown, userId: string, status: number): Promise<void> {
    const journalBefore = sim.journal.length;
    expect((await send(gateway.port, method, userPath(email), body)).status).toBe(status);
    const applied = sim.journal.slice(journalBefore);
    expect(applied.map((entry) => [entry.userId, entry.emailBefore])).toEqual(status === 404 ? [] : [[userId, email]]);
  }

  /** Reads and writes through both replicas, each answer and each applied write checked against V4. */
  async function checkedTraffic(round: string, users: number): Promise<void> {
    for (let i = 0; i < users; i += 1) {
      const email = `${round}-${i}@example.com`;
      const { id } = sim.createUser(KEY, { name: 'v0', contact_details: { email } });
      const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
      expect((await send(first.port, 'GET', userPath(email))).status).toBe(200);
      await write(second, 'PUT', email, { name: `v1-${round}` }, id, 200);
      expect(sim.getUser(KEY, id)?.name).toBe(`v1-${round}`);
      const moved = `${round}-${i}-moved@example.com`;
      await write(first, 'PUT', email, { email: moved }, id, 200);
      expect((await send(second.port, 'GET', userPath(email))).status).toBe(404);
      await write(second, 'PUT', email, { name: 'must not land' }, id, 404);
      const readMoved = await send(second.port, 'GET', userPath(moved));
      expect(readMoved.status).toBe(200);
      expect(JSON.parse(readMoved.body)).toMatchObject({ email: moved, name: `v1-${round}` });
      await write(first, 'DELETE', moved, undefined, id, 204);
      await write(second, 'DELETE', moved, undefined, id, 404);
    }
  }

  test('Redis killed mid-run, then restarted: every answer stays right, /readyz stays ready, both replicas come back by themselves', async () => {
    await checkedTraffic('before-kill', 3);
    await redis.kill();
    await until('A down', redisUp(a, false));
    await until('B down', redisUp(b, false));
    expect((await send(a.adminPort, 'GET', '/readyz')).status).toBe(200);
    await checkedTraffic('while-killed', 3);
    const report = JSON.parse((await send(b.adminPort, 'GET', '/migration/report')).body) as FleetReportJson;
    expect(report.fleet.source).toBe('local');
    await redis.restart();
    await until('A up again', redisUp(a, true));
    await until('B up again', redisUp(b, true));
    await checkedTraffic('after-restart', 3);
    // Logged once per change of state, not per failed command.
    for (const gateway of [a, b]) {
      const downs = gateway.stdout.filter((line) => line.includes('"redis: down')).length;
      expect(downs).toBe(await metricLabelled(gateway, 'legacy_gateway_redis_state_changes_total', 'to="down"'));
    }
  }, 60_000);

  test('Redis paused (SIGSTOP): the replicas fall back and answer right, then resume on it', async () => {
    redis.pause();
    try {
      await checkedTraffic('while-paused', 2);
      expect((await send(b.adminPort, 'GET', '/readyz')).status).toBe(200);
      expect(await metric(a, 'legacy_gateway_redis_up')).toBe(0);
    } finally {
      redis.resume();
    }
    await until('A up again', redisUp(a, true));
    await until('B up again', redisUp(b, true));
    await checkedTraffic('after-pause', 2);
  }, 60_000);
});

async function metricLabelled(gateway: GatewayProcess, name: string, label: string): Promise<number> {
  const text = (await send(gateway.adminPort, 'GET', '/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
