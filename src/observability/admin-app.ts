import express, { type Express } from 'express';
import type { Logger } from 'winston';
import type { BrownoutConfig } from '../config/schema';
import type { WarmUpReport } from '../resolution/warm-up';
import type { MigrationReportJson } from './migration-report';
import { renderMigrationPage, type ShadowSummary } from './migration-page/render';
import type { TimelineJson } from './report-timeline';
import type { ShadowReportJson } from '../shadow/runner';

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
  /** May answer later: the fleet's is read from Redis (REDIS_URL), a cluster primary gathers its workers' (WORKERS). */
  readonly report?: { toJson(): MigrationReportJson | Promise<MigrationReportJson>; toCsv(): string | Promise<string> };
  /** Calls per client per time bucket: `timeline` in the report's JSON, and the page's charts. */
  readonly timeline?: { toJson(): TimelineJson };
  /** GET /migration (needs `report` and `timeline`). */
  readonly migrationPage?: {
    /** Names for credential fingerprints (CONFIG_FILE `clientNames`). */
    readonly clientNames: Readonly<Record<string, string>>;
    /** The shadow comparison's summary, when one runs; undefined: the page shows none. */
    readonly shadow?: () => ShadowSummary | undefined;
    /** The planned brownouts (BROWNOUTS). */
    readonly brownouts?: readonly BrownoutConfig[];
    readonly refreshSeconds?: number;
  };
  /** The OpenAPI description of the legacy facade, served as GET /openapi.json. */
  readonly openApiDocument?: string;
  /** The shadow comparison's report (SHADOW_MODE other than off): GET /migration/diffs. */
  readonly diffs?: { toJson(): ShadowReportJson };
}

/** The page has no script, style or image from anywhere: even a markup slip could not run code. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The admin port's app (never served on PORT): liveness, readiness, Prometheus metrics, the
 * migration report (JSON, CSV, and the /migration page), /openapi.json and the cache warm-up trigger. Nothing here ever shows a key or a raw email.
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
  const { metrics, report, timeline, migrationPage, openApiDocument } = options;
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
        const json = await report.toJson();
        res.status(200).json(timeline === undefined ? json : { ...json, timeline: timeline.toJson() });
      } else {
        res.status(400).json({ error: { code: 'INVALID_QUERY', message: 'format must be json (the default) or csv.' } });
      }
    });
  }
  if (report !== undefined && timeline !== undefined && migrationPage !== undefined) {
    app.get('/migration', async (_req, res) => {
      const html = renderMigrationPage({
        report: await report.toJson(),
        timeline: timeline.toJson(),
        clientNames: migrationPage.clientNames,
        shadow: migrationPage.shadow?.(),
        brownouts: migrationPage.brownouts,
        refreshSeconds: migrationPage.refreshSeconds ?? 30,
        now: Date.now(),
      });
      res.status(200).setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-security-policy', PAGE_CSP);
      res.setHeader('x-content-type-options', 'nosniff');
      res.end(html);
    });
  }
  if (openApiDocument !== undefined) {
    app.get('/openapi.json', (_req, res) => {
      res.status(200).setHeader('content-type', 'application/json; charset=utf-8');
      res.end(openApiDocument);
    });
  }
  const { diffs } = options;
  if (diffs !== undefined) {
    app.get('/migration/diffs', (_req, res) => {
      res.status(200).json(diffs.toJson());
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
