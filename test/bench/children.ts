/**
 * The processes a bench run starts (simulator, bare proxy, gateways), and the one place that
 * ends them: every child is registered here and killed when the bench exits, fails or is
 * interrupted. Also what /proc says about a child (CPU time, peak RSS).
 */
import { GATEWAY_NODE_FLAGS } from '../../src/node-flags';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { ENV_SETTINGS } from '../../src/config/env';
import { call } from './serve';
import { isSimReply, type ListeningLine, type RequestCounts, type SimCommand, type SimReply, type TenantSeeds } from './protocol';

/** dist/ root of the compiled repository (this file runs as dist/test/bench/children.js). */
const DIST = join(__dirname, '..', '..');
export const GATEWAY_SCRIPT = join(DIST, 'src', 'server.js');
const ORPHAN_GUARD = join(__dirname, 'orphan-guard.js');

const children = new Set<ChildProcess>();
let cleanupInstalled = false;

/** Kills every child still running (SIGKILL: nothing of theirs is worth waiting for). Synchronous. */
export function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it is gone. */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    children.delete(child);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

interface Spawned {
  readonly child: ChildProcess;
  /** The last few KB the child wrote on stderr (for error messages). */
  stderrTail(): string;
}

/** stdout: a pipe the bench reads, or a file the child writes to (/dev/null, a log file). */
function spawnTracked(args: readonly string[], env: NodeJS.ProcessEnv, stdout: 'pipe' | { readonly file: string }): Spawned {
  installCleanup();
  const fd = stdout === 'pipe' ? null : openSync(stdout.file, 'a');
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', fd ?? 'pipe', 'pipe', 'ipc'] });
  if (fd !== null) closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000);
  });
  return { child, stderrTail: () => tail };
}

