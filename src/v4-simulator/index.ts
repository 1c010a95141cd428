// The V4 simulator's public API.
export { V4Simulator } from './simulator';
export { V4ApiError, type V4ErrorCode } from './errors';
export type { FaultKind, FaultRule, JournalEntry, RecordedRequest, RegistrationState, SimulatorOptions, V4User } from './types';
export { TenantStore } from './store';
