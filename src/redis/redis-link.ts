import { randomBytes } from 'node:crypto';
import type { RedisClientType } from '@redis/client';
import type * as RedisModule from '@redis/client';
import type { Logger } from 'winston';

/** `up`: commands and the invalidation channel work. `down`: the gateway goes on without Redis. */
export type RedisState = 'up' | 'down';

/** Thrown instead of a Redis error or timeout: the caller falls back to memory and V4. */
export class RedisUnavailable extends Error {
  /** `sent`: the command may have reached Redis (it failed or timed out after being sent). */
  constructor(
    reason: string,
    readonly sent = true,
  ) {
    super(`redis unavailable: ${reason}`);
    this.name = 'RedisUnavailable';
  }
}

export interface RedisLinkOptions {
  readonly url: string;
  /** Deadline of one command. */
  readonly timeoutMs: number;
  /** How often the link pings Redis (and so how soon it notices a pause or a return). */
  readonly healthIntervalMs: number;
  /** The pub/sub channel of this fleet's invalidations. */
  readonly channel: string;
  readonly logger: Logger;
}

export interface RedisLinkCounts {
  /** Transitions, by the state entered. */
  readonly enteredUp: number;
  readonly enteredDown: number;
  /** Commands that failed or timed out (each one made the gateway go on without Redis). */
  readonly commandFailures: number;
}

type StateListener = (state: RedisState, reason: string) => void;
type MessageListener = (message: string) => void;

let redisModule: typeof RedisModule | undefined;

/**
 * The Redis client library, loaded on first use: a gateway without REDIS_URL (the default) never
 * loads it, which keeps ~19 MB off its resident memory from the start (README, Performance).
 */
function redisClientLibrary(): typeof RedisModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when REDIS_URL is set
  redisModule ??= require('@redis/client') as typeof RedisModule;
  return redisModule;
}

/** Redis's address for logs: no user or password. */
export function redisUrlForLog(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/**
 * One gateway's connection to Redis: a command connection, a subscriber connection for the
 * invalidation channel, and the one state both are judged by.
 *
 * The state goes `down` at once on any command failure or timeout, or when either connection
 * drops; it goes `up` only when a health ping on both connections answers in time, both are
 * connected and the channel is subscribed. While down, no command is sent at all (callers get
 * RedisUnavailable at once), so a slow or paused Redis costs a call nothing after the first
 * timeout. node-redis reconnects by itself (bounded back-off); the health ping notices.
 * Every transition is logged once and told to the listeners (the resolver drops its local
 * cache on each: invalidations may have been missed).
 */
export class RedisLink {
  /** Names this process in invalidations and in the shared report. */
  readonly replicaId = randomBytes(6).toString('hex');
  private readonly client: RedisClientType;
  private readonly subscriber: RedisClientType;
  private current: RedisState = 'down';
  private since = Date.now();
  private subscribed = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly stateListeners: StateListener[] = [];
  private readonly messageListeners: MessageListener[] = [];
  private counts = { enteredUp: 0, enteredDown: 0, commandFailures: 0 };

  constructor(private readonly options: RedisLinkOptions) {
    const socket = {
      connectTimeout: Math.max(options.timeoutMs, 1000),
      // Back off to at most 2 s between attempts, forever: Redis coming back is picked up by itself.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2000),
    };
    // disableOfflineQueue: while reconnecting a command fails at once instead of waiting; the
    // gateway answers from memory and V4 meanwhile.
    const { createClient } = redisClientLibrary();
    this.client = createClient({ url: options.url, socket, disableOfflineQueue: true, name: `lug-${this.replicaId}` }) as unknown as RedisClientType;
    this.subscriber = createClient({ url: options.url, socket, disableOfflineQueue: true, name: `lug-sub-${this.replicaId}` }) as unknown as RedisClientType;
    for (const [which, connection] of [['commands', this.client], ['channel', this.subscriber]] as const) {
      connection.on('error', (err: Error) => this.enter('down', `${which} connection: ${err.message}`));
      connection.on('reconnecting', () => this.enter('down', `${which} connection reconnecting`));
      connection.on('end', () => this.enter('down', `${which} connection closed`));
    }
    // node-redis subscribes again by itself after a reconnect; only the first time is ours.
    this.subscriber.on('ready', () => void this.check());
    this.client.on('ready', () => void this.check());
  }

  get channel(): string {
    return this.options.channel;
  }

  get state(): RedisState {
    return this.current;
  }

  /** When the current state began (ms since the epoch). */
  get stateSince(): number {
    return this.since;
  }

  get stats(): RedisLinkCounts {
    return { ...this.counts };
  }

  onState(listener: StateListener): void {
    this.stateListeners.push(listener);
  }

  onMessage(listener: MessageListener): void {
    this.messageListeners.push(listener);
  }

  /** Connects in the background: the gateway serves at once, without Redis until it answers. */
  start(): void {
    this.options.logger.info('redis: connecting', { redis_url: redisUrlForLog(this.options.url) });
    for (const connection of [this.client, this.subscriber]) {
      connection.connect().catch((err: unknown) => this.enter('down', `connect: ${err instanceof Error ? err.message : String(err)}`));
    }
    this.timer = setInterval(() => void this.check(), this.options.healthIntervalMs);
    this.timer.unref();
  }

  /** One command with the link's deadline; RedisUnavailable when down, failed or late. */
  async command<T>(args: readonly string[]): Promise<T> {
    if (this.current !== 'up') throw new RedisUnavailable('down', false);
    try {
      return await this.client.sendCommand<T>(args, { timeout: this.options.timeoutMs, rejectInFlight: true });
    } catch (err) {
      this.counts.commandFailures += 1;
      const reason = err instanceof Error ? `${args[0] ?? 'command'}: ${err.name}: ${err.message}` : String(err);
      this.enter('down', reason);
      throw new RedisUnavailable(reason);
    }
  }

  /** Publishes on the invalidation channel (the caller has the command connection's ordering). */
  publish(message: string): Promise<number> {
    return this.command<number>(['PUBLISH', this.options.channel, message]);
  }

  private async subscribe(): Promise<void> {
    if (this.subscribed) return;
    await this.subscriber.subscribe(this.options.channel, (message: string) => {
      for (const listener of this.messageListeners) listener(message);
    });
    this.subscribed = true;
  }

  /** The health check: both connections answer a PING in time and the channel is subscribed. */
  private async check(): Promise<void> {
    if (this.closed || this.checking) return;
    this.checking = true;
    try {
      if (!this.client.isReady || !this.subscriber.isReady) {
        this.enter('down', 'not connected');
        return;
      }
      await this.subscribe();
      const ping = { timeout: this.options.timeoutMs, rejectInFlight: true };
      await Promise.all([this.client.sendCommand(['PING'], ping), this.subscriber.sendCommand(['PING'], ping)]);
      this.enter('up', 'health check answered');
    } catch (err) {
      this.enter('down', `health check: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.checking = false;
    }
  }

  private enter(state: RedisState, reason: string): void {
    if (this.closed || state === this.current) return;
    this.current = state;
    this.since = Date.now();
    if (state === 'up') this.counts.enteredUp += 1;
    else this.counts.enteredDown += 1;
    // Once per change of state, never per failed command.
    if (state === 'up') this.options.logger.info('redis: up; shared cache and report in use', { replica: this.replicaId });
    else this.options.logger.warn('redis: down; serving from the local cache and V4 lookups until it answers again', { replica: this.replicaId, reason });
    for (const listener of this.stateListeners) listener(state, reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([this.client.close(), this.subscriber.close()]);
  }
}
