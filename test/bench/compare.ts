/**
 * `npm run bench:compare [A.json B.json]`: two `npm run bench` results side by side (default: the
 * two newest in bench-results/), scenario by scenario, with the change from A to B. Ratios are
 * the figures to compare: each was measured against its baseline within its own run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ScenarioFigures {
  readonly name: string;
  readonly kind: string;
  readonly rps?: number;
  readonly vsBare?: number;
  /** Absent in results from before the pipe baseline (issue 14). */
  readonly vsPipe?: number;
  readonly targetCpuUsPerReq?: number;
  readonly addedP50Ms?: number;
}

interface TargetFigures {
  readonly target: string;
  readonly value?: number;
  readonly pass: boolean;
}

interface BenchReport {
  readonly file: string;
  readonly date: string;
  readonly commit: string;
  readonly scenarios: readonly ScenarioFigures[];
  readonly targets: readonly TargetFigures[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Reads a bench result, keeping only what is compared; a file of another shape is refused by name. */
function readReport(file: string): BenchReport {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isRecord(parsed) || !Array.isArray(parsed.scenarios)) throw new Error(`${file} is not a bench result (no scenarios)`);
  const scenarios = parsed.scenarios.filter(isRecord).map(
    (s): ScenarioFigures => ({
      name: String(s.name),
      kind: String(s.kind),
      rps: numberOrUndefined(s.rps),
      vsBare: numberOrUndefined(s.vsBare),
      vsPipe: numberOrUndefined(s.vsPipe),
      targetCpuUsPerReq: numberOrUndefined(s.targetCpuUsPerReq),
      addedP50Ms: numberOrUndefined(s.addedP50Ms),
    }),
  );
  const targets = (Array.isArray(parsed.targets) ? parsed.targets : []).filter(isRecord).map(
    (t): TargetFigures => ({ target: String(t.target), value: numberOrUndefined(t.value), pass: t.pass === true }),
  );
  const git = isRecord(parsed.git) ? parsed.git : {};
  return { file, date: String(parsed.date), commit: String(git.commit ?? 'unknown'), scenarios, targets };
}

function newestTwo(dir: string): [string, string] {
  const files = readdirSync(dir)
    .filter((name) => /^bench-.*\.json$/.test(name))
    .sort();
  const [a, b] = files.slice(-2);
  if (a === undefined || b === undefined) throw new Error(`need two bench-*.json files in ${dir}; run npm run bench twice, or name two files`);
  return [join(dir, a), join(dir, b)];
}

function fmt(n: number | undefined, digits: number): string {
  return n === undefined ? '—' : n.toFixed(digits);
}

/** B relative to A, in per cent; blank when either is missing. */
function change(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || a === 0) return '';
  const pct = ((b - a) / a) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(0)}%`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

function main(): void {
  const [argA, argB] = process.argv.slice(2);
  const [fileA, fileB] = argA !== undefined && argB !== undefined ? [argA, argB] : newestTwo(join(process.cwd(), 'bench-results'));
  const a = readReport(fileA);
  const b = readReport(fileB);
  const out: string[] = [`A: ${a.file} (${a.date}, commit ${a.commit})`, `B: ${b.file} (${b.date}, commit ${b.commit})`, ''];
  const rows: string[][] = [['scenario', 'req/s A', 'req/s B', '×bare A', '×bare B', '×pipe A', '×pipe B', 'CPU µs A', 'CPU µs B', 'CPU B vs A', 'added p50 A', 'added p50 B']];
  for (const sa of a.scenarios) {
    const sb = b.scenarios.find((s) => s.name === sa.name);
    rows.push([
      sa.name,
      fmt(sa.rps, 0),
      fmt(sb?.rps, 0),
      fmt(sa.vsBare, 2),
      fmt(sb?.vsBare, 2),
      fmt(sa.vsPipe, 2),
      fmt(sb?.vsPipe, 2),
      fmt(sa.targetCpuUsPerReq, 0),
      fmt(sb?.targetCpuUsPerReq, 0),
      change(sa.targetCpuUsPerReq, sb?.targetCpuUsPerReq),
      fmt(sa.addedP50Ms, 3),
      fmt(sb?.addedP50Ms, 3),
    ]);
  }
  for (const sb of b.scenarios) if (!a.scenarios.some((s) => s.name === sb.name)) rows.push([`${sb.name} (B only)`, '—', fmt(sb.rps, 0), '—', fmt(sb.vsBare, 2), '—', fmt(sb.vsPipe, 2), '—', fmt(sb.targetCpuUsPerReq, 0), '', '—', fmt(sb.addedP50Ms, 3)]);
  out.push(table(rows), '');
  const targetRows: string[][] = [['target', 'A', 'B']];
  const targetNames = [...a.targets.map((t) => t.target), ...b.targets.map((t) => t.target).filter((name) => !a.targets.some((t) => t.target === name))];
  for (const name of targetNames) {
    const ta = a.targets.find((t) => t.target === name);
    const tb = b.targets.find((t) => t.target === name);
    const cell = (t: TargetFigures | undefined): string => (t === undefined ? '—' : `${fmt(t.value, 3)} ${t.pass ? 'PASS' : 'MISS'}`);
    targetRows.push([name, cell(ta), cell(tb)]);
  }
  if (targetRows.length > 1) out.push(table(targetRows));
  process.stdout.write(out.join('\n') + '\n');
}

main();
