// Jest globalTeardown: greps every log line written during the whole test run (in-process
// gateways and the spawned `npm start` processes alike) for API keys and raw email addresses.
// Any hit fails the run. Keys: every `Apikey ` value and the test keys by name; emails: anything
// shaped like an address (the hashed form `h:…` and percent-encoded ones do not match).
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const KEYS = ['k1-test-key-0001', 'k2-test-key-0002', 'hostile-key-0001', 'shutdown-key-0001', 'probe-key-unknown-to-v4', 'zz-unknown-key-9999'];
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;

module.exports = async function teardown() {
  const dir = process.env.LOG_SWEEP_DIR;
  if (dir === undefined) return;
  const leaks = [];
  let lines = 0;
  for (const file of readdirSync(dir)) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (line === '') continue;
      lines += 1;
      const key = KEYS.find((k) => line.includes(k)) ?? (/Apikey\s/.test(line) ? 'Apikey …' : undefined);
      const email = EMAIL.exec(line);
      if (key !== undefined || email !== null) leaks.push(`${key ?? email[0]}: ${line.slice(0, 300)}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  if (lines === 0) throw new Error('log sweep: no log lines were kept: the sweep itself is broken');
  if (leaks.length > 0) throw new Error(`log sweep: ${leaks.length} of ${lines} log lines hold a key or a raw email:\n${leaks.slice(0, 10).join('\n')}`);
  process.stdout.write(`\nlog sweep: ${lines} log lines from the whole run hold no API key and no raw email\n`);
};
