// A strict simulator of the legacy user-management backend (LEGACY_BASE_URL), for shadow
// comparisons. It serves the users of a TenantStore: another V4 simulator's live store (shared
// data: both APIs show the same users, so equal data gives equal answers) or a copy of its own
// (a test plants a difference in one side). The HTTP side, request recording and the fault table
// (delay, status, garbage, reset, hang, huge) are the V4 simulator's own, so a shadow can be
// made to time out, be reset or read garbage exactly as V4 can.
import { RecordingSimulator } from '../v4-simulator/recording-simulator';
import { TenantStore, type V4Simulator } from '../v4-simulator';
import { loadConfig } from '../config/load';
import type { FieldRuleConfig } from '../config/schema';
import { FieldRules } from '../translation/field-rules';
import type { JsonObject } from '../translation/json';
import { legacyRoute } from './routes';
import { legacyUserOf } from './legacy-view';

const DEFAULT_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

export interface LegacySimulatorOptions {
  /** The users it serves; default: a new, empty store of its own. */
  readonly store?: TenantStore;
  /** The V4 → legacy field rules it views the store through; default: config/default.json's. */
  readonly fieldRules?: readonly FieldRuleConfig[];
  /** Record every request (default true); benchmarks and the CLI turn it off. */
  readonly record?: boolean;
  readonly bodyLimitBytes?: number;
}

export class LegacySimulator extends RecordingSimulator {
  readonly store: TenantStore;
  private readonly rules: FieldRules;
  private readonly services = new Map<string, string>();

  /** Shares `apiKey`'s users of a V4 simulator: a write through either API shows in both. */
  static sharing(v4: V4Simulator, apiKey: string, options: Omit<LegacySimulatorOptions, 'store'> = {}): LegacySimulator {
    return new LegacySimulator({ ...options, store: v4.storeOf(apiKey) });
  }

  /** A copy of `apiKey`'s users as they are now (ids, times, profiles kept), changed independently from then on. */
  static copying(v4: V4Simulator, apiKey: string, options: Omit<LegacySimulatorOptions, 'store'> = {}): LegacySimulator {
    const store = new TenantStore();
    for (const user of v4.listUsers(apiKey)) store.restore(user);
    return new LegacySimulator({ ...options, store });
  }

  constructor(options: LegacySimulatorOptions = {}) {
    super();
    this.store = options.store ?? new TenantStore();
    this.rules = new FieldRules(options.fieldRules ?? loadConfig({ env: {} }).fieldRules);
    const ctx = { store: this.store, rules: this.rules, services: this.services };
    this.serve(options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES, options.record, (req) => legacyRoute(req, ctx));
  }




  /** Plants the legacy-only `service` of a user (null removes it); V4 never holds one. */
  setService(userId: string, service: string | null): void {
    if (this.store.get(userId) === undefined) throw new Error('No such user in the legacy simulator.');
    if (service === null) this.services.delete(userId);
    else this.services.set(userId, service);
  }

  /** The user as the legacy API answers it, or undefined. */
  legacyUser(userId: string): JsonObject | undefined {
    const user = this.store.get(userId);
    return user === undefined ? undefined : legacyUserOf(user, this.rules, this.services.get(userId));
  }
}
