import http from 'node:http';
import { V4Simulator } from '../../src/v4-simulator';
import { spawnGateway } from './process-harness';

const KEY = 'shutdown-key-0001';

function send(port: number, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent: false, headers: body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('graceful shutdown of the real process on SIGTERM', () => {
  let sim: V4Simulator;
  let url: string;
  beforeAll(async () => {
    sim = new V4Simulator({ apiKeys: [KEY] });
    url = await sim.start(0);
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('stops accepting, reports not-ready, answers the call in flight, then exits 0', async () => {
    const id = sim.createUser(KEY, { name: 'Jane', contact_details: { email: 'jane@example.com' } }).id;
    const gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, SHUTDOWN_GRACE_MS: '5000' });
    sim.addFault({ kind: 'delay', delayMs: 1000, method: 'PATCH', times: 1 });
    const inFlight = send(gateway.port, 'PUT', '/api/management/user/jane%40example.com', '{"name":"Drained"}');
    await new Promise((resolve) => setTimeout(resolve, 400));
    gateway.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    const ready = await send(gateway.adminPort, 'GET', '/readyz');
    await expect(send(gateway.port, 'GET', '/api/management/user')).rejects.toThrow(/ECONNREFUSED/);
    const answered = await inFlight;
    expect(await gateway.exited).toBe(0);
    expect(ready.status).toBe(503);
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body)).toMatchObject({ id, name: 'Drained' });
    expect(sim.getUser(KEY, id)?.name).toBe('Drained');
    expect(gateway.stdout.some((line) => line.includes('"stopped"'))).toBe(true);
  });

  it('closes what is still open when the grace period is over, and still exits 0', async () => {
    sim.createUser(KEY, { name: 'Slow', contact_details: { email: 'slow@example.com' } });
    const gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: KEY, SHUTDOWN_GRACE_MS: '300', UPSTREAM_TIMEOUT_MS: '20000' });
    sim.addFault({ kind: 'hang', method: 'PATCH', times: 1 });
    const stuck = send(gateway.port, 'PUT', '/api/management/user/slow%40example.com', '{"name":"x"}').catch((err: Error) => err);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(String(await stuck)).toMatch(/socket hang up|ECONNRESET/);
    expect(gateway.stdout.some((line) => line.includes('grace period over'))).toBe(true);
  });
});
