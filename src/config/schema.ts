import { isIP } from 'node:net';
import { z } from 'zod';

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

const port = z.number().int().min(0).max(65535);

/** A dotted path of plain field names (`contact_details.email`). */
const fieldPath = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, { message: 'must be a dotted field path' })
  .refine((path) => !path.split('.').some((part) => ['__proto__', 'constructor', 'prototype'].includes(part)), {
    message: 'must not name a prototype key',
  });

export const fieldRuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, { message: 'must be a kebab-case id' }),
  description: z.string().min(1),
  legacy: fieldPath,
  /** null: the legacy field was removed in V4 and is rejected wherever it stands. */
  v4: fieldPath.nullable(),
});

export type FieldRuleConfig = z.infer<typeof fieldRuleSchema>;

const httpDate = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: 'must be a date, e.g. an HTTP-date such as "Wed, 31 Dec 2026 23:59:59 GMT"',
});

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
  /** Processes serving PORT (node:cluster); 1: this process serves it alone. */
  workers: z.number().int().min(1).max(64),
  fieldRules: z.array(fieldRuleSchema).min(1),
});

export type RawConfig = z.infer<typeof configSchema>;
