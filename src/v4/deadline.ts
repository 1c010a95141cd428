/** The one deadline of a legacy call: lookup, verification and forward all spend from it. */
export class Deadline {
  readonly at: number;

  constructor(budgetMs: number, now: number = Date.now()) {
    this.at = now + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, this.at - Date.now());
  }

  expired(): boolean {
    return Date.now() >= this.at;
  }
}
