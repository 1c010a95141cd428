import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { WarmUpReport } from '../resolution/warm-up';
import type { MigrationReportJson } from './migration-report';

/** One condition of readiness, checked on every /readyz. */
export interface ReadinessCheck {
  readonly name: string;
  /** Null when the check passes; otherwise why the gateway is not ready. */
  problem(): string | null | Promise<string | null>;
}

export interface AdminOptions {
  /** Checked in order; the first failing one is the `reason` of a 503. */
  readonly readiness: readonly ReadinessCheck[];
  readonly logger: Logger;
  readonly warmUp: (authorization?: string) => Promise<WarmUpReport>;
  readonly metrics?: { readonly contentType: string; text(): Promise<string> };
  /** May answer later: a cluster primary gathers the report from its workers first. */
  readonly report?: { toJson(): MigrationReportJson | Promise<MigrationReportJson>; toCsv(): string | Promise<string> };
}

/**
 * The admin port's app (never served on PORT): liveness, readiness, Prometheus metrics, the
 * migration report and the cache warm-up trigger. Nothing here ever shows a key or a raw email.
 */
export function createAdminApp(options: AdminOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    let reason: string | null = null;
    for (const check of options.readiness) {
      const problem = await check.problem();
      checks[check.name] = problem ?? 'ok';
      reason ??= problem;
    }
    if (reason === null) res.status(200).json({ status: 'ready', checks });
    else res.status(503).json({ status: 'not ready', reason, checks });
  });
  const { metrics, report } = options;
  if (metrics !== undefined) {
    app.get('/metrics', async (_req, res) => {
      const text = await metrics.text();
      res.status(200).setHeader('content-type', metrics.contentType);
      res.end(text);
    });
  }
  if (report !== undefined) {
    app.get('/migration/report', async (req, res) => {
      const format = req.query.format ?? 'json';
      if (format === 'csv') {
        res.status(200).setHeader('content-type', 'text/csv; charset=utf-8');
        res.setHeader('content-disposition', 'inline; filename="migration-report.csv"');
        res.end(await report.toCsv());
      } else if (format === 'json') {
        res.status(200).json(await report.toJson());
      } else {
        res.status(400).json({ error: { code: 'INVALID_QUERY', message: 'format must be json (the default) or csv.' } });
      }
    });
  }
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
