import type { RawConfig } from './schema';

/** `word`: a keyword, compared in lower case (LOG_LEVEL=INFO works). */
type Kind = 'string' | 'word' | 'integer' | 'number' | 'boolean' | 'list' | 'json';

/**
 * The environment variables of the contract ("Starting it") and the few the gateway adds, each
 * with the config key it overrides. The names are what every deployment relies on: never rename.
 */
export const ENV_SETTINGS: ReadonlyArray<{ env: string; key: keyof RawConfig; kind: Kind }> = [
  { env: 'V4_BASE_URL', key: 'v4BaseUrl', kind: 'string' },
  { env: 'V4_API_KEY', key: 'v4ApiKey', kind: 'string' },
  { env: 'V4_API_KEY_FILE', key: 'v4ApiKeyFile', kind: 'string' },
  { env: 'HOST', key: 'host', kind: 'string' },
  { env: 'PORT', key: 'port', kind: 'integer' },
  { env: 'ADMIN_HOST', key: 'adminHost', kind: 'string' },
  { env: 'ADMIN_PORT', key: 'adminPort', kind: 'integer' },
  { env: 'ALLOW_CIDRS', key: 'allowCidrs', kind: 'list' },
  { env: 'TRUSTED_PROXIES', key: 'trustedProxies', kind: 'list' },
  { env: 'LEGACY_BASE_URL', key: 'legacyBaseUrl', kind: 'string' },
  { env: 'V4_PASSTHROUGH', key: 'v4Passthrough', kind: 'boolean' },
  { env: 'UPSTREAM_TIMEOUT_MS', key: 'upstreamTimeoutMs', kind: 'integer' },
  { env: 'UPSTREAM_MAX_SOCKETS', key: 'upstreamMaxSockets', kind: 'integer' },
  { env: 'UPSTREAM_MAX_RESPONSE_BYTES', key: 'upstreamMaxResponseBytes', kind: 'integer' },
  { env: 'BODY_LIMIT', key: 'bodyLimit', kind: 'string' },
  { env: 'CACHE_MAX', key: 'cacheMax', kind: 'integer' },
  { env: 'CACHE_TTL_MS', key: 'cacheTtlMs', kind: 'integer' },
  { env: 'VERIFY_CACHED_WRITES', key: 'verifyCachedWrites', kind: 'boolean' },
  { env: 'WARM_UP', key: 'warmUpOnStart', kind: 'boolean' },
  { env: 'V4_PROBE_INTERVAL_MS', key: 'v4ProbeIntervalMs', kind: 'integer' },
  { env: 'DEPRECATION_DATE', key: 'deprecationDate', kind: 'string' },
  { env: 'SUNSET_DATE', key: 'sunsetDate', kind: 'string' },
  { env: 'LOG_LEVEL', key: 'logLevel', kind: 'word' },
  { env: 'LOG_EMAILS', key: 'logEmails', kind: 'word' },
  { env: 'LOG_HASH_KEY', key: 'logHashKey', kind: 'string' },
  { env: 'SHUTDOWN_GRACE_MS', key: 'shutdownGraceMs', kind: 'integer' },
  { env: 'MIGRATION_BUCKET_SECONDS', key: 'migrationBucketSeconds', kind: 'integer' },
  { env: 'SHADOW_MODE', key: 'shadowMode', kind: 'word' },
  { env: 'SHADOW_SAMPLE_RATE', key: 'shadowSampleRate', kind: 'number' },
  { env: 'SHADOW_TIMEOUT_MS', key: 'shadowTimeoutMs', kind: 'integer' },
  { env: 'SHADOW_MAX_CONCURRENCY', key: 'shadowMaxConcurrency', kind: 'integer' },
  { env: 'SHADOW_NOISE_SAMPLES', key: 'shadowNoiseSamples', kind: 'integer' },
  { env: 'SHADOW_IGNORE_PATHS', key: 'shadowIgnorePaths', kind: 'list' },
  { env: 'SHADOW_VERIFY_WRITES', key: 'shadowVerifyWrites', kind: 'boolean' },
  { env: 'REDIS_URL', key: 'redisUrl', kind: 'string' },
  { env: 'REDIS_TIMEOUT_MS', key: 'redisTimeoutMs', kind: 'integer' },
  { env: 'REDIS_HEALTH_INTERVAL_MS', key: 'redisHealthIntervalMs', kind: 'integer' },
  { env: 'REDIS_LOCK_MS', key: 'redisLockMs', kind: 'integer' },
  { env: 'REDIS_KEY_PREFIX', key: 'redisKeyPrefix', kind: 'string' },
  { env: 'REDIS_REPORT_INTERVAL_MS', key: 'redisReportIntervalMs', kind: 'integer' },
  { env: 'REDIS_REPORT_TTL_MS', key: 'redisReportTtlMs', kind: 'integer' },
  { env: 'WORKERS', key: 'workers', kind: 'integer' },
  { env: 'BROWNOUTS', key: 'brownouts', kind: 'json' },
];

export class SettingError extends Error {
  constructor(readonly setting: string, readonly reason: string) {
    super(`${setting} ${reason}`);
    this.name = 'SettingError';
  }
}

function parseValue(env: string, kind: Kind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'word':
      return text.toLowerCase();
    case 'integer':
      if (!/^\d{1,15}$/.test(text)) throw new SettingError(env, `must be a whole number (got ${JSON.stringify(text)})`);
      return Number(text);
    case 'number':
      if (!/^\d{1,15}(\.\d{1,15})?$/.test(text)) throw new SettingError(env, `must be a number such as 0.25 (got ${JSON.stringify(text)})`);
      return Number(text);
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === '1' || lower === 'yes') return true;
      if (lower === 'false' || lower === '0' || lower === 'no') return false;
      throw new SettingError(env, `must be true or false (got ${JSON.stringify(text)})`);
    }
    case 'list':
      return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
    case 'json':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        throw new SettingError(env, 'must be JSON (see the README for its shape)');
      }
  }
}

/** The settings the environment overrides, as config keys; empty variables count as unset. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): Partial<Record<keyof RawConfig, unknown>> {
  const overrides: Partial<Record<keyof RawConfig, unknown>> = {};
  for (const { env: name, key, kind } of ENV_SETTINGS) {
    const text = env[name]?.trim();
    if (text === undefined || text === '') continue;
    overrides[key] = parseValue(name, kind, text);
  }
  return overrides;
}

export function envNameOf(key: string): string | undefined {
  return ENV_SETTINGS.find((setting) => setting.key === key)?.env;
}
