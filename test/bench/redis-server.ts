import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort } from './children';

/** Whether Debian's redis-server is on PATH (`.ci/run` installs it). */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Sends one inline command and resolves its first reply line (or null: no answer within `ms`). */
export function redisInline(port: number, command: string, ms = 1000): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const done = (value: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done(null), ms);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString();
      const newline = answer.indexOf('\r\n');
      if (newline !== -1) done(answer.slice(0, newline));
    });
    socket.on('error', () => done(null));
    socket.write(`${command}\r\n`);
  });
}

/**
 * A real redis-server on a loopback port, no persistence, owned by the test: started, stopped
 * (SIGKILL: as a crash), restarted on the same port, paused (SIGSTOP) and resumed (SIGCONT).
 */
export class RedisServer {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
    this.child = child;
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      if ((await redisInline(this.port, 'PING', 200)) === '+PONG') return;
      if (child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGKILL');
    throw new Error(`redis-server did not answer on port ${this.port}`);
  }

  /** Killed at once, as a crash: connections are reset. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await gone;
  }

  /** Started again on the same port, empty (no persistence): a Redis restart. */
  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  /** Frozen: connections stay open, nothing answers (a slow or hung Redis). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  stop(): Promise<void> {
    return this.kill();
  }
}
