// The shadow comparison's public API: what the gateway wires into its request path.
export { ShadowComparator, type ComparatorOptions } from './comparator';
export { DiffStore, type DiffStoreJson, type DiffStoreOptions } from './diff-store';
export { diffAnswers, LIST_RULES, type ListRule } from './diff';
export { DifferenceClassifier } from './classify';
export { LegacyShadowCaller, type LegacyShadowRequest } from './legacy-caller';
export { ShadowMetrics, type ShadowResult } from './shadow-metrics';
export { ShadowRunner, failureOf, type ReadBackCall, type ShadowCall, type ShadowMode, type ShadowReportJson, type ShadowSettings, type SubmitResult } from './runner';
export { createShadow, type Shadow } from './create';
export * from './types';
