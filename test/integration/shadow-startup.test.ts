import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const SERVER = join(__dirname, '../../dist/src/server.js');

describe('starting the real process with a shadow mode', () => {
  it.each(['v4-primary', 'legacy-primary'])('SHADOW_MODE=%s without LEGACY_BASE_URL: one line naming SHADOW_MODE, exit 1', (mode) => {
    const run = spawnSync(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', V4_BASE_URL: 'http://127.0.0.1:9', SHADOW_MODE: mode }, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^legacy-user-gateway: bad setting: SHADOW_MODE .*LEGACY_BASE_URL/);
    expect(run.stdout).toBe('');
  });
});
