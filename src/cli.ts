#!/usr/bin/env node
import { loadConfig, SettingError } from './config/load';
import { explain } from './explain/explain';
import { formatExplanation } from './explain/format';

const USAGE = `usage: legacy-user-gateway explain METHOD PATH [--body JSON] [--authorization VALUE | --no-authorization] [--json]
  Prints what the gateway would do with one legacy call, sending nothing: the checks, the V4 calls,
  and the answer (from an example V4 answer) or the exact error. Settings come from the environment
  as for npm start (field rules, V4_API_KEY, VERIFY_CACHED_WRITES); V4_BASE_URL is not needed.
  e.g. legacy-user-gateway explain PUT /api/management/user/jane%40example.com --body '{"cid":"C1"}'`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, method, path, ...rest] = argv;
  if (command !== 'explain') fail(command === undefined ? 'no command' : `unknown command ${command}`);
  if (method === undefined || path === undefined) fail('explain needs a METHOD and a PATH');
  let body: string | undefined;
  let authorization: string | null | undefined;
  let asJson = false;
  for (let i = 0; i < rest.length; i += 1) {
    const option = rest[i];
    if (option === '--json') asJson = true;
    else if (option === '--body') body = rest[++i] ?? fail('--body needs a value');
    else if (option === '--authorization') authorization = rest[++i] ?? fail('--authorization needs a value');
    else if (option === '--no-authorization') authorization = null;
    else fail(`unknown option ${option ?? ''}`);
  }
  let config;
  try {
    config = loadConfig({ env: process.env });
  } catch (err) {
    if (err instanceof SettingError) fail(`bad setting: ${err.message}`);
    throw err;
  }
  const explanation = await explain(config, { method, path, body, authorization });
  process.stdout.write(asJson ? JSON.stringify(explanation, null, 2) + '\n' : formatExplanation(explanation, body));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`legacy-user-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
