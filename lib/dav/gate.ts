/**
 * A readers-writer gate: requests pass together ("shared"), a commit or discard waits for them to
 * finish and runs alone ("exclusive"). Waiting exclusive holders go first, so a stream of requests
 * cannot starve a commit.
 */

/**
 * Runs work shared or exclusive.
 *
 * @example
 * ```ts
 * import { Gate } from "./gate.ts";
 * import assert from "node:assert/strict";
 * const gate = new Gate();
 * const order: string[] = [];
 * await Promise.all([
 *   gate.shared(async () => { await new Promise((r) => setTimeout(r, 10)); order.push("request"); }),
 *   gate.exclusive(() => { order.push("commit"); return Promise.resolve(); }),
 * ]);
 * assert.equal(order.join(), "request,commit");
 * ```
 */
export class Gate {
  #sharedCount = 0;
  #exclusiveHeld = false;
  #exclusiveWaiting = 0;
  #waiters: (() => void)[] = [];

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves at the next change of state. */
  #next(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Runs `work` alongside other shared work, never during exclusive work. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    // Admission is synchronous when nothing blocks it, so that an exclusive holder asking in the
    // same tick sees this work as in progress and waits for it.
    while (this.#exclusiveHeld || this.#exclusiveWaiting > 0) await this.#next();
    this.#sharedCount++;
    try {
      return await work();
    } finally {
      this.#sharedCount--;
      this.#wake();
    }
  }

  /** Runs `work` alone, after shared work in progress has finished. */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    this.#exclusiveWaiting++;
    try {
      while (this.#exclusiveHeld || this.#sharedCount > 0) await this.#next();
    } finally {
      this.#exclusiveWaiting--;
    }
    this.#exclusiveHeld = true;
    try {
      return await work();
    } finally {
      this.#exclusiveHeld = false;
      this.#wake();
    }
  }
}
