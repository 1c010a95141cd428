/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The page-side reader below runs in the browser (page.evaluate) and uses its DOM.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MigrationReportJson } from '../../src/observability/migration-report';
import { TIMELINE_SERIES, type TimelineJson } from '../../src/observability/report-timeline';
import { credentialFingerprint } from '../../src/resolution/credential-fingerprint';
import { LegacySimulator } from '../../src/legacy-simulator';
import type { ShadowReportJson } from '../../src/shadow';
import { V4Simulator } from '../../src/v4-simulator';
import { launchChromium } from './browser';
import { KEY_1, KEY_2 } from './harness';
import { callOnce } from './live-http';
import { spawnGateway, type GatewayProcess } from './process-harness';

/**
 * The migration page in a real browser (headless Debian Chromium) against the real gateway
 * process, after real legacy calls: the figures it shows are the report's, a hostile client
 * name is shown as text (no script runs, no element is injected), and a screenshot is kept.
 */

const KEY_3 = 'k3-test-key-0003';
const HOSTILE_NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> billing "sync" & co';
const SCREENSHOT = join(__dirname, '../../dist/screenshots/migration-page.png');
const JSON_TYPE = { 'content-type': 'application/json' };

type ReportWithTimeline = MigrationReportJson & { timeline: TimelineJson };

interface ShownClient {
  credential: string;
  address: string;
  name: string;
  verdictKind: string;
  verdict: string;
  fields: Record<string, string>;
  times: Record<string, string | null>;
  routes: Record<string, string>;
  windowRoutes: Record<string, string>;
  codes: Record<string, string>;
  share: string | null;
  bars: Array<{ bucket: string; series: string; count: number }>;
}

