import type { ClientReport, MigrationReportJson } from '../migration-report';
import { LEGACY_SERIES, type TimelineClient, type TimelineJson } from '../report-timeline';
import { shortTime, timelineChart } from './chart';
import { escapeHtml, escapeWithCode } from './escape';
import { SERIES_COLOUR, SERIES_LABEL } from './routes';
import { verdictFor, verdictRules, type Verdict } from './verdict';
import { brownoutSection } from './brownouts';
import type { BrownoutConfig } from '../../config/schema';
import { PAGE_STYLE } from './style';

/**
 * What a shadow comparison (legacy answer vs V4 answer for the same call) found, if the gateway
 * runs one: the page shows it when given, and says nothing of it otherwise.
 */
export interface ShadowSummary {
  readonly equal: number;
  readonly different: number;
  /** Differences judged irrelevant (timestamps, ordering...). */
  readonly noise: number;
  /** The paths (field paths or routes) that differed most, most first. */
  readonly topPaths: ReadonlyArray<{ readonly path: string; readonly count: number }>;
}

export interface MigrationPageInput {
  readonly report: MigrationReportJson;
  readonly timeline: TimelineJson;
  /** Names operators gave credential fingerprints (CONFIG_FILE `clientNames`). */
  readonly clientNames: Readonly<Record<string, string>>;
  readonly shadow?: ShadowSummary | undefined;
  /** BROWNOUTS, shown with where each stands now. */
  readonly brownouts?: readonly BrownoutConfig[];
  readonly refreshSeconds: number;
  readonly now: number;
}

