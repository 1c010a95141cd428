import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_SETTINGS, SettingError as EnvSettingError, settingsFromEnv } from '../../src/config/env';
import { defaultConfigPath, loadConfig, parseByteSize, requireV4BaseUrl, SettingError, type GatewayConfig } from '../../src/config/load';
import { thrownBy } from './helpers';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-config-test-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileCount = 0;
function tempFile(content: string): string {
  fileCount += 1;
  const path = join(dir, `file-${fileCount}`);
  writeFileSync(path, content, 'utf8');
  return path;
}

function settingErrorOf(fn: () => unknown): SettingError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(SettingError);
  return err as SettingError;
}

describe('loadConfig defaults (the contract table "Starting it")', () => {
  let config: GatewayConfig;
  beforeAll(() => {
    config = loadConfig({ env: {} });
  });

  it.each<[string, keyof GatewayConfig, unknown]>([
    ['V4_BASE_URL', 'v4BaseUrl', null],
    ['V4_API_KEY / V4_API_KEY_FILE', 'v4ApiKey', null],
    ['HOST', 'host', '0.0.0.0'],
    ['PORT', 'port', 8080],
    ['ADMIN_PORT', 'adminPort', 9090],
    ['ALLOW_CIDRS', 'allowCidrs', ['127.0.0.1/32', '::1/128']],
    ['TRUSTED_PROXIES', 'trustedProxies', []],
    ['LEGACY_BASE_URL', 'legacyBaseUrl', null],
    ['UPSTREAM_TIMEOUT_MS', 'upstreamTimeoutMs', 10000],
    ['BODY_LIMIT (1mb)', 'bodyLimitBytes', 1048576],
    ['CACHE_MAX', 'cacheMax', 100000],
    ['CACHE_TTL_MS', 'cacheTtlMs', 300000],
    ['VERIFY_CACHED_WRITES', 'verifyCachedWrites', true],
    ['SUNSET_DATE', 'sunsetDate', null],
    ['LOG_LEVEL', 'logLevel', 'info'],
  ])('%s defaults to the contract value', (_name, key, value) => {
    expect(config[key]).toEqual(value);
  });

  it('does not read process.env unless it is passed in', () => {
    const saved = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig({ env: {} }).port).toBe(8080);
      expect(loadConfig().port).toBe(8080);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.allowCidrs)).toBe(true);
    expect(Object.isFrozen(config.fieldRules)).toBe(true);
  });

  it('reads config/default.json of this package', () => {
    expect(defaultConfigPath()).toMatch(/config[\\/]default\.json$/);
  });

  it('treats empty and blank variables as unset', () => {
    const blank = loadConfig({ env: { PORT: '', ADMIN_PORT: '   ', ALLOW_CIDRS: '', LOG_LEVEL: ' ', V4_API_KEY: '' } });
    expect(blank.port).toBe(8080);
    expect(blank.adminPort).toBe(9090);
    expect(blank.allowCidrs).toEqual(['127.0.0.1/32', '::1/128']);
    expect(blank.logLevel).toBe('info');
    expect(blank.v4ApiKey).toBeNull();
  });
});

