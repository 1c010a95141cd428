import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'winston';
import type { GatewayConfig } from './config/load';
import { GatewayError } from './errors';
import { buildBlockList, clientAddress, inList } from './http/client-address';
import { authorizationFor, missingCredentials } from './http/credentials';
import { deprecationHeaders } from './http/deprecation-headers';
import { errorHandler } from './http/error-handler';
import { createForwarder } from './http/forwarder';
import { legacyHandler } from './http/legacy-handler';
import { attachState, stateOf, type RequestState } from './http/request-state';
import { EmailPrivacy } from './observability/email-privacy';
import { createLogger } from './observability/logger';
import { bufferedStdout, logTranslation, translationLog, type TranslationLog } from './observability/translation-log';
import type { OperationDeps } from './operations/context';
import { FingerprintMemo } from './resolution/credential-fingerprint';
import { Resolver, type ResolverFactory } from './resolution/resolver';
import { warmUpCache, type WarmUpReport } from './resolution/warm-up';
import { FieldRules } from './translation/field-rules';
import { isLegacyPath, LEGACY_COLLECTION_PATH, legacyTemplate } from './translation/routes';
import { v4Authorization, V4_PREFIX } from './v4/adapter';
import { V4Api } from './v4/api';
import { V4Client } from './v4/client';

/** Told about every call once it is over (metrics, the migration report). */
export type CallObserver = (state: RequestState, legacyStatus: number, completed: boolean) => void;

export interface AppDeps {
  readonly logger?: Logger;
  /** Where the per-call translation lines go; default: stdout, at the logger's level. */
  readonly translations?: TranslationLog;
  readonly observers?: readonly CallObserver[];
  /** When the legacy API counts as deprecated since (Deprecation header); default: now. */
  readonly startedAt?: Date;
  /** Makes the resolver (default: in memory); server.ts passes the Redis-backed one when REDIS_URL is set. */
  readonly createResolver?: ResolverFactory;
}

