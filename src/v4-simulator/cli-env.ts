// What the simulators' command lines share: a one-line failure and bounded integer settings.

/** Writes `<name>: message` and exits 2 (a usage error). */
export function cliFailure(name: string): (message: string) => never {
  return (message) => {
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(2);
  };
}

/** An integer environment setting within [min, max]; unset or empty: `fallback`. */
export function integerEnv(name: string, fallback: number, min: number, max: number, fail: (message: string) => never): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`${name} must be an integer between ${min} and ${max}; got ${JSON.stringify(raw)}.`);
  return n;
}
