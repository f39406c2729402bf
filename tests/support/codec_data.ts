/** Test data and byte comparison shared by the codec tests. */

import assert from "node:assert/strict";

/** Deterministic pseudo-random bytes (xorshift32). */
export function pseudoRandom(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let state = seed | 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state;
  }
  return out;
}

/** Repetitive but not trivial: zero runs, counters and a short period. */
export function repetitive(length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i % 97 < 40) ? 0 : ((i >> 7) + (i % 13)) & 0xff;
  return out;
}

/** Asserts byte equality without printing two huge arrays on failure. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: first difference at byte ${i}: ${actual[i]} != ${expected[i]}`);
    }
  }
}
