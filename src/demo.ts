import { loadConfig } from './config/load';
import { exitAfterStopOnSignal } from './process-signals';
import { startGateway } from './server';
import { LegacySimulator } from './legacy-simulator';
import { V4Simulator } from './v4-simulator';

/**
 * `npm run demo`: the bundled V4 simulator and the gateway, with no set-up at all. The gateway
 * holds the demo tenant's key, as a sidecar would, so the legacy calls need no credentials.
 */
async function main(): Promise<void> {
  const apiKey = 'demo-key';
  const simulator = new V4Simulator({ apiKeys: [apiKey] });
  const simulatorUrl = await simulator.start(Number(process.env.SIM_PORT ?? 0));
  const jane = simulator.createUser(apiKey, { name: 'Jane Doe', contact_details: { email: 'jane+billing@example.com' }, external_id: 'CUST-0042' });
  simulator.createUser(apiKey, { name: 'Joe Bloggs', contact_details: { email: 'joe@example.com' }, external_id: 'CUST-0043', user_flags: ['LICENSE_PURCHASE_RESTRICTED'] });
  // The legacy backend, as a team starting a parallel run has it: a copy of the same users that
  // drifted once (Jane's name was fixed in V4 only), so the diff report has something to show.
  const legacy = LegacySimulator.copying(simulator, apiKey);
  simulator.updateUser(apiKey, jane.id, { name: 'Jane Doe-Smith' });
  const legacyUrl = await legacy.start(Number(process.env.LEGACY_SIM_PORT ?? 0));

  const config = loadConfig({
    env: { SHADOW_MODE: 'v4-primary', ...process.env },
    overrides: { v4BaseUrl: simulatorUrl, v4ApiKey: apiKey, legacyBaseUrl: legacyUrl },
  });
  const gateway = await startGateway(config);
  const base = `http://127.0.0.1:${gateway.port}`;
  const admin = `http://127.0.0.1:${gateway.adminPort}`;
  const lines = [
    '',
    `V4 simulator:     ${simulatorUrl} (tenant key "${apiKey}"; users jane+billing@example.com, joe@example.com)`,
    `Legacy simulator: ${legacyUrl} (a copy of the same users; Jane's name differs)`,
    `Gateway:          ${base}   admin: ${admin}/healthz   SHADOW_MODE=${config.shadowMode}`,
    '',
    'Try the legacy calls (paste into another terminal):',
    '',
    '# 1. Create: becomes POST /api/user/management/v4/users with cid → external_id, email → contact_details.email',
    `curl -i -X POST ${base}/api/management/user -H 'Content-Type: application/json' -d '{"email":"sam@example.com","name":"Sam Lee","cid":"CUST-0100"}'`,
    '',
    '# 2. Update: looks sam@example.com up (GET …/users?email=sam%40example.com&limit=2), then PATCH /api/user/management/v4/users/{user_id}',
    `curl -i -X PUT ${base}/api/management/user/sam%40example.com -H 'Content-Type: application/json' -d '{"name":"Samantha Lee","cid":"CUST-0101"}'`,
    '',
    '# 3. Delete: becomes DELETE /api/user/management/v4/users/{user_id} (the user_id from the cache, checked first)',
    `curl -i -X DELETE ${base}/api/management/user/sam%40example.com`,
    '',
    `# And the removed parameter: 400 SERVICE_PARAMETER_REMOVED, nothing reaches V4`,
    `curl -i '${base}/api/management/user?service=premium'`,
    '',
    '# Shadow comparison: V4 answers; the legacy backend gets the same reads, and the answers are compared',
    `curl -s ${base}/api/management/user/jane%2Bbilling%40example.com; curl -s ${base}/api/management/user > /dev/null`,
    `curl -s ${admin}/migration/diffs     # per route and client: equal, different, noise, top paths`,
    `open ${admin}/migration               # the migration page (also: ${admin}/openapi.json)`,
    '',
    'The translation log (one JSON line per call) follows below. Ctrl-C stops both.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  exitAfterStopOnSignal(async () => {
    await gateway.shutdown();
    await legacy.stop();
    await simulator.stop();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
