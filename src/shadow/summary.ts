import type { ShadowSummary } from '../observability/migration-page/render';
import type { ShadowReportJson } from './runner';

/**
 * The shadow comparison as the migration page shows it: totals over every route and client
 * (expected differences count as equal answers: the translation explains them), and the
 * regression paths that differ most, summed over the entries.
 */
export function shadowSummary(report: ShadowReportJson): ShadowSummary {
  const { totals } = report;
  const paths = new Map<string, number>();
  for (const entry of report.entries) {
    for (const path of entry.top_paths) {
      if (path.class !== 'regression') continue;
      const key = `${entry.route} ${path.path} (${path.kind})`;
      paths.set(key, (paths.get(key) ?? 0) + path.count);
    }
  }
  const topPaths = [...paths.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([path, count]) => ({ path, count }));
  return { equal: totals.equal + totals.expected, different: totals.different, noise: totals.noise, topPaths };
}
