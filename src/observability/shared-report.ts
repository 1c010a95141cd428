import type { Logger } from 'winston';
import type { RequestState } from '../http/request-state';
import { RedisUnavailable, type RedisLink } from '../redis/redis-link';
import { clientReport, COLUMNS, MigrationReport, reportCsv, sortClients, type ClientEntry, type ClientReport, type MigrationReportJson } from './migration-report';

/** One replica that added its counts to the shared report. */
export interface ReplicaReport {
  readonly replica: string;
  /** When that replica began counting (its start). */
  readonly since: string;
  readonly last_reported: string;
}

/** The migration report of the whole fleet (REDIS_URL), or this replica's alone when Redis cannot be read. */
export interface FleetReportJson extends MigrationReportJson {
  readonly fleet: {
    /** `redis`: every replica's counts; `local`: this replica's only (Redis unavailable: see `reason`). */
    readonly source: 'redis' | 'local';
    readonly reason?: string;
    readonly this_replica: string;
    readonly replicas_contributed: number;
    readonly replicas: readonly ReplicaReport[];
    /** Batches of counts sent whose reply was lost: counted at most once, perhaps not at all. */
    readonly batches_uncertain: number;
  };
}

export interface SharedReportOptions {
  readonly link: RedisLink;
  readonly keyPrefix: string;
  readonly intervalMs: number;
  /** How long a client (and a replica) stays in the shared report after its last call or report. */
  readonly ttlMs: number;
  readonly maxClients: number;
  readonly logger: Logger;
}

/** Batches kept while Redis is down; past it the oldest is dropped (and counted). */
const MAX_CARRIED = 120;

/**
 * Adds this replica's counts to the shared report every `intervalMs`, in one Lua script per
 * batch: per client a hash (calls by column, rejections, errors, first/last seen) with an
 * expiry, an index by last call bounded to MAX clients (the least recently seen leave first),
 * and this replica's last report time. Reading sums nothing: every replica adds into the same
 * hashes, so a read is the fleet's total.
 */
const FLUSH_SCRIPT = `
local batch = cjson.decode(ARGV[1])
local p = batch.prefix .. ':report:'
local index = p .. 'clients'
for _, c in ipairs(batch.clients) do
  local key = p .. 'client:' .. c.id
  for field, n in pairs(c.incr) do redis.call('HINCRBY', key, field, n) end
  redis.call('HSETNX', key, 'cred', c.cred)
  redis.call('HSETNX', key, 'addr', c.addr)
  local first = tonumber(redis.call('HGET', key, 'first'))
  if not first or c.first < first then redis.call('HSET', key, 'first', c.first) end
  local last = tonumber(redis.call('HGET', key, 'last'))
  if not last or c.last > last then
    last = c.last
    redis.call('HSET', key, 'last', last)
  end
  if c.legacy then
    local legacy = tonumber(redis.call('HGET', key, 'legacy'))
    if not legacy or c.legacy > legacy then redis.call('HSET', key, 'legacy', c.legacy) end
  end
  redis.call('PEXPIRE', key, batch.ttl)
  redis.call('ZADD', index, last, c.id)
end
redis.call('ZREMRANGEBYSCORE', index, '-inf', batch.now - batch.ttl)
local over = redis.call('ZCARD', index) - batch.max
if over > 0 then
  for _, id in ipairs(redis.call('ZRANGE', index, 0, over - 1)) do redis.call('DEL', p .. 'client:' .. id) end
  redis.call('ZREMRANGEBYRANK', index, 0, over - 1)
  redis.call('HINCRBY', p .. 'overflow', 'evicted_clients', over)
end
for field, n in pairs(batch.overflow) do
  if n > 0 then redis.call('HINCRBY', p .. 'overflow', field, n) end
end
redis.call('HSET', p .. 'replicas', batch.replica, cjson.encode({ since = batch.since, reported = batch.now }))
for _, key in ipairs({ index, p .. 'overflow', p .. 'replicas' }) do redis.call('PEXPIRE', key, batch.ttl) end
return #batch.clients
`;

const READ_SCRIPT = `
local p = ARGV[1] .. ':report:'
local ids = redis.call('ZREVRANGE', p .. 'clients', 0, tonumber(ARGV[2]) - 1)
local clients = {}
for i, id in ipairs(ids) do clients[i] = redis.call('HGETALL', p .. 'client:' .. id) end
return cjson.encode({ clients = clients, overflow = redis.call('HGETALL', p .. 'overflow'), replicas = redis.call('HGETALL', p .. 'replicas') })
`;

interface BatchClient {
  id: string;
  cred: string;
  addr: string;
  first: number;
  last: number;
  legacy?: number;
  incr: Record<string, number>;
}

/** The counts of one interval as the flush script reads them. */
function batchOf(delta: MigrationReportJson): { clients: BatchClient[]; overflow: Record<string, number> } {
  const clients = delta.clients.map((client): BatchClient => {
    const incr: Record<string, number> = {};
    const columns = [...Object.values(client.legacy_routes), client.legacy_other, client.v4_calls, client.other_calls];
    columns.forEach((count, column) => {
      if (count > 0) incr[`c${column}`] = count;
    });
    if (client.service_rejections > 0) incr.svc = client.service_rejections;
    if (client.errors > 0) incr.err = client.errors;
    for (const [code, count] of Object.entries(client.rejections)) incr[`rj:${code}`] = count;
    const batch: BatchClient = { id: `${client.credential ?? '-'}|${client.address}`, cred: client.credential ?? '-', addr: client.address, first: Date.parse(client.first_seen), last: Date.parse(client.last_seen), incr };
    if (client.last_legacy_call !== null) batch.legacy = Date.parse(client.last_legacy_call);
    return batch;
  });
  return { clients, overflow: { calls: delta.overflow.calls, legacy_calls: delta.overflow.legacy_calls, v4_calls: delta.overflow.v4_calls } };
}