describe('the migration page in a real browser', () => {
  let sim: V4Simulator;
  let legacy: LegacySimulator;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    sim = new V4Simulator({ apiKeys: [KEY_1, KEY_2, KEY_3] });
    const simUrl = await sim.start(0);
    sim.createUser(KEY_2, { name: 'Ann', contact_details: { email: 'ann@example.com' }, external_id: 'B-1' });
    const configFile = join(mkdtempSync(join(tmpdir(), 'migration-page-')), 'config.json');
    // Names as an operator would give them; one of them hostile, as a careless or malicious edit could make it.
    const clientNames = { [credentialFingerprint(`Apikey ${KEY_1}`)]: 'CRM sync (gateway key)', [credentialFingerprint(`Apikey ${KEY_2}`)]: HOSTILE_NAME };
    // A brownout planned for the V4-only client (it changes nothing today; the page lists it).
    const brownouts = [{ client: credentialFingerprint(`Apikey ${KEY_3}`), from: new Date(Date.now() + 86_400_000).toISOString(), to: new Date(Date.now() + 90_000_000).toISOString() }];
    writeFileSync(configFile, JSON.stringify({ clientNames, brownouts }));
    // A legacy backend sharing the gateway-key tenant's users: reads are shadowed and compared.
    legacy = LegacySimulator.sharing(sim, KEY_1);
    const legacyUrl = await legacy.start(0);
    gateway = await spawnGateway({ V4_BASE_URL: simUrl, V4_API_KEY: KEY_1, CONFIG_FILE: configFile, MIGRATION_BUCKET_SECONDS: '2', LOG_LEVEL: 'info', SHADOW_MODE: 'v4-primary', LEGACY_BASE_URL: legacyUrl });
  }, 30_000);

  afterAll(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exited;
    await legacy.stop();
    await sim.stop();
  });

  it('shows the report\'s figures, every verdict, the hostile name as text, and is screenshotted', async () => {
    const { port, adminPort } = gateway;
    const asKey2 = { authorization: `Apikey ${KEY_2}` };
    const asKey3 = { authorization: `Apikey ${KEY_3}` };
    // Three rounds a bucket apart or more, so the charts have more than one bar (no assertion on timing).
    for (let round = 0; round < 3; round += 1) {
      // The gateway-key client: still on legacy, and still sending `service`.
      expect((await callOnce(port, 'POST', '/api/management/user', { headers: JSON_TYPE, body: JSON.stringify({ email: `sam${round}@example.com`, name: 'Sam', cid: `C-${round}` }) })).status).toBe(201);
      expect((await callOnce(port, 'GET', `/api/management/user/sam${round}%40example.com`)).status).toBe(200);
      expect((await callOnce(port, 'PUT', `/api/management/user/sam${round}%40example.com`, { headers: JSON_TYPE, body: '{"name":"Samantha"}' })).status).toBe(200);
      expect((await callOnce(port, 'GET', '/api/management/user?service=premium')).status).toBe(400);
      expect((await callOnce(port, 'GET', '/api/management/user/nobody%40example.com')).status).toBe(404);
      // The hostile-named client: lists users the legacy way, and already reads V4 directly.
      expect((await callOnce(port, 'GET', '/api/management/user', { headers: asKey2 })).status).toBe(200);
      expect((await callOnce(port, 'GET', '/api/user/management/v4/users?limit=5', { headers: asKey2 })).status).toBe(200);
      // A client fully on V4, through the pass-through.
      expect((await callOnce(port, 'GET', '/api/user/management/v4/users?limit=5', { headers: asKey3 })).status).toBe(200);
      if (round < 2) await new Promise((resolve) => setTimeout(resolve, 2_100));
    }
    // What V4 received: the creates and updates, and never a call carrying `service`.
    expect(sim.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
    expect(sim.requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
    expect(sim.requests.some((r) => r.url.toLowerCase().includes('service'))).toBe(false);

    // The shadow comparisons of those reads are over before the page is read (each has a deadline).
    let diffs: ShadowReportJson;
    for (;;) {
      diffs = JSON.parse((await callOnce(adminPort, 'GET', '/migration/diffs')).body) as ShadowReportJson;
      if (diffs.in_flight === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(diffs.totals.compared).toBeGreaterThan(0);
    expect(legacy.requests.length).toBe(diffs.totals.compared + diffs.totals.shadow_failed);

    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const dialogs: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      const response = await page.goto(`http://127.0.0.1:${adminPort}/migration`, { waitUntil: 'load', timeout: 15_000 });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
      const reportAnswer = await callOnce(adminPort, 'GET', '/migration/report');
      const report = JSON.parse(reportAnswer.body) as ReportWithTimeline;

      const shown = await page.evaluate(() => {
        const text = (root: ParentNode, selector: string): string | null => root.querySelector(selector)?.textContent ?? null;
        const byAttr = (root: ParentNode, attr: string): Record<string, string> =>
          Object.fromEntries([...root.querySelectorAll(`[${attr}]`)].map((el) => [el.getAttribute(attr) ?? '', el.textContent ?? '']));
        const clients = [...document.querySelectorAll('section.client')].map((section) => ({
          credential: section.getAttribute('data-credential') ?? '',
          address: section.getAttribute('data-address') ?? '',
          name: text(section, '[data-field="name"]') ?? '',
          verdictKind: section.querySelector('[data-field="verdict"]')?.getAttribute('data-kind') ?? '',
          verdict: text(section, '[data-field="verdict"]') ?? '',
          fields: Object.fromEntries(['legacy_calls', 'v4_calls', 'other_calls', 'errors'].map((field) => [field, text(section, `[data-field="${field}"]`) ?? ''])),
          times: Object.fromEntries(['first_seen', 'last_seen', 'last_legacy_call'].map((field) => [field, section.querySelector(`[data-field="${field}"]`)?.getAttribute('datetime') ?? null])),
          routes: byAttr(section, 'data-route'),
          windowRoutes: byAttr(section, 'data-window-route'),
          codes: byAttr(section, 'data-code-count'),
          share: section.querySelector('[data-field="legacy_share"]')?.getAttribute('data-value') ?? null,
          bars: [...section.querySelectorAll('svg rect[data-series]')].map((rect) => ({
            bucket: rect.getAttribute('data-bucket') ?? '',
            series: rect.getAttribute('data-series') ?? '',
            count: Number(rect.getAttribute('data-count')),
          })),
        }));
        return {
          clients,
          scripts: document.querySelectorAll('script').length,
          images: document.querySelectorAll('img').length,
          pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
          refresh: document.querySelector('meta[http-equiv="refresh"]')?.getAttribute('content') ?? null,
          rules: [...document.querySelectorAll('.rules dd')].map((dd) => dd.textContent ?? ''),
        };
      });

      // The hostile name is shown as the very text it is, and nothing in it ran or became an element.
      expect(shown.scripts).toBe(0);
      expect(shown.images).toBe(0);
      expect(shown.pwned).toBeNull();
      expect(dialogs).toEqual([]);
      const key2 = credentialFingerprint(`Apikey ${KEY_2}`);
      expect(shown.clients.find((client) => client.credential === key2)?.name).toBe(HOSTILE_NAME);
      expect(shown.refresh).toBe('30');
      expect(shown.rules).toHaveLength(3);

      // Every client of the report is on the page, with the report's figures.
      expect(shown.clients.map((client) => `${client.credential} ${client.address}`).sort()).toEqual(report.clients.map((client) => `${client.credential ?? ''} ${client.address}`).sort());
      for (const client of report.clients) {
        const onPage = shown.clients.find((c) => c.credential === (client.credential ?? '') && c.address === client.address) as ShownClient;
        expect(onPage.fields).toEqual({ legacy_calls: String(client.legacy_calls), v4_calls: String(client.v4_calls), other_calls: String(client.other_calls), errors: String(client.errors) });
        expect(onPage.times).toEqual({ first_seen: client.first_seen, last_seen: client.last_seen, last_legacy_call: client.last_legacy_call });
        expect(onPage.routes).toEqual({ ...Object.fromEntries(Object.entries(client.legacy_routes).map(([route, count]) => [route, String(count)])), 'legacy-other': String(client.legacy_other) });
        expect(onPage.codes).toEqual(Object.fromEntries(Object.entries(client.rejections).map(([code, count]) => [code, String(count)])));
        expect(onPage.share).toBe(client.legacy_share === null ? null : String(client.legacy_share));
        // The chart: every bar is the timeline's count for its bucket and series, and no count is left out.
        const series = report.timeline.clients.find((c) => c.credential === client.credential && c.address === client.address);
        expect(series).toBeDefined();
        const fromTimeline: Array<{ bucket: string; series: string; count: number }> = [];
        report.timeline.bucket_starts.forEach((bucket, index) => {
          for (const name of TIMELINE_SERIES) {
            const count = series?.series[name][index] ?? 0;
            if (count > 0) fromTimeline.push({ bucket, series: name, count });
          }
        });
        expect(onPage.bars).toEqual(fromTimeline);
        for (const name of TIMELINE_SERIES) expect(onPage.windowRoutes[name]).toBe(String((series?.series[name] ?? []).reduce((sum, count) => sum + count, 0)));
      }

      // The verdicts, each by its rule.
      const verdictOf = (credential: string): string => shown.clients.find((client) => client.credential === credential)?.verdict ?? '';
      expect(verdictOf(credentialFingerprint(`Apikey ${KEY_1}`))).toBe('sending service');
      expect(verdictOf(key2)).toBe('still calling GET /api/management/user');
      expect(verdictOf(credentialFingerprint(`Apikey ${KEY_3}`))).toBe('ready to switch off');
      // The chart has more than one bucket with calls (the rounds were spread out).
      const gatewayKeyBars = shown.clients.find((client) => client.credential === credentialFingerprint(`Apikey ${KEY_1}`))?.bars ?? [];
      expect(new Set(gatewayKeyBars.map((bar) => bar.bucket)).size).toBeGreaterThan(1);

      // The shadow comparison's summary is /migration/diffs' (expected differences count as equal),
      // and the planned brownout is listed as planned.
      const shadowShown = await page.evaluate(() => ({
        equal: document.querySelector('[data-field="shadow-equal"]')?.textContent ?? null,
        different: document.querySelector('[data-field="shadow-different"]')?.textContent ?? null,
        noise: document.querySelector('[data-field="shadow-noise"]')?.textContent ?? null,
        brownouts: [...document.querySelectorAll('[data-brownout-state]')].map((row) => row.getAttribute('data-brownout-state')),
      }));
      expect(shadowShown).toEqual({
        equal: String(diffs.totals.equal + diffs.totals.expected),
        different: String(diffs.totals.different),
        noise: String(diffs.totals.noise),
        brownouts: ['planned'],
      });

      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
