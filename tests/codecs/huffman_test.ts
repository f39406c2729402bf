import assert from "node:assert/strict";
import fc from "fast-check";
import {
  buildCodeLengths,
  buildCodewords,
  buildDecodeTable,
  decodeTableSize,
  SUBTABLE_FLAG,
} from "../../lib/codecs/huffman.ts";

/** Builds a decode table with fresh scratch arrays; returns null when the code is rejected. */
function decodeTableFor(
  lengths: Uint8Array,
  rootBits: number,
  maxLength: number,
): Uint32Array | null {
  const n = lengths.length;
  const table = new Uint32Array(decodeTableSize(n, rootBits, maxLength));
  const ok = buildDecodeTable(
    lengths,
    n,
    rootBits,
    maxLength,
    table,
    new Uint16Array(maxLength + 1),
    new Uint16Array(maxLength + 2),
    new Uint16Array(n),
  );
  return ok ? table : null;
}

/** Looks up the `maxLength`-bit string `bits` (MSB first); returns [symbol, length]. */
function lookUp(table: Uint32Array, bits: number, rootBits: number, maxLength: number): number[] {
  const entry = table[bits >>> (maxLength - rootBits)]!;
  if ((entry & SUBTABLE_FLAG) === 0) return [entry >>> 8, entry & 0xff];
  const subBits = entry & 0x7f;
  const rest = maxLength - rootBits;
  const index = (bits >>> (rest - subBits)) & ((1 << subBits) - 1);
  const sub = table[(entry >>> 8) + index]!;
  return [sub >>> 8, rootBits + (sub & 0xff)];
}

/** The Kraft sum of the used lengths, scaled by 2^maxLength. */
function kraftSum(lengths: Uint8Array, maxLength: number): number {
  let sum = 0;
  for (const len of lengths) if (len > 0) sum += 2 ** (maxLength - len);
  return sum;
}

/** Total cost of an unrestricted optimal Huffman code (sum of merged weights). */
function optimalCost(freqs: number[]): number {
  const queue = freqs.filter((f) => f > 0).sort((a, b) => a - b);
  if (queue.length < 2) return queue.length === 1 ? queue[0]! : 0;
  let cost = 0;
  while (queue.length > 1) {
    const merged = queue.shift()! + queue.shift()!;
    cost += merged;
    let i = 0;
    while (i < queue.length && queue[i]! < merged) i++;
    queue.splice(i, 0, merged);
  }
  return cost;
}

const frequencyArrays = fc.array(fc.nat({ max: 5000 }), { minLength: 2, maxLength: 600 });

Deno.test("buildCodewords() assigns the canonical codes of the abc100 example", () => {
  // wim-codecs.md §2.6: a=2, b=3, c=3, 256=2, 287=2 -> a=00, 256=01, 287=10, b=110, c=111.
  const lengths = new Uint8Array(512);
  lengths[0x61] = 2;
  lengths[0x62] = 3;
  lengths[0x63] = 3;
  lengths[256] = 2;
  lengths[287] = 2;
  const codes = new Uint16Array(512);
  buildCodewords(lengths, 512, 15, codes);
  assert.deepEqual(
    [codes[0x61], codes[256], codes[287], codes[0x62], codes[0x63]],
    [0b00, 0b01, 0b10, 0b110, 0b111],
  );
});

Deno.test("buildCodeLengths() gives the documented lengths for a small example", () => {
  const lengths = new Uint8Array(4);
  assert.equal(buildCodeLengths(Uint32Array.of(10, 1, 1, 2), 4, 15, lengths), 4);
  assert.deepEqual([...lengths], [1, 3, 3, 2]);
});

Deno.test("buildCodeLengths() completes a code with fewer than two used symbols", () => {
  const lengths = new Uint8Array(8);
  assert.equal(buildCodeLengths(new Uint32Array(8), 8, 15, lengths), 0);
  assert.deepEqual([...lengths], [1, 1, 0, 0, 0, 0, 0, 0]);
  const one = new Uint32Array(8);
  one[5] = 7;
  assert.equal(buildCodeLengths(one, 8, 15, lengths), 1);
  assert.deepEqual([...lengths], [1, 0, 0, 0, 0, 1, 0, 0]);
  one.fill(0);
  one[0] = 7;
  buildCodeLengths(one, 8, 15, lengths);
  assert.deepEqual([...lengths], [1, 1, 0, 0, 0, 0, 0, 0]);
});

