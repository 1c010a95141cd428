/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): where the CPU time went, three ways.
 *   - top functions by self time;
 * Caveat: the profiler samples wall time on the main thread. On a loaded 2-core machine a
 * process is often descheduled inside a write syscall (a loopback write wakes its peer), so the
 * native write bindings (writev, ...) collect that waiting too: compare with CPU µs/request.
 *   - self time by category (express, router, winston/logform, http-proxy, our code, node's
 *     http/net/streams, GC, ...);
 *   - time attributed to the innermost *package* on the stack: node internals and native code
 *     (JSON.stringify, socket writes) count for the package that called them, so "winston" is
 *     everything logging cost, including its JSON and its write to stdout.
 * Optionally only the samples inside a time window (CLOCK_MONOTONIC µs, as process.hrtime in
 * any process on the machine: V8's profile timestamps use the same clock on Linux).
 *
 * CLI: node dist/test/bench/cpuprofile-summary.js <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Row {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) time in the window. */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly windowMs: number;
  readonly busyMs: number;
  readonly idleMs: number;
  readonly topSelf: readonly (Row & { readonly category: string })[];
  readonly byCategory: readonly Row[];
  readonly byPackage: readonly Row[];
  /** Total (inclusive) time of the gateway's own functions and the frameworks' entry points. */
  readonly inclusive: readonly Row[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** The package a script belongs to: an npm package, our code, or a node internal module. */
function packageOf(url: string): string | null {
  if (url === '') return null;
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? 'node_modules');
  }
  if (url.includes('/dist/src/')) return 'ours: ' + (url.split('/dist/src/')[1]?.split('/')[0]?.replace(/\.js$/, '') ?? 'src');
  if (url.includes('/dist/test/')) return 'bench: ' + (url.split('/').pop() ?? 'test');
  if (url.startsWith('node:')) return null;
  return null;
}

/** Socket/file write bindings: a sample here is mostly the kernel (loopback TCP wakes the peer). */
const NATIVE_WRITES = /^write(v|Buffer|Latin1String|Utf8String|AsciiString|UcsString|String)$/;

const LOGGING = new Set(['winston', 'logform', 'winston-transport', 'triple-beam', 'safe-stable-stringify', '@colors/colors', 'readable-stream', 'fecha', 'colors']);

/** Packages grouped: winston's helpers count as logging. */
function groupOf(pkg: string): string {
  return LOGGING.has(pkg) ? `logging (${pkg})` : pkg;
}

function categoryOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const url = frame.url;
  const pkg = packageOf(url);
  if (pkg !== null) return pkg.startsWith('ours: ') ? 'ours (dist/src)' : groupOf(pkg);
  if (url.startsWith('node:')) {
    const mod = url.slice('node:'.length).replace(/^internal\//, '');
    if (/^(_http|http)/.test(mod)) return 'node http';
    if (/^(net|stream|streams|tty|fs|pipe)/.test(mod) || mod.startsWith('stream_base')) return 'node net/streams/fs';
    if (/^(timers|process|async_hooks|event|events|util)/.test(mod)) return 'node timers/events/util';
    return `node ${mod.split('/')[0] ?? mod}`;
  }
  if (url !== '') return 'other';
  if (NATIVE_WRITES.test(frame.functionName)) return 'native writes (syscalls; wall time, incl. descheduled)';
  if (frame.functionName.startsWith('RegExp:')) return 'native RegExp';
  return 'native other';
}

function label(frame: CallFrame): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const path = frame.url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  const short = nm !== -1 ? path.slice(nm + '/node_modules/'.length) : path.replace(/^.*\/dist\//, 'dist/');
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

function sortedRows(map: Map<string, number>, busyUs: number, limit = Infinity): Row[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }));
}

export function summarizeProfile(file: string, window?: { fromUs: number; toUs: number }, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }

  const self = new Map<number, number>();
  let t = profile.startTime;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (window !== undefined && (t < window.fromUs || t > window.toUs)) continue;
    // A sample's time is the gap to the next sample (V8's convention in DevTools).
    const duration = profile.timeDeltas[i + 1] ?? delta;
    const id = profile.samples[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + duration);
    windowUs += duration;
  }

  const selfByFunction = new Map<string, number>();
  const categoryOfFunction = new Map<string, string>();
  const byCategory = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = label(frame);
    const category = categoryOf(frame);
    selfByFunction.set(key, (selfByFunction.get(key) ?? 0) + us);
    categoryOfFunction.set(key, category);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    // Innermost package on the stack, for node internals and native frames.
    let owner: string | null = SPECIAL.has(frame.functionName) ? frame.functionName : null;
    let cursor: number | undefined = id;
    while (owner === null && cursor !== undefined) {
      const f = byId.get(cursor)?.callFrame;
      if (f === undefined) break;
      const pkg = packageOf(f.url);
      if (pkg !== null) owner = groupOf(pkg);
      cursor = parent.get(cursor);
    }
    const group = owner ?? 'node (no package on the stack: sockets, timers, parser)';
    byPackage.set(group, (byPackage.get(group) ?? 0) + us);
    // Inclusive: every distinct function of ours or of a package on the stack, once per sample.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (f === undefined) break;
      if (packageOf(f.url) === null) continue;
      const name = label(f);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + us);
    }
  }
  const busyUs = Math.max(1, windowUs - idleUs);
  return {
    file,
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    topSelf: sortedRows(selfByFunction, busyUs, top).map((row) => ({ ...row, category: categoryOfFunction.get(row.name) ?? '' })),
    byCategory: sortedRows(byCategory, busyUs),
    byPackage: sortedRows(byPackage, busyUs),
    inclusive: sortedRows(inclusive, busyUs, top),
  };
}

export function formatSummary(summary: ProfileSummary, requests?: number): string {
  const lines: string[] = [];
  const perReq = requests === undefined || requests === 0 ? '' : `, ${Math.round((summary.busyMs * 1000) / requests)} µs busy per request over ${requests} requests`;
  lines.push(`${summary.file}: ${summary.windowMs} ms sampled, ${summary.busyMs} ms busy, ${summary.idleMs} ms idle${perReq}`);
  const section = (title: string, rows: readonly Row[], extra?: (row: Row) => string): void => {
    lines.push(`  ${title}`);
    for (const row of rows) lines.push(`    ${row.pct.toFixed(1).padStart(5)}%  ${row.ms.toFixed(0).padStart(6)} ms  ${row.name}${extra === undefined ? '' : extra(row)}`);
  };
  section('self time by category (% of busy):', summary.byCategory);
  section('attributed to the innermost package on the stack (node internals and natives count for their caller):', summary.byPackage);
  section(`top ${summary.inclusive.length} functions of ours and of packages by total (inclusive) time:`, summary.inclusive);
  section(`top ${summary.topSelf.length} functions by self time:`, summary.topSelf, (row) => {
    const category = summary.topSelf.find((r) => r.name === row.name)?.category;
    return category === undefined ? '' : `   [${category}]`;
  });
  return lines.join('\n');
}

if (require.main === module) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node dist/test/bench/cpuprofile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(formatSummary(summarizeProfile(file, undefined, Number(process.argv[3] ?? 25))) + '\n');
}
