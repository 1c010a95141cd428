import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Keeps the log lines a test wrote for the suite-wide privacy sweep (test/log-sweep-teardown.js
 * reads them once every test file has run). Stacks that log emails in plain on purpose (the
 * privacy test's control run) are not kept.
 */
export function keepForSweep(lines: readonly string[], plainEmails = false): void {
  const dir = process.env.LOG_SWEEP_DIR;
  if (dir === undefined || plainEmails || lines.length === 0) return;
  appendFileSync(join(dir, `worker-${process.pid}.log`), lines.join('\n') + '\n');
}