Deno.test("buildCodeLengths() limits lengths and keeps the code complete", () => {
  // Fibonacci frequencies make an unlimited Huffman tree as deep as there are symbols.
  const freqs = new Uint32Array(40);
  let a = 1;
  let b = 1;
  for (let i = 0; i < 40; i++) {
    freqs[i] = a;
    [a, b] = [b, a + b];
  }
  for (const maxLength of [7, 15, 16]) {
    const lengths = new Uint8Array(40);
    buildCodeLengths(freqs, 40, maxLength, lengths);
    assert.ok(Math.max(...lengths) <= maxLength);
    assert.ok(lengths.every((len) => len > 0));
    assert.equal(kraftSum(lengths, maxLength), 2 ** maxLength);
    // More frequent symbols never get longer codes.
    for (let i = 1; i < 40; i++) assert.ok(lengths[i]! <= lengths[i - 1]!);
  }
});

Deno.test("buildCodeLengths() returns complete codes, optimal when no limit applies", () => {
  fc.assert(
    fc.property(frequencyArrays, (list) => {
      const freqs = Uint32Array.from(list);
      const lengths = new Uint8Array(freqs.length);
      const used = buildCodeLengths(freqs, freqs.length, 15, lengths);
      assert.equal(used, list.filter((f) => f > 0).length);
      assert.equal(kraftSum(lengths, 15), 2 ** 15);
      for (let i = 0; i < freqs.length; i++) {
        assert.ok(lengths[i]! <= 15);
        if (freqs[i]! > 0) assert.ok(lengths[i]! > 0);
      }
      if (used >= 2) {
        let cost = 0;
        for (let i = 0; i < freqs.length; i++) cost += freqs[i]! * lengths[i]!;
        const best = optimalCost(list);
        assert.ok(cost >= best);
        // With at most 16 symbols no codeword of an optimal code is longer than 15 bits.
        if (used <= 16) assert.equal(cost, best);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("buildCodeLengths() handles counts too large for 32-bit sort keys", () => {
  const freqs = Uint32Array.of(0xffffffff, 3, 0x80000000, 1);
  const lengths = new Uint8Array(4);
  buildCodeLengths(freqs, 4, 15, lengths);
  assert.deepEqual([...lengths], [1, 3, 2, 3]);
});

Deno.test("buildDecodeTable() decodes every codeword of random codes", () => {
  fc.assert(
    fc.property(frequencyArrays, fc.integer({ min: 4, max: 12 }), (list, rootBits) => {
      const maxLength = 15;
      const n = list.length;
      const lengths = new Uint8Array(n);
      buildCodeLengths(Uint32Array.from(list), n, maxLength, lengths);
      const codes = new Uint16Array(n);
      buildCodewords(lengths, n, maxLength, codes);
      const table = decodeTableFor(lengths, rootBits, maxLength);
      assert.ok(table);
      for (let sym = 0; sym < n; sym++) {
        const len = lengths[sym]!;
        if (len === 0) continue;
        const shift = maxLength - len;
        // Every continuation of the codeword must decode to it: try the lowest and highest.
        for (const tail of [0, (1 << shift) - 1]) {
          assert.deepEqual(lookUp(table, (codes[sym]! << shift) | tail, rootBits, maxLength), [
            sym,
            len,
          ]);
        }
      }
    }),
    { numRuns: 150 },
  );
});

Deno.test("buildDecodeTable() rejects over-full and incomplete codes", () => {
  assert.equal(decodeTableFor(Uint8Array.of(1, 1, 1), 4, 15), null);
  assert.equal(decodeTableFor(Uint8Array.of(1, 2, 2, 2), 4, 15), null);
  assert.equal(decodeTableFor(Uint8Array.of(1, 0, 0), 4, 15), null);
  assert.equal(decodeTableFor(Uint8Array.of(1, 2, 3), 4, 15), null);
  assert.ok(decodeTableFor(Uint8Array.of(1, 2, 3, 3), 4, 15));
});

Deno.test("buildDecodeTable() accepts the empty code", () => {
  const table = decodeTableFor(new Uint8Array(16), 4, 15);
  assert.ok(table);
  assert.ok(table.subarray(0, 16).every((entry) => entry === 0));
});

Deno.test("buildDecodeTable() rejects lengths above the maximum", () => {
  // 16 is beyond a 15-bit limit; without the check it was skipped and {1, 1} looked complete.
  assert.equal(decodeTableFor(Uint8Array.of(1, 1, 16), 4, 15), null);
});

Deno.test("buildDecodeTable() builds sub-tables for codes longer than the root", () => {
  // Lengths 1, 2, ..., 15, 15: a maximally deep code.
  const lengths = new Uint8Array(16);
  for (let i = 0; i < 15; i++) lengths[i] = i + 1;
  lengths[15] = 15;
  const table = decodeTableFor(lengths, 4, 15);
  assert.ok(table);
  assert.deepEqual(lookUp(table, 0b111111111111110, 4, 15), [14, 15]);
  assert.deepEqual(lookUp(table, 0b111111111111111, 4, 15), [15, 15]);
  assert.deepEqual(lookUp(table, 0b111110000000000, 4, 15), [5, 6]);
  assert.deepEqual(lookUp(table, 0b0, 4, 15), [0, 1]);
});
