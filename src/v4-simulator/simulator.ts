// The public face of the simulator: tenants and their stores, the request recorder, faults,
// and the HTTP server, wired together once in the constructor.
import { RecordingSimulator } from './recording-simulator';
import { route } from './routes';
import { TenantStore } from './store';
import type { JournalEntry, SimulatorOptions, V4User } from './types';
import { cloneUser } from './user';
import { validateCreate, validateUpdate } from './validate';

const DEFAULT_MAX_LIMIT = 500;
const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

const defaultSeed = (i: number): Record<string, unknown> => ({
  name: `User ${i}`,
  contact_details: { email: `user${i}@example.com` },
  external_id: `CUST-${i}`,
});

export class V4Simulator extends RecordingSimulator {
  private readonly tenants = new Map<string, TenantStore>();
  private journaled: JournalEntry[] = [];

  constructor(options: SimulatorOptions = {}) {
    super();
    const maxLimit = options.maxLimit ?? DEFAULT_MAX_LIMIT;
    const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
    if (!Number.isSafeInteger(maxLimit) || maxLimit < 1) throw new RangeError(`maxLimit must be an integer ≥ 1; got ${maxLimit}.`);
    if (!Number.isSafeInteger(bodyLimitBytes) || bodyLimitBytes < 0) {
      throw new RangeError(`bodyLimitBytes must be an integer ≥ 0; got ${bodyLimitBytes}.`);
    }
    for (const key of options.apiKeys ?? []) this.addTenant(key);
    const recording = options.record !== false;
    const ctx = { tenants: this.tenants, maxLimit, bodyLimitBytes, journal: recording ? (entry: JournalEntry) => this.journaled.push(entry) : undefined };
    this.serve(bodyLimitBytes, options.record, (req) => route(req, ctx));
  }




  addTenant(apiKey: string): void {
    if (apiKey === '') throw new RangeError('An API key must not be empty.');
    if (!this.tenants.has(apiKey)) this.tenants.set(apiKey, new TenantStore());
  }

  // Direct store access: no HTTP, not recorded, no faults. Throws V4ApiError like the HTTP API
  // would answer (422 invalid, 409 email taken, 404 missing), and Error for an unknown tenant.

  /** `opts.id`: the user's id instead of a fresh UUID (any non-empty string not taken; RangeError otherwise). */
  createUser(apiKey: string, body: Record<string, unknown>, opts: { allowDuplicateEmail?: boolean; id?: string } = {}): V4User {
    return cloneUser(this.tenant(apiKey).create(validateCreate(body), opts.allowDuplicateEmail ?? false, opts.id));
  }

  updateUser(apiKey: string, id: string, patch: Record<string, unknown>): V4User {
    return cloneUser(this.tenant(apiKey).update(id, validateUpdate(patch)));
  }

  deleteUser(apiKey: string, id: string): boolean {
    return this.tenant(apiKey).delete(id);
  }

  getUser(apiKey: string, id: string): V4User | undefined {
    const user = this.tenant(apiKey).get(id);
    return user === undefined ? undefined : cloneUser(user);
  }

  /** Copies, in creation order. */
  listUsers(apiKey: string): V4User[] {
    return this.tenant(apiKey).all().map(cloneUser);
  }

  /**
   * The tenant's live store, not a copy: for a simulator that shows the same data another way
   * (the legacy simulator sharing its data with this one). Writes through it are not recorded.
   */
  storeOf(apiKey: string): TenantStore {
    return this.tenant(apiKey);
  }

  /**
   * Bulk seed with the same validation and email-uniqueness check as POST (so seeding twice
   * with the default bodies throws EMAIL_TAKEN). Stops at the first invalid body; the users
   * before it stay.
   */
  seedUsers(apiKey: string, count: number, make: (i: number) => Record<string, unknown> = defaultSeed): void {
    const store = this.tenant(apiKey);
    for (let i = 0; i < count; i++) store.create(validateCreate(make(i)));
  }

  /** Every write that changed the store through HTTP, in order (empty when recording is off). */
  get journal(): readonly JournalEntry[] {
    return this.journaled;
  }

  override clearRequests(): void {
    super.clearRequests();
    this.journaled = [];
  }

  private tenant(apiKey: string): TenantStore {
    const store = this.tenants.get(apiKey);
    if (store === undefined) throw new Error('Unknown tenant: call addTenant() or pass the key in options.apiKeys first.');
    return store;
  }
}
