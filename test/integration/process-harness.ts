import { GATEWAY_NODE_FLAGS } from '../../src/node-flags';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import net from 'node:net';
import { keepForSweep } from './log-sweep';

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number | null>;
}

/**
 * `node dist/src/server.js` (built by `npm test`'s pretest), as `npm start` runs it; ports from
 * its start-up line, which needs LOG_LEVEL info or lower.
 */
export function spawnGateway(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [...GATEWAY_NODE_FLAGS, join(__dirname, '../../dist/src/server.js')], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      keepForSweep(stdout);
      resolve(code);
    }),
  );
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        stdout.push(line);
        if (line.includes('"gateway listening"')) {
          const start = JSON.parse(line) as { port: number; admin_port: number };
          resolve({ child, port: start.port, adminPort: start.admin_port, stdout, stderr, exited });
        }
        newline = buffered.indexOf('\n');
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    exited.then((code) => reject(new Error(`gateway exited with ${String(code)} before listening: ${stderr.join('')}`)), () => undefined);
    // Only the start is bounded: a gateway that listened lives as long as its test needs.
    const startTimer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gateway did not start within 15 s: ${stderr.join('')}`));
    }, 15_000);
    startTimer.unref();
    child.stdout?.on('data', function listening() {
      if (stdout.some((line) => line.includes('"gateway listening"'))) {
        clearTimeout(startTimer);
        child.stdout?.off('data', listening);
      }
    });
  });
}

/** Sends raw bytes on a fresh connection and collects everything until the server closes or `ms` pass. */
export function rawExchange(port: number, bytes: string | Buffer, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', done);
    socket.on('error', done);
    socket.write(bytes);
  });
}
