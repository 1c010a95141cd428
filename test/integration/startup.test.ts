import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { V4Simulator } from '../../src/v4-simulator';
import { spawnGateway } from './process-harness';

const SERVER = join(__dirname, '../../dist/src/server.js');

/** `node dist/src/server.js` as `npm start` runs it, with only the given environment. */
function startAndExit(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 15_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('starting the real process', () => {
  it('without V4_BASE_URL: one line that names it and points at npm run demo, exit 1', () => {
    const run = startAndExit({});
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^legacy-user-gateway: bad setting: V4_BASE_URL is required.*npm run demo/);
  });

  it.each([
    [{ PORT: 'eighty' }, /^legacy-user-gateway: bad setting: PORT /],
    [{ ALLOW_CIDRS: '10.0.0.0/33' }, /^legacy-user-gateway: bad setting: ALLOW_CIDRS /],
    [{ VERIFY_CACHED_WRITES: 'perhaps' }, /^legacy-user-gateway: bad setting: VERIFY_CACHED_WRITES /],
    [{ V4_API_KEY_FILE: '/nonexistent/key' }, /^legacy-user-gateway: bad setting: V4_API_KEY_FILE /],
  ])('a bad setting %j stops the start with one line naming it, exit 1', (env, line) => {
    const run = startAndExit({ V4_BASE_URL: 'http://127.0.0.1:9', ...env });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(line);
    expect(run.stdout).toBe('');
  });

  it('WARM_UP=true fills the cache in the background after the start, and says so in the log', async () => {
    const sim = new V4Simulator({ apiKeys: ['startup-key-0001'] });
    const url = await sim.start(0);
    sim.seedUsers('startup-key-0001', 600);
    const gateway = await spawnGateway({ V4_BASE_URL: url, V4_API_KEY: 'startup-key-0001', WARM_UP: 'true' });
    try {
      const deadline = Date.now() + 10_000;
      while (!gateway.stdout.some((line) => line.includes('cache warm-up finished')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      const finished = JSON.parse(gateway.stdout.find((line) => line.includes('cache warm-up finished')) ?? '{}') as { pages?: number; users?: number; cached?: number };
      expect(finished).toMatchObject({ pages: 2, users: 600, cached: 600 });
      expect(sim.requests.filter((r) => r.url.startsWith('/api/user/management/v4/users?offset=')).map((r) => r.url)).toEqual([
        '/api/user/management/v4/users?offset=0&limit=500',
        '/api/user/management/v4/users?offset=500&limit=500',
      ]);
    } finally {
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      await sim.stop();
    }
  });
});
