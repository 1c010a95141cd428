// The primary of a cluster (WORKERS > 1): forks the workers, which share PORT through node:cluster
// (round-robin on Linux), restarts one that dies, serves the admin port for all of them (the
// metrics and the migration report are gathered from every worker over IPC and aggregated), and
// on SIGTERM drains every worker before it exits.
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { GatewayConfig } from '../config/load';
import { adminJson, createAdminApp } from '../observability/admin-app';
import { createLogger } from '../observability/logger';
import { GatewayMetrics } from '../observability/metrics';
import { reportCsv, type MigrationReportJson } from '../observability/migration-report';
import { loadOpenApiDocument } from '../observability/openapi-document';
import { V4Probe } from '../observability/v4-probe';
import { exitAfterStopOnSignal } from '../process-signals';
import type { WarmUpReport } from '../resolution/warm-up';
import { asWorkerMessage, type MetricsJson, type PrimaryMessage, type WorkerMessage } from './messages';
import { mergeReports } from './report-merge';

/** How long the primary waits for a worker's metrics and report before answering without them. */
const COLLECT_TIMEOUT_MS = 5_000;
/** Past the grace period, how long a draining worker may take before it is killed. */
const EXIT_MARGIN_MS = 2_000;
/** A warm-up pages through the whole index (each page has its own deadline in the worker); this bounds the wait for all of them. */
const WARM_UP_WAIT_MS = 30 * 60_000;

interface Member {
  readonly worker: Worker;
  listening: boolean;
}

export interface PrimaryDeps {
  readonly createServer: (listener: http.RequestListener) => http.Server;
}

