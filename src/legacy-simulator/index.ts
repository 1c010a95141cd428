// The legacy simulator's public API.
export { LegacySimulator, type LegacySimulatorOptions } from './simulator';
export { LEGACY_USERS_PATH } from './routes';
