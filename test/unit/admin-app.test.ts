import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import request from 'supertest';
import { adminJson, createAdminApp, type AdminOptions } from '../../src/observability/admin-app';
import { createMemoryLogger } from '../integration/memory-logger';

/** The admin port's own routing (node:http, no framework): what each path and method gets. */
function admin(extra: Partial<AdminOptions> = {}): { app: ReturnType<typeof createAdminApp>; lines: string[] } {
  const { logger, lines } = createMemoryLogger('info');
  const app = createAdminApp({ readiness: [], logger, warmUp: () => Promise.resolve({} as never), ...extra });
  return { app, lines };
}

describe('admin port routing', () => {
  it('answers a GET route with JSON, its length and Cache-Control: no-store', async () => {
    const res = await request(admin().app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(JSON.stringify({ status: 'ok' }))));
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers HEAD for a GET route: the headers, no body', async () => {
    const res = await request(admin().app).head('/healthz');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.text ?? '').toBe('');
  });

  it('an unknown path is a JSON 404; a query does not change the route', async () => {
    const app = admin().app;
    const res = await request(app).get('/nothing-here?x=1');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'No /nothing-here on the admin port.' } });
    expect((await request(app).get('/healthz?x=1')).status).toBe(200);
  });

  it('a known path with another method is 405 with Allow', async () => {
    const app = admin().app;
    const post = await request(app).post('/healthz');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const get = await request(app).get('/cache/warm-up');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('starts a warm-up with the caller\'s Authorization and answers 202 at once', async () => {
    const seen: (string | undefined)[] = [];
    const { app } = admin({ warmUp: (authorization) => { seen.push(authorization); return new Promise(() => undefined); } });
    const res = await request(app).post('/cache/warm-up').set('authorization', 'Apikey k1').send('ignored body');
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ status: 'warm-up started' });
    expect(seen).toEqual(['Apikey k1']);
  });

  it('a route that fails is a JSON 500, logged, and the port keeps answering', async () => {
    const { app, lines } = admin({ routes: { '/broken': () => Promise.reject(new Error('boom')) } });
    const res = await request(app).get('/broken');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('INTERNAL_ERROR');
    expect(lines.some((line) => line.includes('admin route failed') && line.includes('boom'))).toBe(true);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('extra routes answer what they return, with their own headers', async () => {
    const { app } = admin({ routes: { '/workers': () => ({ ...adminJson(200, { workers: 2 }), headers: { 'x-extra': 'yes' } }) } });
    const res = await request(app).get('/workers');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ workers: 2 });
    expect(res.headers['x-extra']).toBe('yes');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('the report takes format=json (default) or csv, and refuses anything else, a repeated format included', async () => {
    const report = { toJson: () => ({ clients: [] }) as never, toCsv: () => 'client,calls\n' };
    const { app } = admin({ report });
    expect((await request(app).get('/migration/report')).status).toBe(200);
    const csv = await request(app).get('/migration/report?format=csv');
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe('inline; filename="migration-report.csv"');
    expect(csv.text).toBe('client,calls\n');
    expect((await request(app).get('/migration/report?format=xml')).status).toBe(400);
    expect((await request(app).get('/migration/report?format=csv&format=json')).status).toBe(400);
  });
});

describe('admin port request targets', () => {
  /** Sends raw request lines (what a client may send, not what supertest would). */
  async function rawStatus(listener: ReturnType<typeof createAdminApp>, target: string): Promise<string> {
    const server = http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      return await new Promise<string>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
        socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
        socket.on('error', reject);
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  it.each(['http://a:99999/healthz', 'http://[/x', 'http://%/'])('a target URL cannot parse (%s) is a 404, not a crash', async (target) => {
    const { app } = admin();
    expect(await rawStatus(app, target)).toBe('HTTP/1.1 404 Not Found');
    expect(await rawStatus(app, '/healthz')).toBe('HTTP/1.1 200 OK');
  });
});
