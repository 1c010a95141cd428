// One comparison: diff the two answers, learn noise from the primary's second answer if there
// is one, classify every difference, and sum it up in an outcome.
import type { FieldRuleConfig } from '../config/schema';
import { DifferenceClassifier } from './classify';
import { diffAnswers, type ListRule } from './diff';
import { LearntNoise } from './learnt-noise';
import { ValueMasker } from './mask';
import type { Comparison, ComparisonOutcome, ShadowAnswer } from './types';

export interface ComparatorOptions {
  readonly fieldRules: readonly FieldRuleConfig[];
  /** SHADOW_IGNORE_PATHS. */
  readonly ignorePaths: readonly string[];
  /** SHADOW_NOISE_SAMPLES. */
  readonly noiseSamples: number;
  /** LOG_HASH_KEY: with it, hashes in the report match the logs' (null: a random key). */
  readonly hashKey: string | null;
  readonly maxDifferences?: number;
  readonly listRules?: readonly ListRule[];
}

export class ShadowComparator {
  readonly masker: ValueMasker;
  readonly noise: LearntNoise;
  private readonly classifier: DifferenceClassifier;
  private readonly maxDifferences: number | undefined;
  private readonly listRules: readonly ListRule[] | undefined;

  constructor(options: ComparatorOptions) {
    this.masker = new ValueMasker(options.hashKey);
    this.noise = new LearntNoise(options.noiseSamples);
    this.classifier = new DifferenceClassifier(options.fieldRules, options.ignorePaths);
    this.maxDifferences = options.maxDifferences;
    this.listRules = options.listRules;
  }

  /** Learns the paths at which two answers of the primary to one call differ. */
  learn(route: string, first: ShadowAnswer, second: ShadowAnswer): void {
    this.noise.learn(route, diffAnswers(first, second, this.diffOptions()).differences);
  }

  compare(route: string, legacy: ShadowAnswer, v4: ShadowAnswer): Comparison {
    const { differences, truncated } = diffAnswers(legacy, v4, this.diffOptions());
    const learnt = this.noise.of(route);
    const refusal = this.classifier.refusalReason(v4);
    const classified = differences.map((d) => this.classifier.classify(d, learnt, refusal));
    let outcome: ComparisonOutcome = 'equal';
    for (const d of classified) {
      if (d.class === 'regression') outcome = 'different';
      else if (d.class === 'noise' && outcome !== 'different') outcome = 'noise';
      else if (d.class === 'expected' && outcome === 'equal') outcome = 'expected';
    }
    // Differences past the bound were not classified: they may be regressions, so say so.
    if (truncated && outcome !== 'different') outcome = 'different';
    return { outcome, differences: classified, truncated };
  }

  private diffOptions(): { masker: ValueMasker; maxDifferences?: number; listRules?: readonly ListRule[] } {
    return {
      masker: this.masker,
      ...(this.maxDifferences === undefined ? {} : { maxDifferences: this.maxDifferences }),
      ...(this.listRules === undefined ? {} : { listRules: this.listRules }),
    };
  }
}
