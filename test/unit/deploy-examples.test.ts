// The deployment examples (config/deploy/) and the Dockerfile agree with the gateway's own settings:
// ports and probe paths, the environment names it reads, the key wired from a secret file, a grace
// period longer than the gateway's drain. `npm run docker:smoke` runs the image itself.
import { readFileSync } from 'node:fs';
import { GATEWAY_NODE_FLAGS } from '../../src/node-flags';
import { join, posix } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ENV_SETTINGS } from '../../src/config/env';

const root = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Defaults {
  port: number;
  adminPort: number;
  shutdownGraceMs: number;
}
const defaults = JSON.parse(read('config/default.json')) as Defaults;

/** The names the gateway reads: ENV_SETTINGS, plus CONFIG_FILE (read by loadConfig itself). */
const gatewayEnvNames = new Set([...ENV_SETTINGS.map((setting) => setting.env), 'CONFIG_FILE']);
/** Read by Node.js, not by the gateway. */
const runtimeEnvNames = new Set(['NODE_OPTIONS', 'NODE_ENV']);

// ---- Kubernetes -----------------------------------------------------------------------------------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}
interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  image: string;
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean };
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  initContainers?: Container[];
  containers: Container[];
  volumes?: { name: string; secret?: { secretName: string; defaultMode?: number } }[];
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  stringData?: Record<string, string>;
  data?: Record<string, string>;
  spec?: { template?: { spec: PodSpec } };
}

const manifestDocs = parseAllDocuments(read('config/deploy/kubernetes.yaml'));
const manifest = manifestDocs.map((doc) => doc.toJS() as K8sObject | null).filter((doc): doc is K8sObject => doc !== null);
const deployment = manifest.find((doc) => doc.kind === 'Deployment');
const podSpec = deployment?.spec?.template?.spec;
const sidecar = podSpec?.initContainers?.find((container) => container.restartPolicy === 'Always');

function envOf(container: Container | undefined, name: string): string | undefined {
  return container?.env?.find((variable) => variable.name === name)?.value;
}