/** The whole page: server-rendered, readable without JavaScript (it has none), refreshing itself. */
export function renderMigrationPage(input: MigrationPageInput): string {
  const { report, timeline } = input;
  const windowMs = timeline.bucket_seconds * 1000 * timeline.bucket_starts.length;
  const windowText = duration(windowMs);
  const context = { now: input.now, windowMs, since: Date.parse(report.since) };
  const series = new Map<string, TimelineClient>(timeline.clients.map((client) => [clientKey(client.credential, client.address), client]));
  const rows = report.clients.map((client) => {
    const chart = series.get(clientKey(client.credential, client.address));
    return { client, chart, verdict: verdictFor(client, chart, context) };
  });
  const counts = { 'sending-service': 0, 'still-calling': 0, ready: 0 };
  for (const row of rows) counts[row.verdict.kind] += 1;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${input.refreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Legacy API migration</title>
<style>${PAGE_STYLE}</style></head>
<body>
<header><h1>Legacy API migration</h1>
<p>Who still calls the legacy user-management API through this gateway. Counting since <time data-field="since" datetime="${escapeHtml(report.since)}">${escapeHtml(shortTime(report.since))}</time> (this process's start: the report is in memory, per replica);
page made at <time datetime="${escapeHtml(report.generated_at)}">${escapeHtml(shortTime(report.generated_at))}</time>, refreshed every ${input.refreshSeconds} s. JSON: <a href="/migration/report">/migration/report</a>.</p>
<p class="summary"><span data-field="clients">${rows.length}</span> clients: <span class="verdict ready">${counts.ready} ready to switch off</span> <span class="verdict still-calling">${counts['still-calling']} still calling</span> <span class="verdict sending-service">${counts['sending-service']} sending <code>service</code></span></p>
${overflowNote(report, timeline)}</header>
<main>
${rulesSection(windowText, timeline.bucket_seconds)}
${input.shadow === undefined ? '' : shadowSection(input.shadow)}
${brownoutSection(input.brownouts ?? [], input.now, input.clientNames)}
${legend()}
${rows.length === 0 ? '<p>No client has called yet.</p>' : rows.map((row) => clientSection(row.client, row.chart, row.verdict, timeline, input.clientNames)).join('\n')}
</main></body></html>
`;
}

function clientKey(credential: string | null, address: string): string {
  return `${credential ?? ''} ${address}`;
}

function overflowNote(report: MigrationReportJson, timeline: TimelineJson): string {
  if (report.overflow.calls === 0 && timeline.overflow_calls === 0) return '';
  return `<p class="warn">The report is full (${report.max_clients} clients): ${report.overflow.calls} calls of clients not listed (${report.overflow.legacy_calls} legacy). The charts are full (${timeline.max_clients} clients): ${timeline.overflow_calls} calls not charted.</p>`;
}

function rulesSection(windowText: string, bucketSeconds: number): string {
  const items = verdictRules(windowText)
    .map((rule) => `<dt><span class="verdict ${rule.kind}">${escapeWithCode(rule.headline)}</span></dt><dd>${escapeWithCode(rule.rule)}</dd>`)
    .join('');
  return `<section class="rules"><h2>How the verdicts are made</h2><p>Applied in this order; the first that holds is the verdict. The window is the chart's: the last ${escapeHtml(windowText)}, in buckets of ${escapeHtml(duration(bucketSeconds * 1000))}.</p><dl>${items}</dl></section>`;
}

function shadowSection(shadow: ShadowSummary): string {
  const paths = shadow.topPaths.map((entry) => `<li><code>${escapeHtml(entry.path)}</code>: <span data-field="shadow-path-count">${entry.count}</span></li>`).join('');
  return `<section class="shadow"><h2>Shadow comparison</h2><p>Answers compared: <span data-field="shadow-equal">${shadow.equal}</span> equal, <span data-field="shadow-different">${shadow.different}</span> different, <span data-field="shadow-noise">${shadow.noise}</span> noise only.</p>${paths === '' ? '' : `<p>Differing most:</p><ul>${paths}</ul>`}</section>`;
}

function legend(): string {
  const items = [...LEGACY_SERIES, 'v4-passthrough' as const]
    .map((series) => `<li><span class="swatch" style="background:${SERIES_COLOUR[series]}"></span>${escapeHtml(SERIES_LABEL[series])}</li>`)
    .join('');
  return `<ul class="legend" aria-label="chart colours">${items}</ul>`;
}

function clientSection(client: ClientReport, chart: TimelineClient | undefined, verdict: Verdict, timeline: TimelineJson, names: Readonly<Record<string, string>>): string {
  const name = client.credential === null ? undefined : names[client.credential];
  const title = name === undefined ? `client ${client.credential ?? '(no credentials)'}` : name;
  const routeRows = LEGACY_SERIES.map((series) => {
    const total = series === 'legacy-other' ? client.legacy_other : client.legacy_routes[series];
    const inWindow = chart === undefined ? '' : String(chart.series[series].reduce((sum, count) => sum + count, 0));
    return `<tr><th scope="row"><span class="swatch" style="background:${SERIES_COLOUR[series]}"></span>${escapeHtml(SERIES_LABEL[series])}</th><td data-route="${series}">${total}</td><td data-window-route="${series}">${inWindow}</td></tr>`;
  }).join('');
  const v4InWindow = chart === undefined ? '' : String(chart.series['v4-passthrough'].reduce((sum, count) => sum + count, 0));
  const codes = Object.entries(client.rejections);
  const codeList = codes.length === 0 ? '<span class="muted">none</span>' : codes.map(([code, count]) => `<code data-code="${escapeHtml(code)}">${escapeHtml(code)}</code>&nbsp;×&nbsp;<span data-code-count="${escapeHtml(code)}">${count}</span>`).join(', ');
  const share = client.legacy_share;
  const shareBar =
    share === null
      ? '<span class="muted">no legacy or V4 calls</span>'
      : `<span class="share"><span class="share-legacy" style="width:${(share * 100).toFixed(1)}%"></span></span> <span data-field="legacy_share" data-value="${share}">${(share * 100).toFixed(1)} % legacy</span>, ${((1 - share) * 100).toFixed(1)} % V4 pass-through`;
  return `<section class="client" data-credential="${escapeHtml(client.credential ?? '')}" data-address="${escapeHtml(client.address)}">
<h2><span data-field="name">${escapeHtml(title)}</span> <small>at <span data-field="address">${escapeHtml(client.address)}</span>${name === undefined ? '' : ` · credential <code data-field="credential">${escapeHtml(client.credential)}</code>`}</small></h2>
<p class="verdict-line"><span class="verdict ${verdict.kind}" data-field="verdict" data-kind="${verdict.kind}">${escapeWithCode(verdict.headline)}</span> <span>${escapeWithCode(verdict.because)}</span></p>
<div class="columns"><div>
<table><thead><tr><th scope="col">call</th><th scope="col">since start</th><th scope="col">in window</th></tr></thead><tbody>${routeRows}
<tr class="v4"><th scope="row"><span class="swatch" style="background:${SERIES_COLOUR['v4-passthrough']}"></span>${escapeHtml(SERIES_LABEL['v4-passthrough'])}</th><td data-field="v4_calls">${client.v4_calls}</td><td data-window-route="v4-passthrough">${v4InWindow}</td></tr>
<tr><th scope="row">legacy calls in all</th><td data-field="legacy_calls">${client.legacy_calls}</td><td></td></tr>
<tr><th scope="row">other paths</th><td data-field="other_calls">${client.other_calls}</td><td></td></tr>
</tbody></table></div>
<div><dl class="facts">
<dt>share</dt><dd>${shareBar}</dd>
<dt>error codes (4xx the gateway refused)</dt><dd>${codeList}</dd>
<dt>5xx answers</dt><dd data-field="errors">${client.errors}</dd>
<dt>first seen</dt><dd>${timeTag(client.first_seen, 'first_seen')}</dd>
<dt>last seen</dt><dd>${timeTag(client.last_seen, 'last_seen')}</dd>
<dt>last legacy call</dt><dd>${client.last_legacy_call === null ? '<span class="muted" data-field="last_legacy_call">none</span>' : timeTag(client.last_legacy_call, 'last_legacy_call')}</dd>
</dl></div></div>
<figure><figcaption>Calls per ${escapeHtml(duration(timeline.bucket_seconds * 1000))}, last ${escapeHtml(duration(timeline.bucket_seconds * 1000 * timeline.bucket_starts.length))}</figcaption>${timelineChart(chart, timeline.bucket_starts)}</figure>
</section>`;
}

function timeTag(iso: string, field: string): string {
  return `<time data-field="${field}" datetime="${escapeHtml(iso)}">${escapeHtml(shortTime(iso))}</time>`;
}

/** 90000 ms → "1.5 min"; whole units where they fit. */
export function duration(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1_000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  return `${ms} ms`;
}
