import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { WarmUpReport } from '../resolution/warm-up';

export interface Readiness {
  /** Why the gateway is not ready, or null when it is. */
  notReadyReason(): string | null;
}

export interface AdminOptions {
  readonly readiness: Readiness;
  readonly logger: Logger;
  readonly warmUp: (authorization?: string) => Promise<WarmUpReport>;
}

/**
 * The admin port's app (never served on PORT): liveness, readiness, the cache warm-up trigger,
 * and what later stages mount (metrics, the migration report).
 */
export function createAdminApp(options: AdminOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const reason = options.readiness.notReadyReason();
    if (reason === null) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reason });
  });
  // Starts a warm-up pass and answers at once: the pass logs its own progress and result.
  app.post('/cache/warm-up', (req, res) => {
    const authorization = req.headers.authorization?.trim() ? req.headers.authorization : undefined;
    options.warmUp(authorization).catch((err: unknown) => {
      options.logger.warn('cache warm-up failed', { error: err instanceof Error ? err.message : String(err) });
    });
    res.status(202).json({ status: 'warm-up started' });
  });
  return app;
}