/** A probe's port as a number: a named port resolves through the container's ports. */
function probePort(container: Container, probe: Probe | undefined): number | undefined {
  const port = probe?.httpGet?.port;
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

describe('config/deploy/kubernetes.yaml', () => {
  test('parses as YAML without errors or warnings', () => {
    for (const doc of manifestDocs) {
      expect(doc.errors).toEqual([]);
      expect(doc.warnings).toEqual([]);
    }
    expect(manifest.map((doc) => doc.kind).sort()).toEqual(['Deployment', 'Secret']);
  });

  test('runs the gateway as a native sidecar: an init container with restartPolicy Always', () => {
    expect(sidecar).toBeDefined();
    expect(sidecar?.image).toMatch(/legacy-user-gateway/);
    expect(podSpec?.containers.some((container) => container.image.includes('legacy-user-gateway'))).toBe(false);
  });

  test('declares the legacy and admin ports of config/default.json, and sets none differently', () => {
    const ports = (sidecar?.ports ?? []).map((port) => port.containerPort).sort();
    expect(ports).toEqual([defaults.port, defaults.adminPort].sort());
    expect(envOf(sidecar, 'PORT') ?? String(defaults.port)).toBe(String(defaults.port));
    expect(envOf(sidecar, 'ADMIN_PORT') ?? String(defaults.adminPort)).toBe(String(defaults.adminPort));
  });

  test('probes the admin port: readiness on /readyz, liveness (and startup) on /healthz', () => {
    if (sidecar === undefined) throw new Error('no sidecar');
    expect(sidecar.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(probePort(sidecar, sidecar.readinessProbe)).toBe(defaults.adminPort);
    expect(sidecar.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(probePort(sidecar, sidecar.livenessProbe)).toBe(defaults.adminPort);
    if (sidecar.startupProbe !== undefined) {
      expect(sidecar.startupProbe.httpGet?.path).toBe('/healthz');
      expect(probePort(sidecar, sidecar.startupProbe)).toBe(defaults.adminPort);
    }
  });

  test("the gateway's environment names are ones it reads", () => {
    const names = (sidecar?.env ?? []).map((variable) => variable.name);
    expect(names).toContain('V4_BASE_URL');
    for (const name of names) {
      if (!runtimeEnvNames.has(name)) expect(gatewayEnvNames.has(name) ? name : `${name} (not in ENV_SETTINGS)`).toBe(name);
    }
  });

  test('the V4 key comes from a Secret mounted as a file, named by V4_API_KEY_FILE', () => {
    expect(sidecar?.env?.some((variable) => variable.name === 'V4_API_KEY')).toBe(false);
    const keyFile = envOf(sidecar, 'V4_API_KEY_FILE');
    expect(keyFile).toBeDefined();
    const mount = sidecar?.volumeMounts?.find((candidate) => posix.dirname(keyFile ?? '') === candidate.mountPath.replace(/\/+$/, ''));
    expect(mount?.readOnly).toBe(true);
    const volume = podSpec?.volumes?.find((candidate) => candidate.name === mount?.name);
    const secretName = volume?.secret?.secretName;
    expect(secretName).toBeDefined();
    const secret = manifest.find((doc) => doc.kind === 'Secret' && doc.metadata.name === secretName);
    expect(Object.keys({ ...secret?.data, ...secret?.stringData })).toContain(posix.basename(keyFile ?? ''));
  });

  test('the legacy client calls the sidecar over the pod loopback', () => {
    const client = podSpec?.containers[0];
    const urls = (client?.env ?? []).map((variable) => variable.value ?? '');
    expect(urls).toContain(`http://127.0.0.1:${defaults.port}`);
  });

  test('gives the gateway longer to stop than its drain, and runs it unprivileged with sized resources', () => {
    const graceMs = Number(envOf(sidecar, 'SHUTDOWN_GRACE_MS') ?? defaults.shutdownGraceMs);
    expect((podSpec?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(graceMs);
    expect(sidecar?.securityContext?.runAsNonRoot).toBe(true);
    expect(sidecar?.securityContext?.runAsUser).not.toBe(0);
    expect(sidecar?.securityContext?.allowPrivilegeEscalation).toBe(false);
    for (const kind of ['requests', 'limits'] as const) {
      expect(sidecar?.resources?.[kind]?.memory).toMatch(/^\d+Mi$/);
      expect(sidecar?.resources?.[kind]?.cpu).toBeDefined();
    }
  });
});

// ---- Docker Compose -------------------------------------------------------------------------------

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: unknown;
  environment?: Record<string, string> | string[];
  secrets?: (string | { source: string; target?: string })[];
  network_mode?: string;
  stop_grace_period?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string; external?: boolean }>;
}

const compose = parse(read('config/deploy/docker-compose.yml')) as ComposeFile;

function environmentOf(service: ComposeService | undefined): Record<string, string> {
  const environment = service?.environment ?? {};
  if (!Array.isArray(environment)) return environment;
  return Object.fromEntries(environment.map((entry) => [entry.split('=')[0] ?? '', entry.split('=').slice(1).join('=')]));
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? '10s');
  if (match === null) throw new Error(`unreadable duration ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

describe('config/deploy/docker-compose.yml', () => {
  const gateway = compose.services.gateway;
  const gatewayEnv = environmentOf(gateway);

  test('has the gateway sidecar, a legacy client stand-in, the simulator as V4 and Redis', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'legacy-client', 'redis', 'v4']);
    expect(gateway?.image).toMatch(/^legacy-user-gateway:/);
    expect(gatewayEnv.V4_BASE_URL).toBe('http://v4:4000');
  });

  test('the legacy client shares the gateway network namespace and calls it on loopback', () => {
    const client = compose.services['legacy-client'];
    expect(client?.network_mode).toBe('service:gateway');
    expect(Object.values(environmentOf(client))).toContain(`http://127.0.0.1:${gatewayEnv.PORT ?? defaults.port}`);
  });

  test('wires V4_API_KEY_FILE to a Docker secret file', () => {
    expect(gatewayEnv.V4_API_KEY).toBeUndefined();
    const keyFile = gatewayEnv.V4_API_KEY_FILE ?? '';
    const secretNames = (gateway?.secrets ?? []).map((secret) => (typeof secret === 'string' ? { source: secret, target: secret } : secret));
    const wired = secretNames.find((secret) => keyFile === posix.join('/run/secrets', secret.target ?? secret.source));
    expect(wired).toBeDefined();
    expect(compose.secrets?.[wired?.source ?? '']?.file).toBeDefined();
  });

  test("the gateway's environment names are ones it reads, with the default ports", () => {
    for (const name of Object.keys(gatewayEnv)) {
      if (!runtimeEnvNames.has(name)) expect(gatewayEnvNames.has(name) ? name : `${name} (not in ENV_SETTINGS)`).toBe(name);
    }
    expect(gatewayEnv.PORT ?? String(defaults.port)).toBe(String(defaults.port));
    expect(gatewayEnv.ADMIN_PORT ?? String(defaults.adminPort)).toBe(String(defaults.adminPort));
  });

  test('gives the gateway longer to stop than its drain', () => {
    const graceMs = Number(gatewayEnv.SHUTDOWN_GRACE_MS ?? defaults.shutdownGraceMs);
    expect(seconds(gateway?.stop_grace_period) * 1000).toBeGreaterThan(graceMs);
  });

  test('REDIS_URL names the redis service, which keeps nothing on disk; the gateway does not wait for it', () => {
    const url = new URL(gatewayEnv.REDIS_URL ?? '');
    expect(url.protocol).toBe('redis:');
    expect(compose.services[url.hostname]?.image).toMatch(/^redis:/);
    expect(compose.services.redis?.command).toEqual(expect.arrayContaining(['--save', '', '--appendonly', 'no']));
    const dependsOn = gateway?.depends_on;
    expect(Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn ?? {})).not.toContain('redis');
  });
});

