import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import { exitAfterStopOnSignal } from './process-signals';
import { loadConfig, requireV4BaseUrl, SettingError, type GatewayConfig } from './config/load';
import { createAdminApp } from './observability/admin-app';
import { createLogger } from './observability/logger';
import { bufferedStdout, translationLog } from './observability/translation-log';
import { GatewayMetrics } from './observability/metrics';
import { MigrationReport } from './observability/migration-report';
import { loadOpenApiDocument } from './observability/openapi-document';
import { ReportTimeline } from './observability/report-timeline';
import { SharedReport } from './observability/shared-report';
import { V4Probe } from './observability/v4-probe';
import { redisLinkFor, sharedResolverFactory } from './resolution/shared-setup';
import type { WarmUpReport } from './resolution/warm-up';
import { shadowSummary } from './shadow/summary';
import { startCluster } from './cluster';

/** Limits every listening socket gets (Slowloris, oversized headers, endless requests). */
export const SERVER_LIMITS = {
  /** A connection that has not sent its headers within 10 s is closed. */
  headersTimeout: 10_000,
  /** A whole request within 30 s. */
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  maxHeaderSize: 16 * 1024,
  /** How often Node checks the two timeouts above (its default, 30 s, would let a slow client linger 40 s). */
  connectionsCheckingInterval: 1_000,
} as const;