describe('loadConfig environment overrides', () => {
  it.each<[Record<string, string>, keyof GatewayConfig, unknown]>([
    [{ PORT: '3000' }, 'port', 3000],
    [{ PORT: ' 3000 ' }, 'port', 3000],
    [{ ADMIN_PORT: '3001' }, 'adminPort', 3001],
    [{ HOST: '127.0.0.1' }, 'host', '127.0.0.1'],
    [{ ALLOW_CIDRS: '10.0.0.0/8, 192.168.1.5 ,,::1/128' }, 'allowCidrs', ['10.0.0.0/8', '192.168.1.5', '::1/128']],
    [{ TRUSTED_PROXIES: '10.1.0.0/16' }, 'trustedProxies', ['10.1.0.0/16']],
    [{ V4_BASE_URL: 'http://127.0.0.1:4000' }, 'v4BaseUrl', 'http://127.0.0.1:4000'],
    [{ V4_BASE_URL: 'https://v4.example.com/base//' }, 'v4BaseUrl', 'https://v4.example.com/base'],
    [{ LEGACY_BASE_URL: 'http://legacy.internal:8000/' }, 'legacyBaseUrl', 'http://legacy.internal:8000'],
    [{ V4_API_KEY: 'k1' }, 'v4ApiKey', 'k1'],
    [{ UPSTREAM_TIMEOUT_MS: '2500' }, 'upstreamTimeoutMs', 2500],
    [{ BODY_LIMIT: '512kb' }, 'bodyLimitBytes', 524288],
    [{ BODY_LIMIT: '2MB' }, 'bodyLimitBytes', 2097152],
    [{ BODY_LIMIT: '2048' }, 'bodyLimitBytes', 2048],
    [{ BODY_LIMIT: '100b' }, 'bodyLimitBytes', 100],
    [{ CACHE_MAX: '10' }, 'cacheMax', 10],
    [{ CACHE_TTL_MS: '1000' }, 'cacheTtlMs', 1000],
    [{ VERIFY_CACHED_WRITES: 'false' }, 'verifyCachedWrites', false],
    [{ VERIFY_CACHED_WRITES: 'FALSE' }, 'verifyCachedWrites', false],
    [{ VERIFY_CACHED_WRITES: '0' }, 'verifyCachedWrites', false],
    [{ VERIFY_CACHED_WRITES: 'no' }, 'verifyCachedWrites', false],
    [{ VERIFY_CACHED_WRITES: 'yes' }, 'verifyCachedWrites', true],
    [{ VERIFY_CACHED_WRITES: '1' }, 'verifyCachedWrites', true],
    [{ LOG_LEVEL: 'debug' }, 'logLevel', 'debug'],
    [{ SUNSET_DATE: 'Wed, 31 Dec 2026 23:59:59 GMT' }, 'sunsetDate', new Date(Date.UTC(2026, 11, 31, 23, 59, 59))],
    [{ PORT: '0', ADMIN_PORT: '0' }, 'port', 0],
  ])('%j sets %s', (env, key, value) => {
    expect(loadConfig({ env })[key]).toEqual(value);
  });

  it('lets overrides beat the environment', () => {
    expect(loadConfig({ env: { PORT: '3000' }, overrides: { port: 3500 } }).port).toBe(3500);
  });

  it('names every contract variable in ENV_SETTINGS', () => {
    const names = ENV_SETTINGS.map((setting) => setting.env);
    for (const name of [
      'V4_BASE_URL', 'V4_API_KEY', 'V4_API_KEY_FILE', 'HOST', 'PORT', 'ADMIN_PORT', 'ALLOW_CIDRS', 'TRUSTED_PROXIES',
      'LEGACY_BASE_URL', 'UPSTREAM_TIMEOUT_MS', 'BODY_LIMIT', 'CACHE_MAX', 'CACHE_TTL_MS', 'VERIFY_CACHED_WRITES',
      'SUNSET_DATE', 'LOG_LEVEL',
    ]) {
      expect(names).toContain(name);
    }
  });

  it('settingsFromEnv ignores unknown variables', () => {
    expect(settingsFromEnv({ PATH: '/bin', port: '1', PORT: '2' })).toEqual({ port: 2 });
  });
});