// ---- Kubernetes, shared service with Redis ------------------------------------------------------

describe('config/deploy/kubernetes-shared.yaml', () => {
  const docs = parseAllDocuments(read('config/deploy/kubernetes-shared.yaml'));
  const objects = docs.map((doc) => doc.toJS() as (K8sObject & { spec?: { replicas?: number; selector?: unknown; ports?: { port: number; targetPort?: string | number }[] } }) | null).filter((doc) => doc !== null);
  const gatewayDeployment = objects.find((doc) => doc.kind === 'Deployment' && doc.metadata.name === 'legacy-user-gateway');
  const gatewayPod = gatewayDeployment?.spec?.template?.spec;
  const gatewayContainer = gatewayPod?.containers.find((container) => container.image.includes('legacy-user-gateway'));

  test('parses cleanly: gateway and Redis Deployments, their Services, the Secret', () => {
    for (const doc of docs) {
      expect(doc.errors).toEqual([]);
      expect(doc.warnings).toEqual([]);
    }
    expect(objects.map((doc) => `${doc.kind}/${doc.metadata.name}`).sort()).toEqual([
      'Deployment/legacy-user-gateway',
      'Deployment/legacy-user-gateway-redis',
      'Secret/legacy-user-gateway-v4',
      'Service/legacy-user-gateway',
      'Service/legacy-user-gateway-redis',
    ]);
  });

  test('runs several gateway replicas as ordinary containers, all on one REDIS_URL that names the Redis Service', () => {
    expect(gatewayDeployment?.spec?.replicas).toBeGreaterThan(1);
    expect(gatewayContainer).toBeDefined();
    const url = new URL(envOf(gatewayContainer, 'REDIS_URL') ?? '');
    expect(url.protocol).toBe('redis:');
    const redisService = objects.find((doc) => doc.kind === 'Service' && doc.metadata.name === url.hostname);
    expect(redisService?.spec?.ports?.map((port) => port.port)).toContain(Number(url.port));
  });

  test("the gateway's environment names are ones it reads; it listens on the pod network with an allow-list", () => {
    for (const variable of gatewayContainer?.env ?? []) {
      if (!runtimeEnvNames.has(variable.name)) expect(gatewayEnvNames.has(variable.name) ? variable.name : `${variable.name} (not in ENV_SETTINGS)`).toBe(variable.name);
    }
    expect(envOf(gatewayContainer, 'HOST')).toBe('0.0.0.0');
    expect(envOf(gatewayContainer, 'ALLOW_CIDRS')).toBeDefined();
    expect(gatewayContainer?.env?.some((variable) => variable.name === 'V4_API_KEY')).toBe(false);
  });

  test('probes as the sidecar does (Redis is no readiness condition), with a grace period longer than the drain', () => {
    expect(gatewayContainer?.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(gatewayContainer?.livenessProbe?.httpGet?.path).toBe('/healthz');
    const graceMs = Number(envOf(gatewayContainer, 'SHUTDOWN_GRACE_MS') ?? defaults.shutdownGraceMs);
    expect((gatewayPod?.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(graceMs);
    expect(gatewayContainer?.securityContext?.runAsNonRoot).toBe(true);
  });
});

// ---- Dockerfile -----------------------------------------------------------------------------------

describe('the gateway\'s V8 flags (src/node-flags.ts)', () => {
  test('npm start passes exactly them', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.start).toBe(['node', ...GATEWAY_NODE_FLAGS, 'dist/src/server.js'].join(' '));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const finalStage = instructions.slice(instructions.map((line) => line.startsWith('FROM ')).lastIndexOf(true));

  test('builds on node:24-slim in several stages and runs node on the built entry point', () => {
    const froms = instructions.filter((line) => line.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM node:24-slim\b/);
    expect(finalStage).toContain(`CMD ${JSON.stringify(['node', ...GATEWAY_NODE_FLAGS, 'dist/src/server.js'])}`.replace(/","/g, '", "'));
    expect(finalStage).toContain('ENV NODE_ENV=production');
  });

  test('exposes the ports of config/default.json and checks /healthz on ADMIN_PORT', () => {
    expect(finalStage).toContain(`EXPOSE ${defaults.port} ${defaults.adminPort}`);
    const healthcheck = finalStage.find((line) => line.startsWith('HEALTHCHECK')) ?? '';
    expect(healthcheck).toContain('/healthz');
    expect(healthcheck).toContain('process.env.ADMIN_PORT');
    expect(healthcheck).toContain(`'${defaults.adminPort}'`);
  });

  test('runs as the unprivileged node user (uid 1000), with no key baked in', () => {
    expect(finalStage.filter((line) => line.startsWith('USER '))).toEqual(['USER 1000:1000']);
    expect(instructions.filter((line) => /^(ENV|ARG)\b/.test(line) && /V4_API_KEY/.test(line))).toEqual([]);
  });
});
