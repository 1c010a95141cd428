import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'winston';
import { buildDeps, type AppOptions } from './build-deps';
import type { GatewayConfig } from './config/load';
import { createAccept } from './http/accept';
import { createDispatch } from './http/dispatch';
import { legacyStage } from './http/legacy-stage';
import type { Resolver } from './resolution/resolver';
import type { Shadow } from './shadow/create';
import { warmUpCache, type WarmUpReport } from './resolution/warm-up';
import { v4Authorization } from './v4/adapter';
import type { V4Api } from './v4/api';

export type { AppOptions } from './build-deps';
export type { CallObserver } from './http/accept';

export interface GatewayApp {
  /** The gateway's request listener (node's own request and response; no framework). */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  readonly resolver: Resolver;
  readonly v4: V4Api;
  readonly logger: Logger;
  /** The shadow comparison (SHADOW_MODE), null when off: its report is the admin port's /migration/diffs. */
  readonly shadow: Shadow | null;
  /**
   * Fills the cache from the V4 index with `authorization` (default: the configured key). One
   * pass at a time: a call while one runs gets the running pass.
   */
  warmUp(authorization?: string): Promise<WarmUpReport>;
  /** Frees the upstream sockets. */
  close(): void;
}

/**
 * The gateway: the stages every call meets, in order. No environment, no listening: server.ts
 * does that.
 *   accept    request id, credentials and their fingerprint, the caller's address; the log line
 *             and observers once the call is over (http/accept.ts)
 *   dispatch  decided once per path: legacy route / V4 pass-through / legacy backend or 404;
 *             callers outside ALLOW_CIDRS refused (http/dispatch.ts)
 *   legacy    checks in the contract's order, then the operation answers with a value and the
 *             one writer puts it on the wire (http/legacy-stage.ts, operations/, http/write-answer.ts)
 *   errors    one writer for every error answer (http/error-handler.ts)
 */
export function createApp(config: GatewayConfig, options: AppOptions = {}): GatewayApp {
  const deps = buildDeps(config, options);
  const accept = createAccept(config, deps.observers);
  const legacy = legacyStage({ deps: deps.operations, shadowing: deps.shadowing, bodyLimitBytes: config.bodyLimitBytes, upstreamTimeoutMs: config.upstreamTimeoutMs });
  const dispatch = createDispatch(deps, legacy);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const state = accept(req, res);
    // Dispatch refuses at once (throws) or answers later (rejects): one error writer for both.
    let answering: Promise<void>;
    try {
      answering = dispatch(req, res, state);
    } catch (err) {
      deps.writeError(err, req, res);
      return;
    }
    answering.catch((err: unknown) => deps.writeError(err, req, res));
  };

  let runningWarmUp: Promise<WarmUpReport> | null = null;
  const warmUp = (authorization?: string): Promise<WarmUpReport> => {
    if (runningWarmUp !== null) return runningWarmUp;
    const credentials = authorization ?? (config.v4ApiKey === null ? null : v4Authorization(config.v4ApiKey));
    if (credentials === null) return Promise.reject(new Error('warm-up needs V4_API_KEY (or an Authorization header on the admin call)'));
    runningWarmUp = warmUpCache({ v4: deps.v4, resolver: deps.resolver, logger: deps.logger, pageTimeoutMs: config.upstreamTimeoutMs }, credentials).finally(() => {
      runningWarmUp = null;
    });
    return runningWarmUp;
  };

  return {
    listener,
    resolver: deps.resolver,
    v4: deps.v4,
    logger: deps.logger,
    shadow: deps.shadow,
    warmUp,
    close: () => {
      deps.shadow?.close();
      deps.v4Client.close();
      deps.v4PageClient.close();
      deps.v4PassThrough?.close();
      deps.legacyBackend?.close();
    },
  };
}
