/**
 * Promises that resolve once a condition on their owner's state holds. The
 * owner calls `check()` after it changes state (the supervisor after each
 * drain of its mailbox); each check is O(conditions waiting).
 */
export class Conditions {
  readonly #waiting: Array<{ readonly holds: () => boolean; readonly resolve: () => void }> = [];

  /** Resolves once `holds()` is true: at once if it already is, else at the first `check()` that finds it so. */
  until(holds: () => boolean): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ holds, resolve }));
  }

  check(): void {
    const waiting = this.#waiting;
    if (waiting.length === 0) return;
    let kept = 0;
    for (const condition of waiting) {
      if (condition.holds()) condition.resolve();
      else waiting[kept++] = condition;
    }
    waiting.length = kept;
  }
}
