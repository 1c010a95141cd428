import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import newman, { type NewmanRunSummary } from 'newman';
import { buildCollection, buildDemoEnvironment } from '../postman/collection-builder';
import { keepForSweep } from './log-sweep';

/**
 * The Postman collection, run by newman against `npm run demo` (the built demo: the simulator and
 * the gateway, on free ports): every assertion passes. Run again through a proxy that undoes the
 * `cid` translation in answers, the same collection fails: its checks can catch a drift.
 */

const root = join(__dirname, '../..');
const collection = JSON.parse(readFileSync(join(root, 'config/postman/legacy-facade.postman_collection.json'), 'utf8')) as object;
const environment = JSON.parse(readFileSync(join(root, 'config/postman/demo.postman_environment.json'), 'utf8')) as object;

interface Demo {
  readonly child: ChildProcess;
  readonly gatewayUrl: string;
  readonly stdout: string[];
  readonly exited: Promise<number | null>;
}

function startDemo(): Promise<Demo> {
  const child = spawn(process.execPath, [join(root, 'dist/src/demo.js')], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /Gateway: +(http:\/\/127\.0\.0\.1:\d+)/.exec(text);
      if (match !== null) resolve({ child, gatewayUrl: match[1] as string, stdout, exited });
    });
    child.stdout?.on('end', () => stdout.push(...text.split('\n').filter((line) => line.startsWith('{'))));
    exited.then((code) => reject(new Error(`the demo exited with ${String(code)} before it was ready`)), () => undefined);
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the demo did not start within 15 s'));
    }, 15_000).unref();
  });
}

function runNewman(baseUrl: string): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    newman.run({ collection, environment, envVar: [{ key: 'baseUrl', value: baseUrl }], reporters: [], timeoutRequest: 10_000, timeout: 60_000 }, (err, summary) => (err ? reject(err) : resolve(summary)));
  });
}

/** A proxy to `target` that renames `cid` back to `external_id` in every answer: a translation gone wrong. */
async function driftingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers, timeout: 10_000 }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () => {
        const body = Buffer.from(Buffer.concat(chunks).toString('utf8').replace(/"cid":/g, '"external_id":'));
        const headers = { ...answer.headers };
        if (headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
        res.writeHead(answer.statusCode ?? 502, headers);
        res.end(body);
      });
    });
    upstream.on('timeout', () => upstream.destroy());
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('the Postman collection, run by newman against the demo', () => {
  let demo: Demo;

  beforeAll(async () => {
    demo = await startDemo();
  }, 20_000);

  afterAll(async () => {
    demo.child.kill('SIGTERM');
    await demo.exited;
    keepForSweep(demo.stdout);
  });

  it('is what the builder makes of the OpenAPI document today (run `npm run postman:build` after editing it)', () => {
    const doc = JSON.parse(readFileSync(join(root, 'config/openapi/legacy-facade.openapi.json'), 'utf8')) as Parameters<typeof buildCollection>[0];
    expect(collection).toEqual(buildCollection(doc));
    expect(environment).toEqual(buildDemoEnvironment());
  });

  it('passes every assertion against the demo gateway', async () => {
    const summary = await runNewman(demo.gatewayUrl);
    const failures = summary.run.failures.map((failure) => `${failure.source?.name ?? '?'}: ${failure.error.message}`);
    expect(failures).toEqual([]);
    expect(summary.run.stats.requests.total).toBe(13);
    // Status, headers, the schema and the value checks: 52 assertions, none skipped.
    expect(summary.run.stats.assertions).toEqual(expect.objectContaining({ total: 52, failed: 0 }));
  }, 60_000);

  it('fails when the answers drift from the document (cid left as external_id)', async () => {
    const proxy = await driftingProxy(demo.gatewayUrl);
    try {
      const summary = await runNewman(proxy.url);
      const failed = new Set(summary.run.failures.map((failure) => `${failure.source?.name ?? '?'} / ${failure.error.test ?? failure.error.message}`));
      expect([...failed]).toEqual(expect.arrayContaining(['Create a user (POST → V4 POST, cid → external_id) / body as the OpenAPI document describes it', 'Read the user by email / body as the OpenAPI document describes it']));
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
