import express, { type Express } from 'express';

export interface Readiness {
  /** Why the gateway is not ready, or null when it is. */
  notReadyReason(): string | null;
}

/**
 * The admin port's app (never served on PORT): liveness, readiness, and what later stages
 * mount (metrics, the migration report).
 */
export function createAdminApp(readiness: Readiness): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const reason = readiness.notReadyReason();
    if (reason === null) res.status(200).json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reason });
  });
  return app;
}
