import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
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
  /** More GET routes (the cluster primary's /workers). */
  readonly routes?: Readonly<Record<string, AdminRoute>>;
}

/** What an admin route answers. */
export interface AdminAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** One route of the admin port: the request and its query, to an answer. */
export type AdminRoute = (req: IncomingMessage, query: URLSearchParams) => AdminAnswer | Promise<AdminAnswer>;

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON answer of the admin port. */
export function adminJson(status: number, value: unknown): AdminAnswer {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

/** The page has no script, style or image from anywhere: even a markup slip could not run code. */
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * The admin port's listener (never served on PORT): liveness, readiness, Prometheus metrics, the
 * migration report (JSON, CSV, and the /migration page), /openapi.json and the cache warm-up
 * trigger. Nothing here ever shows a key or a raw email. On node's own http, as the main port:
 * a dozen fixed paths need no framework, and Express alone was 14 MB of the gateway's resident
 * memory (README, Performance). Every answer is `Cache-Control: no-store`; HEAD is answered for
 * every GET route; an unknown path is 404 and a known one with another method 405, both JSON.
 */
export function createAdminApp(options: AdminOptions): RequestListener {
  const gets = new Map<string, AdminRoute>();
  const posts = new Map<string, AdminRoute>();
  gets.set('/healthz', () => adminJson(200, { status: 'ok' }));
  gets.set('/readyz', async () => {
    const checks: Record<string, string> = {};
    let reason: string | null = null;
    for (const check of options.readiness) {
      const problem = await check.problem();
      checks[check.name] = problem ?? 'ok';
      reason ??= problem;
    }
    return reason === null ? adminJson(200, { status: 'ready', checks }) : adminJson(503, { status: 'not ready', reason, checks });
  });
  const { metrics, report, timeline, migrationPage, openApiDocument, diffs } = options;
  if (metrics !== undefined) {
    gets.set('/metrics', async () => ({ status: 200, contentType: metrics.contentType, body: await metrics.text() }));
  }
  if (report !== undefined) {
    gets.set('/migration/report', async (_req, query) => {
      const formats = query.getAll('format');
      const format = formats.length === 0 ? 'json' : formats.length === 1 ? formats[0] : null;
      if (format === 'csv') {
        return { status: 200, contentType: 'text/csv; charset=utf-8', body: await report.toCsv(), headers: { 'content-disposition': 'inline; filename="migration-report.csv"' } };
      }
      if (format === 'json') {
        const json = await report.toJson();
        return adminJson(200, timeline === undefined ? json : { ...json, timeline: timeline.toJson() });
      }
      return adminJson(400, { error: { code: 'INVALID_QUERY', message: 'format must be json (the default) or csv.' } });
    });
  }
  if (report !== undefined && timeline !== undefined && migrationPage !== undefined) {
    gets.set('/migration', async () => {
      const html = renderMigrationPage({
        report: await report.toJson(),
        timeline: timeline.toJson(),
        clientNames: migrationPage.clientNames,
        shadow: migrationPage.shadow?.(),
        brownouts: migrationPage.brownouts,
        refreshSeconds: migrationPage.refreshSeconds ?? 30,
        now: Date.now(),
      });
      return { status: 200, contentType: 'text/html; charset=utf-8', body: html, headers: { 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff' } };
    });
  }
  if (openApiDocument !== undefined) {
    gets.set('/openapi.json', () => ({ status: 200, contentType: JSON_TYPE, body: openApiDocument }));
  }
  if (diffs !== undefined) {
    gets.set('/migration/diffs', () => adminJson(200, diffs.toJson()));
  }
  for (const [path, route] of Object.entries(options.routes ?? {})) gets.set(path, route);
  // Starts a warm-up pass and answers at once: the pass logs its own progress and result.
  posts.set('/cache/warm-up', (req) => {
    const authorization = req.headers.authorization?.trim() ? req.headers.authorization : undefined;
    options.warmUp(authorization).catch((err: unknown) => {
      options.logger.warn('cache warm-up failed', { error: err instanceof Error ? err.message : String(err) });
    });
    return adminJson(202, { status: 'warm-up started' });
  });

  const routeFor = (method: string, path: string): AdminRoute | AdminAnswer => {
    const get = gets.get(path);
    const post = posts.get(path);
    if ((method === 'GET' || method === 'HEAD') && get !== undefined) return get;
    if (method === 'POST' && post !== undefined) return post;
    if (get === undefined && post === undefined) return adminJson(404, { error: { code: 'NOT_FOUND', message: `No ${path} on the admin port.` } });
    const allow = get !== undefined ? 'GET, HEAD' : 'POST';
    return { ...adminJson(405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${method} is not offered on ${path}; use ${allow}.` } }), headers: { allow } };
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const method = req.method ?? 'GET';
    // Split by hand, not `new URL`: node's parser lets through targets `URL` throws on
    // (`http://a:99999/x`), and a throw here would escape the listener and end the process.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
    const route = routeFor(method, path);
    const answering = typeof route === 'function' ? Promise.resolve().then(() => route(req, query)) : Promise.resolve(route);
    answering
      .catch((err: unknown): AdminAnswer => {
        options.logger.error('admin route failed', { path, error: err instanceof Error ? err.message : String(err) });
        return adminJson(500, { error: { code: 'INTERNAL_ERROR', message: 'The admin port failed to answer; see the gateway log.' } });
      })
      .then((answer) => writeAdminAnswer(res, answer, method === 'HEAD'))
      .catch(() => res.destroy());
    // A request body (the warm-up takes none) is read and dropped, so the connection stays usable.
    req.resume();
  };
}

function writeAdminAnswer(res: ServerResponse, answer: AdminAnswer, head: boolean): void {
  if (res.destroyed) return;
  res.writeHead(answer.status, {
    ...answer.headers,
    'cache-control': 'no-store',
    'content-type': answer.contentType,
    'content-length': String(Buffer.byteLength(answer.body)),
  });
  res.end(head ? undefined : answer.body);
}