/** Resolves the child's first stdout line, parsed as a ListeningLine; then discards the rest. */
function listeningLine(spawned: Spawned, what: string, timeoutMs: number): Promise<ListeningLine> {
  const { child } = spawned;
  return new Promise((resolve, reject) => {
    let buffered = '';
    let done = false;
    const finish = (err: Error | null, line?: ListeningLine): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      if (err !== null) reject(err);
      else if (line !== undefined) resolve(line);
    };
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      try {
        finish(null, JSON.parse(buffered.slice(0, newline)) as ListeningLine);
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const onExit = (code: number | null): void => finish(new Error(`${what} exited (${String(code)}) before listening: ${spawned.stderrTail()}`));
    const timer = setTimeout(() => finish(new Error(`${what} did not listen within ${timeoutMs} ms: ${spawned.stderrTail()}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** The environment of a child: PATH and what it is told, nothing inherited that could change it. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', NODE_ENV: 'production', ...extra };
}

export class SimProcess {
  private nextId = 1;
  private readonly pending = new Map<number, (reply: SimReply) => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    /** Set by sim-process.js with BENCH_LEGACY_TENANT only: its legacy simulator, sharing the V4 simulator's users. */
    readonly legacyUrl?: string,
  ) {
    child.on('message', (message: unknown) => {
      if (!isSimReply(message)) return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message);
    });
  }

  /** `extraEnv`: BENCH_LEGACY_TENANT adds a legacy simulator sharing that tenant (bench:shadow). */
  static async start(tenants: TenantSeeds, extraEnv: Readonly<Record<string, string>> = {}): Promise<SimProcess> {
    const spawned = spawnTracked([join(__dirname, 'sim-process.js')], childEnv({ ...extraEnv, BENCH_SIM_TENANTS: JSON.stringify(tenants) }), 'pipe');
    const line = await listeningLine(spawned, 'the simulator', 60_000);
    return new SimProcess(spawned.child, line.url, line.legacyUrl);
  }

  private ask(command: SimCommand): Promise<SimReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`simulator did not answer ${command.type} within 60 s`)), 60_000);
      this.pending.set(command.id, (reply) => {
        clearTimeout(timer);
        if (reply.type === 'error') reject(new Error(`simulator: ${reply.message}`));
        else resolve(reply);
      });
      this.child.send(command);
    });
  }

  async ids(key: string, count: number): Promise<readonly string[]> {
    const reply = await this.ask({ id: this.nextId++, type: 'ids', key, count });
    if (reply.type !== 'ids') throw new Error(`simulator answered ${reply.type} to ids`);
    return reply.ids;
  }

  async seed(key: string, count: number): Promise<number> {
    const reply = await this.ask({ id: this.nextId++, type: 'seed', key, count });
    if (reply.type !== 'seeded') throw new Error(`simulator answered ${reply.type} to seed`);
    return reply.ms;
  }

  async counts(): Promise<RequestCounts> {
    const reply = await this.ask({ id: this.nextId++, type: 'counts' });
    if (reply.type !== 'counts') throw new Error(`simulator answered ${reply.type} to counts`);
    return reply.counts;
  }

  async reset(): Promise<void> {
    await this.ask({ id: this.nextId++, type: 'reset' });
  }
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pid: number;
}

export async function startBareProxy(target: string, nodeArgs: readonly string[] = []): Promise<ServiceProcess> {
  return startBaseline('bare-proxy.js', 'the bare proxy', target, nodeArgs);
}

/** The hand-written node:http pipe (pipe-proxy.ts). */
export async function startPipeProxy(target: string, nodeArgs: readonly string[] = []): Promise<ServiceProcess> {
  return startBaseline('pipe-proxy.js', 'the pipe proxy', target, nodeArgs);
}

async function startBaseline(script: string, what: string, target: string, nodeArgs: readonly string[]): Promise<ServiceProcess> {
  const spawned = spawnTracked([...nodeArgs, join(__dirname, script)], childEnv({ BENCH_TARGET: target }), 'pipe');
  const line = await listeningLine(spawned, what, 20_000);
  return { child: spawned.child, url: line.url, pid: spawned.child.pid ?? 0 };
}

/** A port free right now on 127.0.0.1 (the gateway is told its ports; see startGateway): listen on 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface GatewayOptions {
  readonly v4BaseUrl: string;
  readonly apiKey: string;
  readonly verifyCachedWrites: boolean;
  readonly logLevel: 'info' | 'warn';
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  /** Where its stdout (the log) goes; default /dev/null. */
  readonly logFile?: string;
  /** More settings (REDIS_URL for bench:fleet, WORKERS for bench:workers). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface GatewayProcess extends ServiceProcess {
  readonly adminUrl: string;
}

/**
 * `node dist/src/server.js`, as production starts it, with its stdout (the JSON log lines) going
 * to /dev/null (or `logFile`): the gateway still formats and writes every line, nobody in the
 * bench pays for reading them. So the ports cannot come from the start-up line (which LOG_LEVEL=warn would not
 * print anyway): the bench picks two free ports and waits for the admin port's /readyz.
 */
export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  // Nothing from the bench's own environment may change the gateway (CONFIG_FILE, LOG_LEVEL, ...).
  for (const name of [...ENV_SETTINGS.map((s) => s.env), 'CONFIG_FILE']) {
    if (process.env[name] !== undefined) process.stderr.write(`bench: ignoring ${name} from the environment for the gateway processes\n`);
  }
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let adminPort = await freePort();
    while (adminPort === port) adminPort = await freePort();
    const env = childEnv({
      V4_BASE_URL: options.v4BaseUrl,
      V4_API_KEY: options.apiKey,
      HOST: '127.0.0.1',
      PORT: String(port),
      ADMIN_HOST: '127.0.0.1',
      ADMIN_PORT: String(adminPort),
      VERIFY_CACHED_WRITES: String(options.verifyCachedWrites),
      LOG_LEVEL: options.logLevel,
      SHUTDOWN_GRACE_MS: '1000',
      ...options.env,
    });
    // As `npm start` and the image run it: the gateway's own V8 flags first.
    const spawned = spawnTracked([...GATEWAY_NODE_FLAGS, ...(options.nodeArgs ?? []), '-r', ORPHAN_GUARD, GATEWAY_SCRIPT], env, { file: options.logFile ?? '/dev/null' });
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    try {
      await waitReady(spawned, adminUrl, 20_000);
      return { child: spawned.child, url: `http://127.0.0.1:${port}`, adminUrl, pid: spawned.child.pid ?? 0 };
    } catch (err) {
      lastError = err instanceof Error ? err : new Error(String(err));
      await stopChild(spawned.child, 500);
    }
  }
  throw lastError ?? new Error('gateway did not start');
}

async function waitReady(spawned: Spawned, adminUrl: string, timeoutMs: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (spawned.child.exitCode !== null || spawned.child.signalCode !== null) {
        throw new Error(`gateway exited (${String(spawned.child.exitCode ?? spawned.child.signalCode)}) before it was ready: ${spawned.stderrTail()}`);
      }
      try {
        const res = await call(agent, adminUrl, 'GET', '/readyz');
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`gateway not ready within ${timeoutMs} ms: ${spawned.stderrTail()}`);
  } finally {
    agent.destroy();
  }
}

// ---- /proc ----

let clockTicks: number | null = null;
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU time a process has used so far, in ms (from /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

/** Busy and steal CPU time of the whole machine so far, in ms (from /proc/stat). */
export function machineCpuMs(): { busyMs: number; stealMs: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const ms = (ticks: number): number => (ticks * 1000) / ticksPerSecond();
  return { busyMs: ms(user + nice + system + irq + softirq), stealMs: ms(steal) };
}

/** Peak (VmHWM) and current (VmRSS) resident set size of a process, in MB. */
export function memoryMb(pid: number): { peakMb: number; rssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMb: round1(kb('VmHWM') / 1024), rssMb: round1(kb('VmRSS') / 1024) };
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Runs a bench entry point: every child killed and the process exited, whatever happens. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().then(
    () => {
      killAll();
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      killAll();
      process.exit(1);
    },
  );
}
