// The users of one tenant (API key). Returns the stored (immutable) user objects: the HTTP
// layer serialises them directly, the public API copies them.
import { randomUUID } from 'node:crypto';
import { userNotFound, V4ApiError } from './errors';
import { MultiIndex, type Sequenced } from './multi-index';
import { OrderedSlots, type Slotted } from './ordered-slots';
import { buildUser, mergeUser } from './user';
import type { V4User } from './types';
import type { UserCreateInput, UserInput } from './validate';

interface UserRecord extends Slotted, Sequenced {
  user: V4User;
  /** Lower-cased email: the email filter and the uniqueness check are case-insensitive. */
  emailKey: string;
  /** Kept so a write-only attribute is really "stored"; never answered. */
  password: string | undefined;
}

export interface IndexFilter {
  email?: string;
  externalId?: string;
}

export interface UserPage {
  users: V4User[];
  total: number;
}

const emailKeyOf = (user: V4User): string => (user.contact_details.email ?? '').toLowerCase();

export class TenantStore {
  private readonly ordered = new OrderedSlots<UserRecord>();
  private readonly byId = new Map<string, UserRecord>();
  private readonly byEmail = new MultiIndex<UserRecord>();
  private readonly byExternalId = new MultiIndex<UserRecord>();
  private nextSeq = 0;

  get size(): number {
    return this.ordered.size;
  }

  /**
   * Throws EMAIL_TAKEN (409) unless duplicates are allowed (seeding ambiguous data on purpose).
   * `id` seeds a user with an id of the test's choosing (e.g. one that needs percent-encoding);
   * V4 itself always picks a UUID.
   */
  create(input: UserCreateInput, allowDuplicateEmail = false, id: string = randomUUID()): V4User {
    if (id === '' || this.byId.has(id)) throw new RangeError('A seeded user id must be non-empty and not taken.');
    const emailKey = input.contact_details.email.toLowerCase();
    if (!allowDuplicateEmail && this.byEmail.has(emailKey)) throw emailTaken();
    const user = buildUser(id, randomUUID(), input, Math.floor(Date.now() / 1000));
    const record: UserRecord = { slot: -1, seq: this.nextSeq++, user, emailKey, password: input.password };
    this.ordered.append(record);
    this.byId.set(user.id, record);
    this.byEmail.add(emailKey, record);
    if (typeof user.external_id === 'string') this.byExternalId.add(user.external_id, record);
    return user;
  }

  /**
   * Puts a whole user in as it is (id, registration time and profile kept), after the same
   * email-uniqueness check as create: copies of another store (the legacy simulator's own copy).
   */
  restore(user: V4User): void {
    const emailKey = emailKeyOf(user);
    if (this.byId.has(user.id)) throw new Error(`A user with id ${JSON.stringify(user.id)} is already stored.`);
    if (this.byEmail.has(emailKey)) throw emailTaken();
    const record: UserRecord = { slot: -1, seq: this.nextSeq++, user, emailKey, password: undefined };
    this.ordered.append(record);
    this.byId.set(user.id, record);
    this.byEmail.add(emailKey, record);
    if (typeof user.external_id === 'string') this.byExternalId.add(user.external_id, record);
  }

  get(id: string): V4User | undefined {
    return this.byId.get(id)?.user;
  }

  /** Throws USER_NOT_FOUND (404), or EMAIL_TAKEN (409) when the new email belongs to another user. */
  update(id: string, patch: UserInput): V4User {
    const record = this.byId.get(id);
    if (record === undefined) throw userNotFound(id);
    const user = mergeUser(record.user, patch);
    const emailKey = emailKeyOf(user);
    // Only a change of email is checked, so users seeded with a shared email stay editable.
    if (emailKey !== record.emailKey && this.byEmail.has(emailKey)) throw emailTaken();
    this.reindex(record, user, emailKey);
    return user;
  }

  delete(id: string): boolean {
    const record = this.byId.get(id);
    if (record === undefined) return false;
    this.byId.delete(id);
    this.ordered.remove(record);
    this.byEmail.remove(record.emailKey, record);
    if (typeof record.user.external_id === 'string') this.byExternalId.remove(record.user.external_id, record);
    return true;
  }

  /** One index page in creation order; filters use the secondary indexes, never a scan. */
  find(filter: IndexFilter, offset: number, limit: number): UserPage {
    if (filter.email === undefined && filter.externalId === undefined) {
      return { users: this.ordered.page(offset, limit).map((r) => r.user), total: this.ordered.size };
    }
    let matches: readonly UserRecord[] =
      filter.email !== undefined ? this.byEmail.get(filter.email.toLowerCase()) : this.byExternalId.get(filter.externalId ?? '');
    if (filter.email !== undefined && filter.externalId !== undefined) {
      matches = matches.filter((r) => r.user.external_id === filter.externalId);
    }
    return { users: matches.slice(offset, offset + limit).map((r) => r.user), total: matches.length };
  }

  all(): V4User[] {
    return this.ordered.all().map((r) => r.user);
  }

  private reindex(record: UserRecord, user: V4User, emailKey: string): void {
    if (emailKey !== record.emailKey) {
      this.byEmail.remove(record.emailKey, record);
      this.byEmail.add(emailKey, record);
      record.emailKey = emailKey;
    }
    const before = record.user.external_id;
    if (before !== user.external_id) {
      if (typeof before === 'string') this.byExternalId.remove(before, record);
      if (typeof user.external_id === 'string') this.byExternalId.add(user.external_id, record);
    }
    record.user = user;
  }
}

function emailTaken(): V4ApiError {
  return new V4ApiError(409, 'EMAIL_TAKEN', 'Another user of this customer already has this email (contact_details.email).');
}