/** `[f1, v1, f2, v2, ...]` (HGETALL inside Lua; cjson encodes an empty one as `{}`). */
function pairs(flat: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(flat)) return map;
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(String(flat[i]), String(flat[i + 1]));
  return map;
}

function clientFromHash(hash: Map<string, string>): ClientReport {
  const num = (field: string): number => Number(hash.get(field) ?? 0);
  const rejections = new Map<string, number>();
  for (const [field, value] of hash) if (field.startsWith('rj:')) rejections.set(field.slice(3), Number(value));
  const credential = hash.get('cred') ?? '-';
  const legacy = hash.get('legacy');
  const entry: ClientEntry = {
    credential: credential === '-' ? null : credential,
    address: hash.get('addr') ?? '',
    firstSeen: num('first'),
    lastSeen: num('last'),
    lastLegacy: legacy === undefined ? null : Number(legacy),
    calls: Array.from({ length: COLUMNS }, (_, column) => num(`c${column}`)),
    serviceRejections: num('svc'),
    rejections,
    errors: num('err'),
  };
  return clientReport(entry);
}

export class SharedReport {
  /** Counts since the last flush. */
  private pending: MigrationReport;
  private carried: MigrationReportJson[] = [];
  private uncertain = 0;
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | null = null;
  private readonly since = Date.now();

  constructor(
    /** This replica's own report (all its calls since start), shown when Redis cannot be read. */
    private readonly local: MigrationReport,
    private readonly options: SharedReportOptions,
  ) {
    this.pending = new MigrationReport({ maxClients: options.maxClients });
  }

  /** The CallObserver (the local report observes on its own). */
  readonly observe = (state: RequestState, legacyStatus: number, completed: boolean): void => {
    this.pending.observe(state, legacyStatus, completed);
  };

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Adds the counts since the last flush to Redis; one flush at a time. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.options.link.state !== 'up') return;
    const delta = this.pending.toJson();
    this.pending = new MigrationReport({ maxClients: this.options.maxClients });
    const batches = [...this.carried, delta];
    this.carried = [];
    for (const [i, batch] of batches.entries()) {
      const { clients, overflow } = batchOf(batch);
      const payload = JSON.stringify({ prefix: this.options.keyPrefix, replica: this.options.link.replicaId, since: this.since, now: Date.now(), ttl: this.options.ttlMs, max: this.options.maxClients, clients, overflow });
      try {
        await this.options.link.command(['EVAL', FLUSH_SCRIPT, '0', payload]);
      } catch (err) {
        if (err instanceof RedisUnavailable && !err.sent) {
          // Never sent: kept for the next flush.
          this.carry(batches.slice(i));
        } else {
          // Sent, reply lost: it may have been applied. Counted once at most, never resent.
          this.uncertain += 1;
          this.carry(batches.slice(i + 1));
        }
        return;
      }
    }
  }

  private carry(batches: MigrationReportJson[]): void {
    this.carried.push(...batches);
    while (this.carried.length > MAX_CARRIED) {
      this.carried.shift();
      this.dropped += 1;
      if (this.dropped === 1) this.options.logger.warn('shared migration report: Redis down for long; the oldest counts of this replica are no longer kept for it (the local report still has them)');
    }
  }

  /** The fleet's report: this replica's counts flushed first, then everyone's read back. */
  async toJson(): Promise<FleetReportJson> {
    const link = this.options.link;
    try {
      await this.flush();
      const raw = await link.command<string>(['EVAL', READ_SCRIPT, '0', this.options.keyPrefix, String(this.options.maxClients)]);
      return this.fleetJson(JSON.parse(raw) as { clients: unknown; overflow: unknown; replicas: unknown });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { ...this.local.toJson(), fleet: { source: 'local', reason, this_replica: link.replicaId, replicas_contributed: 1, replicas: [], batches_uncertain: this.uncertain } };
    }
  }

  async toCsv(): Promise<string> {
    return reportCsv(await this.toJson());
  }

  private fleetJson(raw: { clients: unknown; overflow: unknown; replicas: unknown }): FleetReportJson {
    const now = Date.now();
    const clients = (Array.isArray(raw.clients) ? raw.clients : []).map((flat) => clientFromHash(pairs(flat)));
    sortClients(clients);
    const overflow = pairs(raw.overflow);
    const replicas: ReplicaReport[] = [];
    let since = this.since;
    for (const [replica, text] of pairs(raw.replicas)) {
      const info = JSON.parse(text) as { since: number; reported: number };
      if (now - info.reported > this.options.ttlMs) continue;
      since = Math.min(since, info.since);
      replicas.push({ replica, since: new Date(info.since).toISOString(), last_reported: new Date(info.reported).toISOString() });
    }
    replicas.sort((a, b) => b.last_reported.localeCompare(a.last_reported));
    return {
      generated_at: new Date(now).toISOString(),
      since: new Date(since).toISOString(),
      max_clients: this.options.maxClients,
      clients_tracked: clients.length,
      overflow: { calls: Number(overflow.get('calls') ?? 0), legacy_calls: Number(overflow.get('legacy_calls') ?? 0), v4_calls: Number(overflow.get('v4_calls') ?? 0) },
      clients,
      fleet: { source: 'redis', this_replica: this.options.link.replicaId, replicas_contributed: replicas.length, replicas, batches_uncertain: this.uncertain },
    };
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
