import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp, type GatewayApp } from '../../src/app';
import { loadConfig, type GatewayConfig } from '../../src/config/load';
import type { RawConfig } from '../../src/config/schema';
import { createAdminApp, type ReadinessCheck } from '../../src/observability/admin-app';
import { createMemoryLogger } from './memory-logger';
import { GatewayMetrics } from '../../src/observability/metrics';
import { MigrationReport } from '../../src/observability/migration-report';
import { V4Probe } from '../../src/observability/v4-probe';
import { V4Simulator } from '../../src/v4-simulator';
import { KEY_1, KEY_2 } from './harness';
import { keepForSweep } from './log-sweep';

/** A fixed key for the email hash, so that tests can compute the hash they expect. */
export const HASH_KEY = 'observability-test-hash-key';

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown>;

export interface ObservedStack {
  readonly sim: V4Simulator;
  readonly config: GatewayConfig;
  readonly gateway: GatewayApp;
  readonly lines: string[];
  readonly metrics: GatewayMetrics;
  readonly report: MigrationReport;
  readonly probe: V4Probe | null;
  readonly admin: http.RequestListener;
  /** Set to make /readyz report the shutdown check failing. */
  shuttingDown: boolean;
  /** The translation lines written so far, parsed. */
  translations(): LogLine[];
  /** The one translation line of a request id, once written (fails the test unless there is exactly one). */
  lineOf(requestId: string): Promise<LogLine>;
  close(): Promise<void>;
}

export interface ObservedOptions {
  /** Where the gateway sends V4 calls; default the simulator. */
  readonly v4BaseUrl?: string;
  readonly simKeys?: string[];
  /** Build a probe (not started) with these options; the probe's key is config.v4ApiKey. */
  readonly probe?: { intervalMs?: number; staleAfterMs?: number; apiKey?: string };
  readonly maxClients?: number;
  readonly logLevel?: string;
  readonly startedAt?: Date;
}

/**
 * The gateway as server.ts wires it (metrics and the migration report as call observers, the
 * admin app over them), with the V4 simulator on port 0 and an in-memory logger.
 */
export async function startObservedStack(overrides: Partial<RawConfig> = {}, options: ObservedOptions = {}): Promise<ObservedStack> {
  const sim = new V4Simulator({ apiKeys: options.simKeys ?? [KEY_1, KEY_2] });
  const simUrl = await sim.start(0);
  const { logger, lines, translations: translationSink } = createMemoryLogger(options.logLevel ?? 'debug');
  const config = loadConfig({ env: {}, overrides: { v4BaseUrl: options.v4BaseUrl ?? simUrl, v4ApiKey: KEY_1, logHashKey: HASH_KEY, ...overrides } });
  const metrics = new GatewayMetrics();
  const report = new MigrationReport({ maxClients: options.maxClients });
  const gateway = createApp(config, { logger, translations: translationSink, observers: [metrics.observe, report.observe], startedAt: options.startedAt });
  const probe =
    options.probe === undefined
      ? null
      : new V4Probe({ baseUrl: config.v4BaseUrl as string, apiKey: options.probe.apiKey ?? (config.v4ApiKey as string), intervalMs: options.probe.intervalMs ?? 60_000, staleAfterMs: options.probe.staleAfterMs, logger });
  metrics.attach({ resolver: gateway.resolver, v4: gateway.v4, probe, report });
  const readiness: ReadinessCheck[] = [
    { name: 'config', problem: () => null },
    { name: 'shutdown', problem: () => (stack.shuttingDown ? 'shutting down' : null) },
  ];
  if (probe !== null) readiness.push({ name: 'v4', problem: () => probe.check() });
  const admin = createAdminApp({ readiness, logger, warmUp: gateway.warmUp, metrics, report });
  const translations = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine).filter((line) => line.message === 'translation');
  const stack: ObservedStack = {
    sim,
    config,
    gateway,
    lines,
    metrics,
    report,
    probe,
    admin,
    shuttingDown: false,
    translations,
    lineOf: async (requestId) => {
      await untilLogged(stack, requestId);
      const found = translations().filter((line) => line.request_id === requestId);
      expect(found).toHaveLength(1);
      return found[0] as LogLine;
    },
    close: async () => {
      keepForSweep(lines, config.logEmails === 'plain');
      probe?.stop();
      gateway.close();
      await sim.stop();
    },
  };
  return stack;
}

/** A URL on which nothing listens (a port just freed): V4 down. */
export async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** The log lines end with the response's close: wait until the line of `requestId` is there. */
export async function untilLogged(stack: ObservedStack, requestId: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stack.translations().some((line) => line.request_id === requestId)) {
    if (Date.now() > deadline) throw new Error(`no translation line for ${requestId}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: Sample[];
  /** `# TYPE` of each metric family. */
  readonly types: ReadonlyMap<string, string>;
  /**
   * The sum of the samples named `name` whose labels include `labels` (0 when none match:
   * a labelled counter not yet incremented is absent from the text).
   */
  value(name: string, labels?: Record<string, string>): number;
  has(name: string, labels?: Record<string, string>): boolean;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    if (eq === -1 || text[eq + 1] !== '"') throw new Error(`bad labels in ${line}`);
    const name = text.slice(i, eq).trim();
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j += 1) {
      if (text[j] === '\\') {
        j += 1;
        value += text[j] === 'n' ? '\n' : text[j];
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`unterminated label value in ${line}`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i += 1;
  }
  return labels;
}

/** A small parser of the Prometheus text format (0.0.4): enough to read back what the gateway wrote. */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type !== null) types.set(type[1] as string, type[2] as string);
      else if (!line.startsWith('# HELP ')) throw new Error(`unexpected comment: ${line}`);
      continue;
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/.exec(line);
    if (match === null) throw new Error(`not a sample line: ${line}`);
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    // prom-client writes NaN as `Nan`; Prometheus reads floats case-insensitively (Go's ParseFloat).
    if (Number.isNaN(value) && raw.toLowerCase() !== 'nan') throw new Error(`bad value in ${line}`);
    samples.push({ name: match[1] as string, labels: match[2] === undefined ? {} : parseLabels(match[2], line), value });
  }
  const matching = (name: string, labels: Record<string, string>): Sample[] =>
    samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  return {
    samples,
    types,
    value: (name, labels = {}) => matching(name, labels).reduce((sum, sample) => sum + sample.value, 0),
    has: (name, labels = {}) => matching(name, labels).length > 0,
  };
}

/** GET /metrics on the admin app, checked and parsed. */
export async function scrape(admin: http.RequestListener): Promise<Exposition> {
  const res = await request(admin).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.text);
}