export async function runPrimary(config: GatewayConfig, deps: PrimaryDeps): Promise<void> {
  const v4BaseUrl = config.v4BaseUrl ?? '';
  const logger = createLogger(config.logLevel);
  const members = new Map<number, Member>();
  let shuttingDown = false;
  let port: number | null = null;
  let nextId = 1;

  // --- what the primary itself reports, beside the workers' metrics ---
  const own = new Registry();
  new Gauge({ name: 'legacy_gateway_workers', help: 'Worker processes serving PORT now (WORKERS sets how many should).', registers: [own], collect() { this.set([...members.values()].filter((m) => m.listening).length); } });
  const restarts = new Counter({ name: 'legacy_gateway_worker_restarts_total', help: 'Workers that exited unexpectedly and were replaced.', registers: [own] });
  const probe =
    config.v4ApiKey === null || config.v4ProbeIntervalMs === 0
      ? null
      : new V4Probe({ baseUrl: v4BaseUrl, apiKey: config.v4ApiKey, intervalMs: config.v4ProbeIntervalMs, timeoutMs: Math.min(config.upstreamTimeoutMs, config.v4ProbeIntervalMs), logger });
  // Only the probe's metrics come from here (the per-call ones are all zero in the primary).
  const probeMetrics = new GatewayMetrics({ defaultMetrics: false });
  if (probe !== null) probeMetrics.attach({ probe });

  // --- asking every worker ---
  const pending = new Map<number, (message: WorkerMessage) => void>();
  const ask = <T>(member: Member, message: PrimaryMessage & { id: number }, read: (reply: WorkerMessage) => T | undefined, timeoutMs: number): Promise<T | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(message.id);
        resolve(undefined);
      }, timeoutMs);
      pending.set(message.id, (reply) => {
        clearTimeout(timer);
        pending.delete(message.id);
        resolve(read(reply));
      });
      // A worker that died but whose exit has not been seen yet cannot be asked: no answer from it.
      if (!member.worker.isConnected()) return;
      member.worker.send(message);
    });
  const listening = (): Member[] => [...members.values()].filter((m) => m.listening);

  interface Collected {
    readonly pid: number | undefined;
    readonly metrics: MetricsJson;
    readonly report: MigrationReportJson;
  }
  const collectEach = async (): Promise<Collected[]> => {
    const replies = await Promise.all(
      listening().map(async (member): Promise<Collected | undefined> => {
        const reply = await ask(member, { type: 'legacy-gateway:collect', id: nextId++ }, (r) => (r.type === 'legacy-gateway:collected' ? r : undefined), COLLECT_TIMEOUT_MS);
        return reply === undefined ? undefined : { pid: member.worker.process.pid, metrics: reply.metrics, report: reply.report };
      }),
    );
    const answered = replies.filter((r) => r !== undefined);
    if (answered.length < replies.length) logger.warn('metrics/report: a worker did not answer in time; its figures are missing from this answer', { answered: answered.length, workers: replies.length });
    return answered;
  };
  const collect = async (): Promise<{ metrics: MetricsJson[]; reports: MigrationReportJson[] }> => {
    const each = await collectEach();
    return { metrics: each.map((c) => c.metrics), reports: each.map((c) => c.report) };
  };
  const metrics = {
    contentType: own.contentType,
    text: async (): Promise<string> => {
      const { metrics: fromWorkers } = await collect();
      const all = [...fromWorkers, await probeMetrics.registry.getMetricsAsJSON(), await own.getMetricsAsJSON()];
      return AggregatorRegistry.aggregate(all).metrics();
    },
  };
  const report = {
    toJson: async (): Promise<MigrationReportJson> => mergeReports((await collect()).reports),
    toCsv: async (): Promise<string> => reportCsv(mergeReports((await collect()).reports)),
  };
  const warmUp = async (authorization?: string): Promise<WarmUpReport> => {
    const replies = await Promise.all(
      listening().map((member) =>
        ask(member, { type: 'legacy-gateway:warm-up', id: nextId++, authorization }, (r) => (r.type === 'legacy-gateway:warmed-up' ? r : undefined), WARM_UP_WAIT_MS),
      ),
    );
    const failed = replies.find((r) => r === undefined || r.error !== undefined);
    if (failed !== undefined) throw new Error(failed?.error ?? 'a worker did not finish its warm-up');
    const first = replies[0]?.report;
    if (first === undefined) throw new Error('no worker is listening');
    return first;
  };

  // --- the workers ---
  const fork = (): void => {
    const worker = cluster.fork();
    const member: Member = { worker, listening: false };
    members.set(worker.id, member);
    // A send to a worker that just died fails with EPIPE: an 'error' nobody listened for would end the primary, and every worker with it.
    worker.on('error', (err: Error) => logger.warn('worker channel failed', { worker_pid: worker.process.pid, error: err.message }));
    worker.on('message', (raw: unknown) => {
      const message = asWorkerMessage(raw);
      if (message === undefined) return;
      if (message.type === 'legacy-gateway:listening') {
        member.listening = true;
        port = message.port;
        if (listening().length === config.workers) announce();
        return;
      }
      pending.get(message.id)?.(message);
    });
    worker.on('exit', (code, signal) => {
      members.delete(worker.id);
      if (shuttingDown) return;
      if (!member.listening) {
        // It never started (a port taken, a bad setting it alone saw): starting it again would loop.
        logger.error('worker exited before it listened; stopping', { worker_pid: worker.process.pid, code, signal });
        void stop().finally(() => process.exit(1));
        return;
      }
      restarts.inc();
      logger.warn('worker exited; starting another', { worker_pid: worker.process.pid, code, signal });
      fork();
    });
  };

  const admin = createAdminApp({
    readiness: [
      { name: 'config', problem: () => null },
      { name: 'shutdown', problem: () => (shuttingDown ? 'shutting down' : null) },
      { name: 'workers', problem: () => (listening().length < config.workers ? `${listening().length} of ${config.workers} workers listening` : null) },
      ...(probe === null ? [] : [{ name: 'v4', problem: () => probe.check() }]),
    ],
    logger,
    warmUp,
    metrics,
    report,
    // The page, its timeline and /migration/diffs live in each worker (not gathered yet: README,
    // WORKERS); the API description is the same for all.
    openApiDocument: loadOpenApiDocument(),
    routes: {
      // Which worker served how many calls (the legacy answers do not say, and must not).
      '/workers': async () => {
        const each = await collectEach();
        const workers = each.map((c) => ({ pid: c.pid, calls: c.report.clients.reduce((n, client) => n + client.calls, c.report.overflow.calls) }));
        return adminJson(200, { workers: config.workers, listening: listening().length, restarts: (await restarts.get()).values[0]?.value ?? 0, by_worker: workers });
      },
    },
  });
  const adminServer = deps.createServer(admin);
  await new Promise<void>((resolve, reject) => {
    adminServer.once('error', reject);
    adminServer.listen(config.adminPort, config.adminHost, () => resolve());
  });
  const adminPort = (adminServer.address() as AddressInfo).port;
  let announced = false;
  function announce(): void {
    if (announced) return;
    announced = true;
    logger.info('gateway listening', { port, admin_port: adminPort, host: config.host, workers: config.workers, primary_pid: process.pid });
  }

  let stopped: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopped ??= (async () => {
      shuttingDown = true;
      probe?.stop();
      logger.info('shutting down: draining every worker', { workers: members.size, grace_ms: config.shutdownGraceMs });
      const exits = [...members.values()].map(
        ({ worker }) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const kill = setTimeout(() => worker.process.kill('SIGKILL'), config.shutdownGraceMs + EXIT_MARGIN_MS);
            worker.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (worker.isConnected()) worker.send({ type: 'legacy-gateway:shutdown' } satisfies PrimaryMessage);
          }),
      );
      await Promise.all(exits);
      await new Promise<void>((resolve) => adminServer.close(() => resolve()));
      adminServer.closeAllConnections();
      logger.info('stopped');
    })();
    return stopped;
  }
  exitAfterStopOnSignal(stop);

  for (let i = 0; i < config.workers; i++) fork();
}
