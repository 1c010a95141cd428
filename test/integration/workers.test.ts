// WORKERS=2: the real process (node dist/src/server.js) as a node:cluster primary with two
// workers sharing PORT. Calls spread over both; the admin port's report and metrics add up every
// worker's calls; SIGTERM drains every worker; a worker that dies is replaced and logged.
import http from 'node:http';
import { V4Simulator } from '../../src/v4-simulator';
import { spawnGateway, type GatewayProcess } from './process-harness';

const KEY = 'workers-key-0001';
const CALLS = 40;
const USERS = 4;

interface Answer {
  status: number;
  body: string;
}

/** A fresh connection per call (agent: false), so the primary hands each to the next worker. */
function send(port: number, method: string, path: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, timeout: 10_000, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

interface WorkersAnswer {
  workers: number;
  listening: number;
  restarts: number;
  by_worker: { pid: number; calls: number }[];
}

async function workersOf(gateway: GatewayProcess): Promise<WorkersAnswer> {
  const res = await send(gateway.adminPort, 'GET', '/workers');
  expect(res.status).toBe(200);
  return JSON.parse(res.body) as WorkersAnswer;
}

/** Polls until `check` holds (at most 10 s, every 100 ms); returns the last value seen. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    value = await read();
  }
  return value;
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('WORKERS=2: one port, two worker processes, one admin view', () => {
  let sim: V4Simulator;
  let url: string;
  let gateway: GatewayProcess | undefined;
  beforeAll(async () => {
    sim = new V4Simulator({ apiKeys: [KEY] });
    url = await sim.start(0);
    sim.seedUsers(KEY, USERS);
  });
  afterEach(async () => {
    if (gateway !== undefined && gateway.child.exitCode === null) {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
    gateway = undefined;
    sim.clearRequests();
    sim.clearFaults();
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('spreads calls over both workers; the report and the metrics count every call once', async () => {
    gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, WORKERS: '2' });
    const g = gateway;
    const answers = [];
    for (let i = 0; i < CALLS; i++) answers.push(await send(g.port, 'GET', `/api/management/user/user${i % USERS}%40example.com`));
    expect(answers.map((a) => a.status)).toEqual(new Array(CALLS).fill(200));
    expect(JSON.parse(answers[1]?.body ?? '{}')).toMatchObject({ email: 'user1@example.com' });

    const workers = await workersOf(g);
    expect(workers).toMatchObject({ workers: 2, listening: 2, restarts: 0 });
    const pids = workers.by_worker.map((w) => w.pid);
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(g.child.pid);
    for (const w of workers.by_worker) expect(w.calls).toBeGreaterThan(0);
    expect(workers.by_worker.reduce((n, w) => n + w.calls, 0)).toBe(CALLS);

    const report = JSON.parse((await send(g.adminPort, 'GET', '/migration/report')).body) as { clients: { calls: number; legacy_routes: Record<string, number> }[] };
    expect(report.clients).toHaveLength(1); // one client (key and address), merged from both workers
    expect(report.clients[0]).toMatchObject({ calls: CALLS, legacy_routes: { 'get-user': CALLS } });
    const csv = (await send(g.adminPort, 'GET', '/migration/report?format=csv')).body.trim().split('\r\n');
    expect(csv).toHaveLength(2);

    const metrics = (await send(g.adminPort, 'GET', '/metrics')).body;
    expect(metricValue(metrics, 'legacy_gateway_requests_total{route="get-user",legacy_status="200",v4_status="200"}')).toBe(CALLS);
    expect(metricValue(metrics, 'legacy_gateway_workers')).toBe(2);
    // What V4 saw agrees: one by-id GET per call, whichever worker made it.
    expect(sim.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/api/user/management/v4/users/'))).toHaveLength(CALLS);
    // Each worker has its own cache, so a user may be looked up once per worker; the lookup counter
    // and the cache gauge add both workers up (every lookup found its user and was cached).
    const lookups = sim.requests.filter((r) => r.path === '/api/user/management/v4/users').length;
    expect(lookups).toBeGreaterThanOrEqual(USERS);
    expect(metricValue(metrics, 'legacy_gateway_v4_requests_total{kind="lookup"}')).toBe(lookups);
    expect(metricValue(metrics, 'legacy_gateway_cache_entries')).toBe(lookups);
  });

  it('SIGTERM drains every worker: the call in flight is answered, then all exit and the process exits 0', async () => {
    gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, WORKERS: '2', SHUTDOWN_GRACE_MS: '5000' });
    const g = gateway;
    sim.addFault({ kind: 'delay', delayMs: 800, method: 'PATCH', times: 1 });
    const inFlight = send(g.port, 'PUT', '/api/management/user/user0%40example.com', '{"name":"Drained"}');
    await eventually(async () => sim.requests.filter((r) => r.method === 'PATCH').length, (n) => n === 1);
    g.child.kill('SIGTERM');
    const answered = await inFlight;
    expect(await g.exited).toBe(0);
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ name: 'Drained' });
    // Two workers and the primary each say they stopped.
    expect(g.stdout.filter((line) => line.includes('"message":"stopped"'))).toHaveLength(3);
  });

  it('a worker that dies is replaced, and the restart is logged and counted', async () => {
    gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, WORKERS: '2' });
    const g = gateway;
    const before = await workersOf(g);
    const victim = before.by_worker[0]?.pid;
    expect(victim).toBeDefined();
    process.kill(victim as number, 'SIGKILL');
    const after = await eventually(
      () => workersOf(g),
      (w) => w.listening === 2 && w.restarts === 1 && !w.by_worker.some((x) => x.pid === victim),
    );
    expect(after).toMatchObject({ listening: 2, restarts: 1 });
    expect(after.by_worker.map((w) => w.pid)).not.toContain(victim);
    const restartLine = g.stdout.find((line) => line.includes('worker exited; starting another'));
    expect(JSON.parse(restartLine ?? '{}')).toMatchObject({ level: 'warn', worker_pid: victim, signal: 'SIGKILL' });
    for (let i = 0; i < 4; i++) expect((await send(g.port, 'GET', '/api/management/user/user2%40example.com')).status).toBe(200);
    const metrics = (await send(g.adminPort, 'GET', '/metrics')).body;
    expect(metricValue(metrics, 'legacy_gateway_worker_restarts_total')).toBe(1);
  });
});
