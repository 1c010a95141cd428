import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configSchema, type BrownoutConfig, type FieldRuleConfig, type RawConfig } from './schema';
import { envNameOf, SettingError, settingsFromEnv } from './env';

export { SettingError } from './env';

/** The validated, normalised, frozen settings every part of the gateway reads. */
export interface GatewayConfig {
  readonly v4BaseUrl: string | null;
  /** The key sent for callers without credentials (from V4_API_KEY or V4_API_KEY_FILE). */
  readonly v4ApiKey: string | null;
  readonly host: string;
  readonly port: number;
  readonly adminHost: string;
  readonly adminPort: number;
  readonly allowCidrs: readonly string[];
  readonly trustedProxies: readonly string[];
  readonly legacyBaseUrl: string | null;
  readonly v4Passthrough: boolean;
  readonly upstreamTimeoutMs: number;
  readonly upstreamMaxSockets: number;
  readonly upstreamMaxResponseBytes: number;
  readonly bodyLimitBytes: number;
  readonly cacheMax: number;
  readonly cacheTtlMs: number;
  readonly verifyCachedWrites: boolean;
  readonly warmUpOnStart: boolean;
  /** Interval of the readiness probe of V4 with the configured key; 0: no probe. */
  readonly v4ProbeIntervalMs: number;
  readonly deprecationDate: Date | null;
  readonly sunsetDate: Date | null;
  readonly logLevel: RawConfig['logLevel'];
  readonly logEmails: RawConfig['logEmails'];
  readonly logHashKey: string | null;
  readonly shutdownGraceMs: number;
  /** Null: everything in memory (the default). Holds a password, if any: never log it whole. */
  readonly redisUrl: string | null;
  readonly redisTimeoutMs: number;
  readonly redisHealthIntervalMs: number;
  readonly redisLockMs: number;
  readonly redisKeyPrefix: string;
  readonly redisReportIntervalMs: number;
  readonly redisReportTtlMs: number;
  /** Worker processes sharing PORT (1: no cluster). */
  readonly workers: number;
  /** Planned brownouts of the legacy API (410 Gone). */
  readonly brownouts: readonly BrownoutConfig[];
  readonly fieldRules: readonly FieldRuleConfig[];
  readonly migrationBucketSeconds: number;
  readonly clientNames: Readonly<Record<string, string>>;
  readonly shadowMode: RawConfig['shadowMode'];
  readonly shadowSampleRate: number;
  readonly shadowTimeoutMs: number;
  readonly shadowMaxConcurrency: number;
  readonly shadowNoiseSamples: number;
  /** Dotted field paths whose differences are noise. */
  readonly shadowIgnorePaths: readonly string[];
  readonly shadowVerifyWrites: boolean;
}

/** The folder holding config/default.json, wherever the code runs from (src/ under jest, dist/src/ built). */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'config', 'default.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('config/default.json not found above ' + __dirname);
    dir = parent;
  }
  return dir;
}

export function defaultConfigPath(): string {
  return join(packageRoot(), 'config', 'default.json');
}

function readJsonObject(path: string, setting: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingError(setting, `names a file that cannot be read: ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SettingError(setting, `is not valid JSON: ${path} (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SettingError(setting, `must hold a JSON object: ${path}`);
  }
  return parsed as Record<string, unknown>;
}

export function parseByteSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(value);
  if (match === null) throw new SettingError('BODY_LIMIT', `must be a size such as 1mb (got ${JSON.stringify(value)})`);
  const units: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
  return Number(match[1]) * (units[(match[2] ?? 'b').toLowerCase()] ?? 1);
}

