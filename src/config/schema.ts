import { isIP } from 'node:net';
import { z } from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors';

/** A CIDR (`10.0.0.0/8`, `::1/128`) or a single address (taken as /32 or /128). */
function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  const address = slash === -1 ? value : value.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  if (slash === -1) return true;
  const prefixText = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return false;
  return Number(prefixText) <= (family === 4 ? 32 : 128);
}

const cidr = z.string().refine(isCidr, { message: 'must be a CIDR such as 10.0.0.0/8 or ::1/128' });

const httpUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  }, { message: 'must be an http:// or https:// URL without query or fragment' });

/** redis:// or rediss:// (TLS), with optional user, password and database number. */
const redisUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && url.search === '' && url.hash === '' && /^\/?\d*$/.test(url.pathname);
  } catch {
    return false;
  }
}, { message: 'must be a redis:// or rediss:// URL such as redis://redis:6379/0' });

const port = z.number().int().min(0).max(65535);

/** A dotted path of plain field names (`contact_details.email`). */
const fieldPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { message: 'must be a dotted field path' })
  .refine((path) => !path.split('.').some((part) => ['__proto__', 'constructor', 'prototype'].includes(part)), {
    message: 'must not name a prototype key',
  });

/** The codes a refused removed field may carry: the contract's 400s. */
const REMOVED_FIELD_CODES = Object.entries(ERROR_STATUS)
  .filter(([, status]) => status === 400)
  .map(([code]) => code as ErrorCode);

export const fieldRuleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]+$/, { message: 'must be a kebab-case id' }),
    description: z.string().min(1),
    legacy: fieldPath,
    /** null: the legacy field was removed in V4 and is rejected wherever it stands. */
    v4: fieldPath.nullable(),
    /** A removed field's error code (default SERVICE_PARAMETER_REMOVED). */
    code: z.enum(REMOVED_FIELD_CODES as [ErrorCode, ...ErrorCode[]]).optional(),
    /** A removed field's error message, as the client reads it. */
    message: z.string().min(1).optional(),
  })
  .refine((rule) => rule.v4 === null || (rule.code === undefined && rule.message === undefined), {
    message: 'code and message belong to removed fields (v4: null) only',
  });

export type FieldRuleConfig = z.infer<typeof fieldRuleSchema>;

const httpDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: 'must be a date, e.g. an HTTP-date such as "Wed, 31 Dec 2026 23:59:59 GMT"',
});

const instant = z.string().refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
  message: 'must be an ISO date-time such as 2026-12-10T09:00:00Z',
});

/** A planned switch-off of the legacy API for one client (or all), to test it before the Sunset date. */
export const brownoutSchema = z
  .strictObject({
    /** A credential fingerprint as the migration report shows it, or `*` for every client. */
    client: z.string().regex(/^(\*|[A-Za-z0-9_-]{16})$/, { message: 'must be a credential fingerprint (16 characters, as the migration report shows them) or *' }),
    from: instant,
    to: instant,
    /** Only these legacy routes; default: all of them. */
    routes: z.array(z.enum(['list-users', 'get-user', 'create-user', 'update-user', 'delete-user'])).min(1).optional(),
  })
  .refine((window) => Date.parse(window.from) < Date.parse(window.to), { message: 'from must be before to' });

export type BrownoutConfig = z.infer<typeof brownoutSchema>;

export const configSchema = z.strictObject({
  v4BaseUrl: httpUrl.nullable(),
  v4ApiKey: z.string().nullable(),
  v4ApiKeyFile: z.string().min(1).nullable(),
  host: z.string().min(1),
  port,
  adminHost: z.string().min(1),
  adminPort: port,
  allowCidrs: z.array(cidr),
  trustedProxies: z.array(cidr),
  legacyBaseUrl: httpUrl.nullable(),
  v4Passthrough: z.boolean(),
  upstreamTimeoutMs: z.number().int().min(1).max(600_000),
  upstreamMaxSockets: z.number().int().min(1).max(10_000),
  upstreamMaxResponseBytes: z.number().int().min(1024),
  bodyLimit: z.union([z.number().int().min(1), z.string().regex(/^\d+(b|kb|mb|gb)?$/i, { message: 'must be a size such as 1mb, 512kb or 1048576' })]),
  cacheMax: z.number().int().min(1).max(10_000_000),
  cacheTtlMs: z.number().int().min(1),
  verifyCachedWrites: z.boolean(),
  /** Fill the cache from the V4 index at start (in the background; serving starts at once). */
  warmUpOnStart: z.boolean(),
  /** How often /readyz's authenticated V4 probe runs when a key is configured; 0: no probe. */
  v4ProbeIntervalMs: z.number().int().min(0).max(3_600_000),
  deprecationDate: httpDate.nullable(),
  sunsetDate: httpDate.nullable(),
  logLevel: z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly']),
  logEmails: z.enum(['hash', 'omit', 'plain']),
  /** Key of the HMAC that hashes emails in logs; null: a random key per process. */
  logHashKey: z.string().min(16, { message: 'must be at least 16 characters' }).nullable(),
  shutdownGraceMs: z.number().int().min(0).max(600_000),
  /** Where the shared resolution cache and migration report live; null: in memory, per process. */
  redisUrl: redisUrl.nullable(),
  /** Deadline of one Redis command; past it the gateway counts Redis as down and goes on without it. */
  redisTimeoutMs: z.number().int().min(1).max(60_000),
  /** How often a replica checks a Redis it counts as down (and one it counts as up). */
  redisHealthIntervalMs: z.number().int().min(50).max(60_000),
  /** How long the lock of a cold lookup is held at most (other replicas wait for its answer). */
  redisLockMs: z.number().int().min(10).max(60_000),
  /** Prefix of every key and of the invalidation channel (several gateway fleets on one Redis). */
  redisKeyPrefix: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1 to 64 letters, digits, _ . or -' }),
  /** How often a replica adds its migration-report counts to Redis. */
  redisReportIntervalMs: z.number().int().min(50).max(3_600_000),
  /** How long the shared migration report keeps a client (or a replica) after its last call. */
  redisReportTtlMs: z.number().int().min(1000),
  /** Planned brownouts of the legacy API (410 Gone); none by default. */
  brownouts: z.array(brownoutSchema).max(1000),
  /** Processes serving PORT (node:cluster); 1: this process serves it alone. */
  workers: z.number().int().min(1).max(64),
  fieldRules: z.array(fieldRuleSchema).min(1),
  /** Length of one bucket of the migration page's charts (48 buckets: the default shows 24 h). */
  migrationBucketSeconds: z.number().int().min(1).max(86_400),
  /** Names for the migration page, by credential fingerprint (as the report shows it). */
  clientNames: z.record(
    z.string().regex(/^[A-Za-z0-9_-]{16}$/, { message: 'must be keyed by credential fingerprints (16 characters, as the migration report shows them)' }),
    z.string().min(1).max(200),
  ),
  /** Shadow comparison (docs/readme/shadow.md): which side answers the client; the other is the shadow. */
  shadowMode: z.enum(['off', 'v4-primary', 'legacy-primary']),
  shadowSampleRate: z.number().min(0).max(1),
  shadowTimeoutMs: z.number().int().min(1).max(600_000),
  shadowMaxConcurrency: z.number().int().min(1).max(10_000),
  shadowNoiseSamples: z.number().int().min(0).max(1_000_000),
  shadowIgnorePaths: z.array(fieldPath),
  shadowVerifyWrites: z.boolean(),
});

export type RawConfig = z.infer<typeof configSchema>;