describe('loadConfig bad values → SettingError naming the variable', () => {
  it.each<[string, Record<string, string>]>([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '-1' }],
    ['PORT', { PORT: '80.5' }],
    ['ADMIN_PORT', { ADMIN_PORT: '65536' }],
    ['ALLOW_CIDRS', { ALLOW_CIDRS: 'bogus' }],
    ['ALLOW_CIDRS', { ALLOW_CIDRS: '10.0.0.1,bogus' }],
    ['ALLOW_CIDRS', { ALLOW_CIDRS: '10.0.0.0/33' }],
    ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '::1/129' }],
    ['VERIFY_CACHED_WRITES', { VERIFY_CACHED_WRITES: 'maybe' }],
    ['BODY_LIMIT', { BODY_LIMIT: 'lots' }],
    ['BODY_LIMIT', { BODY_LIMIT: '1.5mb' }],
    ['SUNSET_DATE', { SUNSET_DATE: 'notadate' }],
    ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
    ['V4_BASE_URL', { V4_BASE_URL: 'ftp://x' }],
    ['V4_BASE_URL', { V4_BASE_URL: 'not a url' }],
    ['V4_BASE_URL', { V4_BASE_URL: 'http://v4.example.com/?a=1' }],
    ['LEGACY_BASE_URL', { LEGACY_BASE_URL: 'file:///etc/passwd' }],
    ['UPSTREAM_TIMEOUT_MS', { UPSTREAM_TIMEOUT_MS: '0' }],
    ['UPSTREAM_TIMEOUT_MS', { UPSTREAM_TIMEOUT_MS: '-5' }],
    ['CACHE_MAX', { CACHE_MAX: '0' }],
    ['CACHE_TTL_MS', { CACHE_TTL_MS: 'soon' }],
    ['ADMIN_PORT', { PORT: '7000', ADMIN_PORT: '7000' }],
    ['ADMIN_PORT', { PORT: '9090' }],
    ['ADMIN_PORT', { ADMIN_PORT: '8080' }],
    ['V4_API_KEY', { V4_API_KEY: 'has space' }],
  ])('%s: %j', (name, env) => {
    const err = settingErrorOf(() => loadConfig({ env }));
    expect(err.setting).toBe(name);
    expect(err.message.startsWith(`${name} `)).toBe(true);
    expect(err.message).not.toContain('\n');
    expect(err.reason.length).toBeGreaterThan(0);
  });

  it('the SettingError of load.ts is the one of env.ts', () => {
    expect(SettingError).toBe(EnvSettingError);
  });

  it('does not put a bad key into the message', () => {
    const err = settingErrorOf(() => loadConfig({ env: { V4_API_KEY: 'sekrit value' } }));
    expect(err.message).not.toContain('sekrit');
  });
});

describe('CONFIG_FILE', () => {
  it('is laid over config/default.json', () => {
    const file = tempFile(JSON.stringify({ port: 7001, cacheMax: 42, logLevel: 'warn', allowCidrs: ['10.0.0.0/8'] }));
    const config = loadConfig({ env: { CONFIG_FILE: file } });
    expect(config.port).toBe(7001);
    expect(config.cacheMax).toBe(42);
    expect(config.logLevel).toBe('warn');
    expect(config.allowCidrs).toEqual(['10.0.0.0/8']);
    // untouched settings keep their defaults
    expect(config.adminPort).toBe(9090);
    expect(config.cacheTtlMs).toBe(300000);
    expect(config.fieldRules).toHaveLength(3);
  });

  it('is beaten by the environment', () => {
    const file = tempFile(JSON.stringify({ port: 7001, logLevel: 'warn' }));
    const config = loadConfig({ env: { CONFIG_FILE: file, PORT: '7002' } });
    expect(config.port).toBe(7002);
    expect(config.logLevel).toBe('warn');
  });

  it('can replace the field rule table', () => {
    const file = tempFile(JSON.stringify({ fieldRules: [{ id: 'only', description: 'd', legacy: 'a', v4: 'b' }] }));
    expect(loadConfig({ env: { CONFIG_FILE: file } }).fieldRules).toEqual([{ id: 'only', description: 'd', legacy: 'a', v4: 'b' }]);
  });

  it.each<[string, () => string, RegExp]>([
    ['a missing file', () => join(dir, 'does-not-exist.json'), /cannot be read.*ENOENT/],
    ['broken JSON', () => tempFile('{"port": '), /is not valid JSON/],
    ['an array', () => tempFile('[1, 2]'), /must hold a JSON object/],
    ['null', () => tempFile('null'), /must hold a JSON object/],
  ])('%s → SettingError CONFIG_FILE', (_what, makePath, reason) => {
    const err = settingErrorOf(() => loadConfig({ env: { CONFIG_FILE: makePath() } }));
    expect(err.setting).toBe('CONFIG_FILE');
    expect(err.message).toMatch(/^CONFIG_FILE /);
    expect(err.reason).toMatch(reason);
  });

  it('a bad value in the file names the setting', () => {
    const err = settingErrorOf(() => loadConfig({ env: { CONFIG_FILE: tempFile(JSON.stringify({ port: 'x' })) } }));
    expect(err.setting).toBe('PORT');
  });

  it('a bad field rule in the file names its path', () => {
    const file = tempFile(JSON.stringify({ fieldRules: [{ id: 'x', description: 'd', legacy: '__proto__', v4: 'b' }] }));
    const err = settingErrorOf(() => loadConfig({ env: { CONFIG_FILE: file } }));
    expect(err.setting).toBe('fieldRules.0.legacy');
  });

  // Was a bug (fixed): an unknown key in CONFIG_FILE (a typo such as "porrt") gives a SettingError whose
  // `setting` is the empty string, so the one start-up line reads ` Unrecognized key: "porrt" (porrt)`,
  // starting with a space and naming neither CONFIG_FILE nor any setting (load.ts settingName([])
  // for zod's unrecognized_keys issue, whose path is []). Expected e.g. `CONFIG_FILE has an unknown
  // setting "porrt"`.
  it('an unknown key in the file names CONFIG_FILE', () => {
    const err = settingErrorOf(() => loadConfig({ env: { CONFIG_FILE: tempFile(JSON.stringify({ porrt: 1 })) } }));
    expect(err.message).toContain('porrt');
    expect(err.setting).toBe('CONFIG_FILE');
    expect(err.message).toMatch(/^CONFIG_FILE /);
  });
});