function readApiKey(raw: RawConfig): string | null {
  if (raw.v4ApiKey !== null && raw.v4ApiKeyFile !== null) {
    throw new SettingError('V4_API_KEY_FILE', 'and V4_API_KEY are both set: set only one');
  }
  let key = raw.v4ApiKey;
  if (raw.v4ApiKeyFile !== null) {
    try {
      key = readFileSync(raw.v4ApiKeyFile, 'utf8').trim();
    } catch (err) {
      throw new SettingError('V4_API_KEY_FILE', `names a file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (key === '') throw new SettingError('V4_API_KEY_FILE', 'names an empty file');
  }
  // The key becomes a header value: anything outside visible ASCII would corrupt or split it.
  if (key !== null && !/^[\x21-\x7e]+$/.test(key)) {
    throw new SettingError(raw.v4ApiKeyFile !== null ? 'V4_API_KEY_FILE' : 'V4_API_KEY', 'must be printable ASCII without spaces');
  }
  return key;
}

function settingName(path: PropertyKey[]): string {
  const key = String(path[0] ?? '');
  const env = envNameOf(key);
  const dotted = path.map(String).join('.');
  return env !== undefined && path.length <= 2 ? env : dotted;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Settings laid over everything else (tests, the demo). */
  overrides?: Partial<RawConfig>;
}

/**
 * config/default.json, overlaid by the JSON file in CONFIG_FILE, overlaid by the environment,
 * overlaid by `overrides`; validated once. Throws SettingError naming the setting and why.
 */
export function loadConfig(options: LoadOptions = {}): GatewayConfig {
  const env = options.env ?? {};
  const merged: Record<string, unknown> = { ...readJsonObject(defaultConfigPath(), 'config/default.json') };
  const configFile = env.CONFIG_FILE?.trim();
  if (configFile) Object.assign(merged, readJsonObject(resolve(configFile), 'CONFIG_FILE'));
  Object.assign(merged, settingsFromEnv(env), options.overrides ?? {});

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0];
    if (issue === undefined) throw new SettingError('config', 'is invalid');
    if (issue.code === 'unrecognized_keys') {
      throw new SettingError(configFile ? 'CONFIG_FILE' : 'config/default.json', `has an unknown setting ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`);
    }
    throw new SettingError(settingName(issue.path), issue.message);
  }
  const raw = result.data;
  if (raw.adminPort === raw.port && raw.port !== 0) {
    throw new SettingError('ADMIN_PORT', `must differ from PORT (both are ${raw.port}): admin endpoints are never served on PORT`);
  }
  if (raw.shadowMode !== 'off' && raw.legacyBaseUrl === null) {
    throw new SettingError('SHADOW_MODE', `is ${raw.shadowMode}, which needs LEGACY_BASE_URL: set it to the legacy backend, or set SHADOW_MODE=off`);
  }
  const config: GatewayConfig = {
    v4BaseUrl: raw.v4BaseUrl === null ? null : raw.v4BaseUrl.replace(/\/+$/, ''),
    v4ApiKey: readApiKey(raw),
    host: raw.host,
    port: raw.port,
    adminHost: raw.adminHost,
    adminPort: raw.adminPort,
    allowCidrs: Object.freeze([...raw.allowCidrs]),
    trustedProxies: Object.freeze([...raw.trustedProxies]),
    legacyBaseUrl: raw.legacyBaseUrl === null ? null : raw.legacyBaseUrl.replace(/\/+$/, ''),
    v4Passthrough: raw.v4Passthrough,
    upstreamTimeoutMs: raw.upstreamTimeoutMs,
    upstreamMaxSockets: raw.upstreamMaxSockets,
    upstreamMaxResponseBytes: raw.upstreamMaxResponseBytes,
    bodyLimitBytes: parseByteSize(raw.bodyLimit),
    cacheMax: raw.cacheMax,
    cacheTtlMs: raw.cacheTtlMs,
    verifyCachedWrites: raw.verifyCachedWrites,
    warmUpOnStart: raw.warmUpOnStart,
    v4ProbeIntervalMs: raw.v4ProbeIntervalMs,
    deprecationDate: raw.deprecationDate === null ? null : new Date(raw.deprecationDate),
    sunsetDate: raw.sunsetDate === null ? null : new Date(raw.sunsetDate),
    logLevel: raw.logLevel,
    logEmails: raw.logEmails,
    logHashKey: raw.logHashKey,
    shutdownGraceMs: raw.shutdownGraceMs,
    redisUrl: raw.redisUrl,
    redisTimeoutMs: raw.redisTimeoutMs,
    redisHealthIntervalMs: raw.redisHealthIntervalMs,
    redisLockMs: raw.redisLockMs,
    redisKeyPrefix: raw.redisKeyPrefix,
    redisReportIntervalMs: raw.redisReportIntervalMs,
    redisReportTtlMs: raw.redisReportTtlMs,
    workers: raw.workers,
    brownouts: Object.freeze(raw.brownouts.map((window) => Object.freeze({ ...window }))),
    fieldRules: Object.freeze(raw.fieldRules.map((rule) => Object.freeze({ ...rule }))),
    migrationBucketSeconds: raw.migrationBucketSeconds,
    clientNames: Object.freeze({ ...raw.clientNames }),
    shadowMode: raw.shadowMode,
    shadowSampleRate: raw.shadowSampleRate,
    shadowTimeoutMs: raw.shadowTimeoutMs,
    shadowMaxConcurrency: raw.shadowMaxConcurrency,
    shadowNoiseSamples: raw.shadowNoiseSamples,
    shadowIgnorePaths: Object.freeze([...raw.shadowIgnorePaths]),
    shadowVerifyWrites: raw.shadowVerifyWrites,
  };
  return Object.freeze(config);
}

/** For `npm start`: V4_BASE_URL is required there (tests and the demo pass it in). */
export function requireV4BaseUrl(config: GatewayConfig): string {
  if (config.v4BaseUrl === null) {
    throw new SettingError('V4_BASE_URL', 'is required: set it to where V4 is (e.g. http://127.0.0.1:4000), or run `npm run demo` to try the gateway beside the bundled V4 simulator');
  }
  return config.v4BaseUrl;
}
