import type { Registry } from 'prom-client';
import type { Logger } from 'winston';
import type { GatewayConfig } from './config/load';
import type { CallObserver } from './http/accept';
import { Brownouts } from './http/brownouts';
import { deprecationHeaders } from './http/deprecation-headers';
import { errorWriter } from './http/error-handler';
import { createPassThrough, type ForwardHandler } from './http/pass-through';
import { Shadowing } from './http/shadowing';
import { EmailPrivacy } from './observability/email-privacy';
import { createLogger } from './observability/logger';
import { bufferedStdout, logTranslation, translationLog, type TranslationLog } from './observability/translation-log';
import type { OperationDeps } from './operations/context';
import { Resolver, type ResolverFactory } from './resolution/resolver';
import { createShadow, type Shadow } from './shadow/create';
import { FieldRules } from './translation/field-rules';
import { V4Api } from './v4/api';
import { V4Client } from './v4/client';
import { NodeHttpClient } from './v4/node-http-client';

export interface AppOptions {
  readonly logger?: Logger;
  /** Where the per-call translation lines go; default: stdout, at the logger's level. */
  readonly translations?: TranslationLog;
  /** Told about every call once it is over, after its log line (metrics, the migration report). */
  readonly observers?: readonly CallObserver[];
  /** When the legacy API counts as deprecated since (Deprecation header); default: now. */
  readonly startedAt?: Date;
  /** Where the gateway's own metrics go (the shadow comparison's counter); default: none. */
  readonly metricsRegistry?: Registry;
  /** Makes the resolver (default: in memory); server.ts passes the Redis-backed one when REDIS_URL is set. */
  readonly createResolver?: ResolverFactory;
}

export interface PassThrough {
  readonly handler: ForwardHandler;
  close(): void;
}

/** Everything the stages use, built once from the configuration. */
export interface GatewayDeps {
  readonly logger: Logger;
  readonly v4Client: V4Client;
  /** The list's pages (node:http: node-http-client.ts). */
  readonly v4PageClient: NodeHttpClient;
  readonly v4: V4Api;
  readonly resolver: Resolver;
  readonly operations: OperationDeps;
  /** The log line first, then the caller's observers. */
  readonly observers: readonly CallObserver[];
  /** Deprecation, Link and Sunset, as a flat list: every legacy answer carries them. */
  readonly deprecationHeaders: readonly string[];
  /** The V4 pass-through (V4_PASSTHROUGH), null when off. */
  readonly v4PassThrough: PassThrough | null;
  /** The legacy backend for paths the gateway does not translate (LEGACY_BASE_URL), null when none. */
  readonly legacyBackend: PassThrough | null;
  readonly writeError: ReturnType<typeof errorWriter>;
  /** Planned brownouts of the legacy API (BROWNOUTS). */
  readonly brownouts: Brownouts;
  /** The shadow comparison (SHADOW_MODE), null when off. */
  readonly shadow: Shadow | null;
  readonly shadowing: Shadowing | null;
}

export function buildDeps(config: GatewayConfig, options: AppOptions = {}): GatewayDeps {
  if (config.v4BaseUrl === null) throw new Error('createApp needs config.v4BaseUrl');
  const logger = options.logger ?? createLogger(config.logLevel);
  const translations = options.translations ?? translationLog(logger.level, bufferedStdout().write);
  const logLine: CallObserver = (state, status, completed) => logTranslation(translations, state, status, completed);
  const clientOptions = { maxSockets: config.upstreamMaxSockets, maxResponseBytes: config.upstreamMaxResponseBytes };
  const v4Client = new V4Client(config.v4BaseUrl, clientOptions);
  const v4PageClient = new NodeHttpClient(config.v4BaseUrl, clientOptions);
  const v4 = new V4Api(v4Client, v4PageClient);
  const makeResolver = options.createResolver ?? ((lookup, resolverOptions) => new Resolver(lookup, resolverOptions));
  const resolver = makeResolver((email, scope) => v4.lookup(email, scope), { max: config.cacheMax, ttlMs: config.cacheTtlMs });
  const writeError = errorWriter(logger);
  const operations: OperationDeps = {
    v4,
    resolver,
    rules: new FieldRules(config.fieldRules),
    privacy: new EmailPrivacy(config.logEmails, config.logHashKey),
    verifyCachedWrites: config.verifyCachedWrites,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
  };
  const shadow = createShadow(config, { logger, registry: options.metricsRegistry });
  const shadowing = shadow === null ? null : new Shadowing(shadow, operations, config.shadowTimeoutMs);
  const passThrough = (target: string, isV4: boolean): PassThrough =>
    createPassThrough({
      target,
      isV4,
      timeoutMs: config.upstreamTimeoutMs,
      maxSockets: config.upstreamMaxSockets,
      writeError,
      onResponse: isV4 || shadowing === null ? undefined : (req, status, headers) => shadowing.onLegacyResponse(req, status, headers),
    });
  return {
    logger,
    v4Client,
    v4PageClient,
    v4,
    resolver,
    operations,
    observers: [logLine, ...(options.observers ?? [])],
    deprecationHeaders: deprecationHeaders(config.deprecationDate ?? options.startedAt ?? new Date(), config.sunsetDate),
    v4PassThrough: config.v4Passthrough ? passThrough(config.v4BaseUrl, true) : null,
    legacyBackend: config.legacyBaseUrl === null ? null : passThrough(config.legacyBaseUrl, false),
    writeError,
    brownouts: new Brownouts(config.brownouts),
    shadow,
    shadowing,
  };
}
