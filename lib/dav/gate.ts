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
 * const gate = new Gate();
 * const order: string[] = [];
 * await Promise.all([
 *   gate.shared(async () => { await new Promise((r) => setTimeout(r, 10)); order.push("request"); }),
 *   gate.exclusive(() => { order.push("commit"); return Promise.resolve(); }),
 * ]);
 * console.assert(order.join() === "request,commit");
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

  async #wait(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Runs `work` alongside other shared work, never during exclusive work. */
  async shared<T>(work: () => Promise<T>): Promise<T> {
    await this.#wait(() => !this.#exclusiveHeld && this.#exclusiveWaiting === 0);
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
      await this.#wait(() => !this.#exclusiveHeld && this.#sharedCount === 0);
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