describe('V4_API_KEY_FILE', () => {
  it('is read and trimmed', () => {
    const file = tempFile('  s3cret-key_value\n\n');
    expect(loadConfig({ env: { V4_API_KEY_FILE: file } }).v4ApiKey).toBe('s3cret-key_value');
  });

  it('can come from CONFIG_FILE', () => {
    const keyFile = tempFile('from-file\n');
    const configFile = tempFile(JSON.stringify({ v4ApiKeyFile: keyFile }));
    expect(loadConfig({ env: { CONFIG_FILE: configFile } }).v4ApiKey).toBe('from-file');
  });

  it('set together with V4_API_KEY → SettingError', () => {
    const file = tempFile('k2');
    const err = settingErrorOf(() => loadConfig({ env: { V4_API_KEY: 'k1', V4_API_KEY_FILE: file } }));
    expect(err.setting).toBe('V4_API_KEY_FILE');
    expect(err.message).toMatch(/^V4_API_KEY_FILE /);
    expect(err.message).toContain('V4_API_KEY');
    expect(err.message).not.toContain('k1');
  });

  it.each<[string, () => string, RegExp]>([
    ['a missing file', () => join(dir, 'no-key-here'), /cannot be read \(ENOENT\)/],
    ['an empty file', () => tempFile(''), /empty file/],
    ['a blank file', () => tempFile('  \n\t\n'), /empty file/],
    ['a key with an inner space', () => tempFile('my secret\n'), /printable ASCII/],
    ['a key over two lines', () => tempFile('line1\nline2\n'), /printable ASCII/],
  ])('%s → SettingError V4_API_KEY_FILE', (_what, makePath, reason) => {
    const err = settingErrorOf(() => loadConfig({ env: { V4_API_KEY_FILE: makePath() } }));
    expect(err.setting).toBe('V4_API_KEY_FILE');
    expect(err.reason).toMatch(reason);
    expect(err.message).not.toMatch(/secret|line1/);
  });
});

describe('requireV4BaseUrl', () => {
  it('without V4_BASE_URL → SettingError pointing at npm run demo', () => {
    const err = settingErrorOf(() => requireV4BaseUrl(loadConfig({ env: {} })));
    expect(err.setting).toBe('V4_BASE_URL');
    expect(err.message).toMatch(/^V4_BASE_URL /);
    expect(err.message).toContain('npm run demo');
  });

  it('returns the URL when set', () => {
    expect(requireV4BaseUrl(loadConfig({ env: { V4_BASE_URL: 'http://127.0.0.1:4000/' } }))).toBe('http://127.0.0.1:4000');
  });
});

