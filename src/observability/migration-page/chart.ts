import { TIMELINE_SERIES, type TimelineClient } from '../report-timeline';
import { escapeHtml } from './escape';
import { SERIES_COLOUR, SERIES_LABEL } from './routes';

const WIDTH = 640;
const HEIGHT = 100;
const AXIS = 14;
/** Room above the tallest bar for the scale label. */
const TOP = 14;

/**
 * One client's calls over the window as an inline SVG of stacked bars, one bar per time bucket
 * (legacy routes at the bottom, the V4 pass-through on top). Each segment carries its bucket,
 * series and count as data attributes and a <title> tooltip, so the figures can be read back.
 */
export function timelineChart(client: TimelineClient | undefined, bucketStarts: readonly string[]): string {
  const buckets = bucketStarts.length;
  if (client === undefined || buckets === 0) return '<p class="muted">No chart: the timeline had no room for this client (see its overflow count).</p>';
  const totals = bucketStarts.map((_start, index) => TIMELINE_SERIES.reduce((sum, series) => sum + (client.series[series][index] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const plotHeight = HEIGHT - AXIS;
  const step = WIDTH / buckets;
  const barWidth = Math.max(1, step - 1);
  const parts: string[] = [];
  bucketStarts.forEach((start, index) => {
    let y = plotHeight;
    for (const series of TIMELINE_SERIES) {
      const count = client.series[series][index] ?? 0;
      if (count === 0) continue;
      const height = (count / max) * (plotHeight - TOP);
      y -= height;
      parts.push(
        `<rect x="${(index * step).toFixed(2)}" y="${y.toFixed(2)}" width="${barWidth.toFixed(2)}" height="${height.toFixed(2)}" fill="${SERIES_COLOUR[series]}" ` +
          `data-bucket="${escapeHtml(start)}" data-series="${series}" data-count="${count}"><title>${escapeHtml(start)}: ${count} × ${escapeHtml(SERIES_LABEL[series])}</title></rect>`,
      );
    }
  });
  const first = bucketStarts[0] ?? '';
  const last = bucketStarts[buckets - 1] ?? '';
  return (
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="calls per time bucket, at most ${max} in one bucket">` +
    `<line x1="0" y1="${plotHeight}" x2="${WIDTH}" y2="${plotHeight}" stroke="#999" stroke-width="1"/>` +
    parts.join('') +
    `<text x="0" y="${HEIGHT - 2}" font-size="10" fill="#555">${escapeHtml(shortTime(first))}</text>` +
    `<text x="${WIDTH}" y="${HEIGHT - 2}" font-size="10" fill="#555" text-anchor="end">${escapeHtml(shortTime(last))} (now)</text>` +
    `<text x="2" y="10" font-size="10" fill="#555">max ${max} per bucket</text>` +
    '</svg>'
  );
}

/** `2026-11-28T14:03:00.000Z` → `2026-11-28 14:03:00Z`. */
export function shortTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}