export interface GatewayApp {
  /**
   * The gateway's request listener: the legacy and V4 paths go straight to the pipeline, every
   * other path through the Express app behind it. Servers and tests listen with this.
   */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  readonly resolver: Resolver;
  readonly v4: V4Api;
  readonly logger: Logger;
  /**
   * Fills the cache from the V4 index with `authorization` (default: the configured key). One
   * pass at a time: a call while one runs gets the running pass.
   */
  warmUp(authorization?: string): Promise<WarmUpReport>;
  /** Frees the upstream sockets. */
  close(): void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A dot segment (`.`, `..`, raw or percent-encoded) between slashes or at either end. */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** A path with a dot segment or a backslash (raw or encoded) is never forwarded anywhere. */
function hasUnsafeSegment(path: string): boolean {
  return path.includes('\\') || /%5c/i.test(path) || DOT_SEGMENT.test(path);
}

/**
 * The gateway as an Express app: the stages in the order every request meets them. No
 * environment, no listening: server.ts does that.
 *   accept    request id, credentials' fingerprint, the caller's address against ALLOW_CIDRS,
 *             the log line and observers on close
 *   dispatch  legacy paths → legacy stages; V4 paths → pass-through; others → legacy backend or 404
 *   errors    one handler writes every error answer
 */
export function createApp(config: GatewayConfig, deps: AppDeps = {}): GatewayApp {
  if (config.v4BaseUrl === null) throw new Error('createApp needs config.v4BaseUrl');
  const logger = deps.logger ?? createLogger(config.logLevel);
  const observers = deps.observers ?? [];
  const translations = deps.translations ?? translationLog(logger.level, bufferedStdout().write);
  const fingerprints = new FingerprintMemo();
  const allowList = buildBlockList(config.allowCidrs);
  const trustedProxies = config.trustedProxies.length === 0 ? null : buildBlockList(config.trustedProxies);
  const v4Client = new V4Client(config.v4BaseUrl, { maxSockets: config.upstreamMaxSockets, maxResponseBytes: config.upstreamMaxResponseBytes });
  const v4 = new V4Api(v4Client);
  const resolver = (deps.createResolver ?? ((lookup, options) => new Resolver(lookup, options)))((email, scope) => v4.lookup(email, scope), { max: config.cacheMax, ttlMs: config.cacheTtlMs });
  const operationDeps: OperationDeps = {
    v4,
    resolver,
    rules: new FieldRules(config.fieldRules),
    privacy: new EmailPrivacy(config.logEmails, config.logHashKey),
    verifyCachedWrites: config.verifyCachedWrites,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
  };
  const legacy = legacyHandler({ deps: operationDeps, bodyLimitBytes: config.bodyLimitBytes, upstreamTimeoutMs: config.upstreamTimeoutMs });
  const setDeprecationHeaders = deprecationHeaders(config.deprecationDate ?? deps.startedAt ?? new Date(), config.sunsetDate);
  const v4Forwarder = config.v4Passthrough
    ? createForwarder({
        target: config.v4BaseUrl,
        isV4: true,
        timeoutMs: config.upstreamTimeoutMs,
        maxSockets: config.upstreamMaxSockets,
      })
    : null;
  const legacyBackend =
    config.legacyBaseUrl === null ? null : createForwarder({ target: config.legacyBaseUrl, isV4: false, timeoutMs: config.upstreamTimeoutMs, maxSockets: config.upstreamMaxSockets });

  /** Where a caller is, and whether it may call: decided once per connection unless X-Forwarded-For counts. */
  const connections = new WeakMap<Socket, { address: string; allowed: boolean }>();
  const caller = (req: IncomingMessage): { address: string; allowed: boolean } => {
    const peer = req.socket.remoteAddress ?? '';
    if (trustedProxies !== null && inList(trustedProxies, peer)) {
      const address = clientAddress(peer, req.headers['x-forwarded-for'] as string | undefined, trustedProxies);
      return { address, allowed: inList(allowList, address) };
    }
    let known = connections.get(req.socket);
    if (known === undefined) {
      const address = clientAddress(peer, undefined, null);
      known = { address, allowed: inList(allowList, address) };
      connections.set(req.socket, known);
    }
    return known;
  };

  /** The whole pipeline of one call, on node's own request and response. */
  async function gateway(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // accept: request id, who is calling, the log line and observers once the call is over
    const incomingId = req.headers['x-request-id'];
    const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    res.setHeader('x-request-id', requestId);
    const authorization = authorizationFor(req, config.v4ApiKey);
    const from = caller(req);
    const method = req.method ?? '';
    const state: RequestState = {
      requestId,
      startedAt: performance.now(),
      clientAddress: from.address,
      authorization,
      credential: authorization === null ? undefined : fingerprints.of(authorization),
      record: { route: 'unknown-route', legacyMethod: method, legacyPath: 'other', rules: [], v4Calls: 0 },
    };
    attachState(res, state);
    res.once('close', () => {
      // A client that left before anything was sent got no status at all.
      const status = res.headersSent ? res.statusCode : 0;
      logTranslation(translations, state, status, res.writableFinished);
      for (const observe of observers) observe(state, status, res.writableFinished);
    });
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const legacyPath = isLegacyPath(path);
    if (legacyPath) {
      setDeprecationHeaders(res);
      state.record.legacyPath = legacyTemplate(path);
    }
    if (!from.allowed) {
      state.record.route = 'forbidden';
      throw new GatewayError('FORBIDDEN_CLIENT', 'This gateway does not serve your network; ask its operators to add it to ALLOW_CIDRS.', { detail: 'caller outside ALLOW_CIDRS' });
    }

    // dispatch: legacy paths to the legacy stages, V4 paths to the pass-through, the rest elsewhere
    if (legacyPath) {
      await legacy(req, res, state, path, q === -1 ? '' : url.slice(q + 1));
      return;
    }
    if (!path.startsWith('/') || hasUnsafeSegment(path)) throw notFound();
    if (v4Forwarder !== null && path.startsWith(V4_PREFIX)) {
      state.record.route = 'v4-passthrough';
      if (state.authorization === null) throw missingCredentials();
      state.record.v4Method = method;
      state.record.v4Path = path;
      await v4Forwarder.handler(req, res);
      return;
    }
    if (legacyBackend !== null) {
      state.record.route = 'legacy-backend';
      await legacyBackend.handler(req, res);
      return;
    }
    throw notFound();
  }

  const writeError = errorHandler(logger);
  /** The error answer; should writing it fail too, the connection is cut rather than left hanging. */
  const handleError = (err: unknown, req: IncomingMessage, res: ServerResponse): void => {
    try {
      writeError(err, req, res);
    } catch (failure) {
      logger.error('writing an error answer failed', { request_id: stateOf(res)?.requestId, error: failure instanceof Error ? failure.message : String(failure) });
      res.destroy();
    }
  };

  // Express is the application framework for every path that is neither legacy nor V4 (the
  // legacy backend, unknown paths, and whatever is added next); it runs the same pipeline.
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    gateway(req, res).catch(next);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => handleError(err, req, res));

  // The two hot prefixes skip Express: those calls use nothing of it, and its per-call work cost
  // more than the rest of the gateway. Mostly not the router but the prototype swaps of node's
  // request and response (`Object.setPrototypeOf`), after which V8 cannot optimise any property
  // access on them: putting back only the swaps raised a PUT from ~530 to ~840 µs of CPU (README,
  // Performance). A prefix test on the raw URL decides; everything else goes to Express.
  const hotPrefixes = v4Forwarder === null ? [LEGACY_COLLECTION_PATH] : [LEGACY_COLLECTION_PATH, V4_PREFIX];
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '';
    if (hotPrefixes.some((prefix) => url.startsWith(prefix))) {
      gateway(req, res).catch((err: unknown) => handleError(err, req, res));
    } else {
      app(req, res);
    }
  };

  let runningWarmUp: Promise<WarmUpReport> | null = null;
  const warmUp = (authorization?: string): Promise<WarmUpReport> => {
    if (runningWarmUp !== null) return runningWarmUp;
    const credentials = authorization ?? (config.v4ApiKey === null ? null : v4Authorization(config.v4ApiKey));
    if (credentials === null) return Promise.reject(new Error('warm-up needs V4_API_KEY (or an Authorization header on the admin call)'));
    runningWarmUp = warmUpCache({ v4, resolver, logger, pageTimeoutMs: config.upstreamTimeoutMs }, credentials).finally(() => {
      runningWarmUp = null;
    });
    return runningWarmUp;
  };

  return {
    listener,
    resolver,
    v4,
    logger,
    warmUp,
    close: () => {
      v4Client.close();
      v4Forwarder?.close();
      legacyBackend?.close();
    },
  };
}

function notFound(): GatewayError {
  return new GatewayError('NOT_FOUND', 'No such route on this gateway; legacy calls live under /api/management/user, V4 calls under /api/user/management/v4/.');
}