export function createServer(listener: http.RequestListener): http.Server {
  const server = http.createServer({ maxHeaderSize: SERVER_LIMITS.maxHeaderSize, connectionsCheckingInterval: SERVER_LIMITS.connectionsCheckingInterval }, listener);
  server.headersTimeout = SERVER_LIMITS.headersTimeout;
  server.requestTimeout = SERVER_LIMITS.requestTimeout;
  server.keepAliveTimeout = SERVER_LIMITS.keepAliveTimeout;
  return server;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** The V4 URL without any credentials it might carry, for the start-up line. */
function safeUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

export interface RunningGateway {
  readonly port: number;
  /** null when started without the admin port (a cluster worker). */
  readonly adminPort: number | null;
  /** Stop accepting, report not-ready, let calls in flight finish (up to the grace period), close. */
  shutdown(): Promise<void>;
  /** What a cluster primary gathers from each worker (src/cluster/worker.ts). */
  readonly metrics: GatewayMetrics;
  readonly report: MigrationReport;
  warmUp(authorization?: string): Promise<WarmUpReport>;
}

export interface StartOptions {
  /** false: no admin port; a cluster worker, whose primary serves it for every worker. */
  readonly adminServer?: boolean;
}

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const withAdmin = options.adminServer !== false;
  const v4BaseUrl = requireV4BaseUrl(config);
  const logger = createLogger(config.logLevel);
  if (config.logEmails === 'plain') logger.warn('LOG_EMAILS=plain: raw email addresses will be written to the log; use only for debugging');
  const metrics = new GatewayMetrics();
  const report = new MigrationReport();
  const timeline = new ReportTimeline({ bucketMs: config.migrationBucketSeconds * 1000 });
  const stdoutLines = bufferedStdout();
  // REDIS_URL: the resolution cache is shared by the fleet (in memory otherwise, as always).
  const link = redisLinkFor(config, logger);
  const shared = link === null ? null : sharedResolverFactory(config, link, logger);
  // With Redis the report on any replica is the fleet's; this replica's own stays as the fallback.
  const fleetReport = link === null ? null : new SharedReport(report, { link, keyPrefix: config.redisKeyPrefix, intervalMs: config.redisReportIntervalMs, ttlMs: config.redisReportTtlMs, maxClients: report.maxClients, logger });
  const observers = [metrics.observe, report.observe, timeline.observe, ...(fleetReport === null ? [] : [fleetReport.observe])];
  const gateway = createApp(config, {
    logger,
    translations: translationLog(config.logLevel, stdoutLines.write),
    observers,
    metricsRegistry: metrics.registry,
    createResolver: shared?.factory,
  });
  link?.start();
  fleetReport?.start();
  const shadowRunner = gateway.shadow?.runner;
  const probe =
    config.v4ApiKey === null || config.v4ProbeIntervalMs === 0
      ? null
      : new V4Probe({ baseUrl: v4BaseUrl, apiKey: config.v4ApiKey, intervalMs: config.v4ProbeIntervalMs, timeoutMs: Math.min(config.upstreamTimeoutMs, config.v4ProbeIntervalMs), logger });
  metrics.attach({ resolver: gateway.resolver, v4: gateway.v4, probe, report });
  const sharedResolver = shared?.made() ?? null;
  if (link !== null && sharedResolver !== null) metrics.attach({ shared: { link, staleness: sharedResolver.staleness, stats: sharedResolver.stats } });
  let shuttingDown = false;
  const readiness = [
    // The process listens only once its configuration loaded and validated.
    { name: 'config', problem: () => null },
    { name: 'shutdown', problem: () => (shuttingDown ? 'shutting down' : null) },
    ...(probe === null ? [] : [{ name: 'v4', problem: () => probe.check() }]),
  ];
  // Redis is never a readiness condition: without it the gateway serves from memory and V4.
  const admin = createAdminApp({
    readiness,
    logger,
    warmUp: gateway.warmUp,
    metrics,
    report: fleetReport ?? report,
    timeline,
    migrationPage: { clientNames: config.clientNames, brownouts: config.brownouts, shadow: shadowRunner === undefined ? undefined : () => shadowSummary(shadowRunner.toJson()) },
    openApiDocument: loadOpenApiDocument(),
    diffs: shadowRunner,
  });

  const server = createServer(gateway.listener);
  const adminServer = withAdmin ? createServer(admin) : null;
  const port = await listen(server, config.port, config.host);
  const adminPort = adminServer === null ? null : await listen(adminServer, config.adminPort, config.adminHost);
  logger.info(withAdmin ? 'gateway listening' : 'worker listening', { port, admin_port: adminPort, host: config.host, v4_base_url: safeUrl(v4BaseUrl), v4_key_configured: config.v4ApiKey !== null, legacy_base_url: config.legacyBaseUrl === null ? undefined : safeUrl(config.legacyBaseUrl) });


  if (config.warmUpOnStart) {
    gateway.warmUp().catch((err: unknown) => logger.warn('cache warm-up failed', { error: err instanceof Error ? err.message : String(err) }));
  }

  const shutdown = async (): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    probe?.stop();
    logger.info('shutting down: draining calls in flight', { grace_ms: config.shutdownGraceMs });
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), config.shutdownGraceMs).unref());
    if ((await Promise.race([drained, grace])) === 'timeout') {
      logger.warn('grace period over: closing the connections still open');
      server.closeAllConnections();
    }
    // Comparisons in flight finish (each has its own deadline) before the sockets they use close.
    if (shadowRunner !== undefined) await Promise.race([shadowRunner.idle(), new Promise((resolve) => setTimeout(resolve, config.shadowTimeoutMs).unref())]);
    if (adminServer !== null) {
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      adminServer.closeAllConnections();
    }
    gateway.close();
    fleetReport?.stop();
    // The last counts of this replica go to the shared report before the link closes.
    await fleetReport?.flush();
    await link?.close();
    stdoutLines.flush();
    logger.info('stopped');
  };
  return { port, adminPort, shutdown, metrics, report, warmUp: gateway.warmUp };
}

async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadConfig({ env: process.env });
    requireV4BaseUrl(config);
  } catch (err) {
    if (err instanceof SettingError) {
      process.stderr.write(`legacy-user-gateway: bad setting: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (config.workers > 1) {
    await startCluster(config, { startGateway, createServer });
    return;
  }
  const running = await startGateway(config);
  exitAfterStopOnSignal(running.shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`legacy-user-gateway: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
