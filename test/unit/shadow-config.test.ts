import { loadConfig, SettingError } from '../../src/config/load';
import { thrownBy } from './helpers';

function settingErrorOf(fn: () => unknown): SettingError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(SettingError);
  return err as SettingError;
}

const LEGACY = { LEGACY_BASE_URL: 'http://127.0.0.1:4100' };

describe('SHADOW_* settings', () => {
  it('defaults: off, every call sampled, 5 s deadline, 64 in flight, no noise samples, nothing ignored, writes not verified', () => {
    const config = loadConfig({ env: {} });
    expect({
      mode: config.shadowMode,
      rate: config.shadowSampleRate,
      timeout: config.shadowTimeoutMs,
      cap: config.shadowMaxConcurrency,
      samples: config.shadowNoiseSamples,
      ignore: config.shadowIgnorePaths,
      verify: config.shadowVerifyWrites,
    }).toEqual({ mode: 'off', rate: 1, timeout: 5000, cap: 64, samples: 0, ignore: [], verify: false });
  });

  it('are read from the environment', () => {
    const config = loadConfig({
      env: {
        ...LEGACY,
        SHADOW_MODE: 'Legacy-Primary',
        SHADOW_SAMPLE_RATE: '0.25',
        SHADOW_TIMEOUT_MS: '750',
        SHADOW_MAX_CONCURRENCY: '8',
        SHADOW_NOISE_SAMPLES: '3',
        SHADOW_IGNORE_PATHS: 'registration_information.registration_time, default_user_profile',
        SHADOW_VERIFY_WRITES: 'true',
      },
    });
    expect(config).toMatchObject({
      shadowMode: 'legacy-primary',
      shadowSampleRate: 0.25,
      shadowTimeoutMs: 750,
      shadowMaxConcurrency: 8,
      shadowNoiseSamples: 3,
      shadowIgnorePaths: ['registration_information.registration_time', 'default_user_profile'],
      shadowVerifyWrites: true,
    });
    expect(Object.isFrozen(config.shadowIgnorePaths)).toBe(true);
  });

  it('a shadow mode without LEGACY_BASE_URL is one line naming SHADOW_MODE', () => {
    for (const mode of ['v4-primary', 'legacy-primary']) {
      const err = settingErrorOf(() => loadConfig({ env: { SHADOW_MODE: mode } }));
      expect(err.setting).toBe('SHADOW_MODE');
      expect(err.message).toMatch(/LEGACY_BASE_URL/);
      expect(err.message).not.toContain('\n');
    }
    expect(loadConfig({ env: { SHADOW_MODE: 'off' } }).shadowMode).toBe('off');
  });

  it.each<[string, Record<string, string>]>([
    ['SHADOW_MODE', { SHADOW_MODE: 'both' }],
    ['SHADOW_SAMPLE_RATE', { SHADOW_SAMPLE_RATE: '1.5' }],
    ['SHADOW_SAMPLE_RATE', { SHADOW_SAMPLE_RATE: '-0.1' }],
    ['SHADOW_SAMPLE_RATE', { SHADOW_SAMPLE_RATE: 'half' }],
    ['SHADOW_SAMPLE_RATE', { SHADOW_SAMPLE_RATE: '50%' }],
    ['SHADOW_TIMEOUT_MS', { SHADOW_TIMEOUT_MS: '0' }],
    ['SHADOW_MAX_CONCURRENCY', { SHADOW_MAX_CONCURRENCY: '0' }],
    ['SHADOW_NOISE_SAMPLES', { SHADOW_NOISE_SAMPLES: 'some' }],
    ['SHADOW_IGNORE_PATHS', { SHADOW_IGNORE_PATHS: 'a..b' }],
    ['SHADOW_IGNORE_PATHS', { SHADOW_IGNORE_PATHS: 'ok,__proto__.x' }],
    ['SHADOW_VERIFY_WRITES', { SHADOW_VERIFY_WRITES: 'sometimes' }],
  ])('%s: %j is a SettingError naming it', (name, env) => {
    const err = settingErrorOf(() => loadConfig({ env: { ...LEGACY, ...env } }));
    expect(err.setting).toBe(name);
    expect(err.message.startsWith(`${name} `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });
});