describe('parseByteSize', () => {
  it.each<[string | number, number]>([
    ['1mb', 1048576],
    ['1MB', 1048576],
    ['1kb', 1024],
    ['1gb', 1073741824],
    ['10b', 10],
    ['10', 10],
    [4096, 4096],
  ])('%j → %d', (value, bytes) => {
    expect(parseByteSize(value)).toBe(bytes);
  });

  it.each(['lots', '1.5mb', '1 mb', '-1', 'mb', ''])('%j → SettingError BODY_LIMIT', (value) => {
    const err = settingErrorOf(() => parseByteSize(value));
    expect(err.setting).toBe('BODY_LIMIT');
  });
});

describe('Redis settings (issue 13)', () => {
  it('leaves Redis off by default, with the documented defaults for the rest', () => {
    const config = loadConfig({ env: {} });
    expect(config.redisUrl).toBeNull();
    expect(config.redisTimeoutMs).toBe(200);
    expect(config.redisHealthIntervalMs).toBe(1000);
    expect(config.redisLockMs).toBe(1000);
    expect(config.redisKeyPrefix).toBe('lug');
    expect(config.redisReportIntervalMs).toBe(5000);
    expect(config.redisReportTtlMs).toBe(7 * 24 * 3600 * 1000);
  });

  it.each<[Record<string, string>, keyof GatewayConfig, unknown]>([
    [{ REDIS_URL: 'redis://127.0.0.1:6379' }, 'redisUrl', 'redis://127.0.0.1:6379'],
    [{ REDIS_URL: 'rediss://user:pw@redis.internal:6380/2' }, 'redisUrl', 'rediss://user:pw@redis.internal:6380/2'],
    [{ REDIS_TIMEOUT_MS: '50' }, 'redisTimeoutMs', 50],
    [{ REDIS_HEALTH_INTERVAL_MS: '250' }, 'redisHealthIntervalMs', 250],
    [{ REDIS_LOCK_MS: '500' }, 'redisLockMs', 500],
    [{ REDIS_KEY_PREFIX: 'fleet-a' }, 'redisKeyPrefix', 'fleet-a'],
    [{ REDIS_REPORT_INTERVAL_MS: '200' }, 'redisReportIntervalMs', 200],
    [{ REDIS_REPORT_TTL_MS: '60000' }, 'redisReportTtlMs', 60000],
  ])('%j sets %s', (env, key, value) => {
    expect(loadConfig({ env })[key]).toEqual(value);
  });

  it.each<[string, Record<string, string>]>([
    ['REDIS_URL', { REDIS_URL: 'http://redis:6379' }],
    ['REDIS_URL', { REDIS_URL: 'redis://' }],
    ['REDIS_URL', { REDIS_URL: 'redis://redis:6379/db' }],
    ['REDIS_URL', { REDIS_URL: 'redis://redis:6379/?timeout=1' }],
    ['REDIS_TIMEOUT_MS', { REDIS_TIMEOUT_MS: '0' }],
    ['REDIS_HEALTH_INTERVAL_MS', { REDIS_HEALTH_INTERVAL_MS: '10' }],
    ['REDIS_LOCK_MS', { REDIS_LOCK_MS: 'long' }],
    ['REDIS_KEY_PREFIX', { REDIS_KEY_PREFIX: 'has space' }],
    ['REDIS_REPORT_TTL_MS', { REDIS_REPORT_TTL_MS: '10' }],
  ])('%s: %j is refused', (name, env) => {
    const err = settingErrorOf(() => loadConfig({ env }));
    expect(err.setting).toBe(name);
  });

  it('never echoes a Redis password in the error', () => {
    const err = settingErrorOf(() => loadConfig({ env: { REDIS_URL: 'http://user:sekrit@redis:6379' } }));
    expect(err.message).not.toContain('sekrit');
  });
});
