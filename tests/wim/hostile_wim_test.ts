/**
 * Hostile and corrupt WIMs: every case ends in a WimkitError (never another exception, never a
 * hang), and the input file is never changed.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { applyImage, verifyWim, Wim, WimkitError } from "@wimkit/wimkit";
import { tempDir } from "../support/wimlib.ts";

const FIXTURES = ["none.wim", "xpress.wim", "lzx.wim", "lzms.wim", "solid.esd", "two_images.wim"];

async function fixture(name: string): Promise<Uint8Array> {
  return await Deno.readFile(new URL(`../fixtures/${name}`, import.meta.url));
}

/** Opens, verifies and applies every image; returns the error (or null when all succeeded). */
async function exercise(path: string, target: string): Promise<unknown> {
  try {
    await using wim = await Wim.open(path);
    await verifyWim(wim);
    for (let i = 1; i <= wim.imageCount; i++) await applyImage(wim, i, `${target}/${i}`);
    return null;
  } catch (error) {
    return error;
  }
}

for (const name of FIXTURES) {
  Deno.test(`Wim.open() + verifyWim() + applyImage() fail cleanly on random corruption of ${name}`, async () => {
    const original = await fixture(name);
    await using work = await tempDir();
    const path = `${work.path}/${name}`;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        async (flips) => {
          const bytes = original.slice();
          for (const [offset, xor] of flips) bytes[offset]! ^= xor;
          await Deno.writeFile(path, bytes);
          const error = await exercise(path, `${work.path}/out${run++}`);
          if (error !== null && !(error instanceof WimkitError)) throw error;
          assert.deepEqual(await Deno.readFile(path), bytes, "the input was modified");
        },
      ),
      { numRuns: 40 },
    );
  });
}

Deno.test("Wim.open() rejects a file truncated at every structure boundary", async () => {
  const original = await fixture("xpress.wim");
  await using work = await tempDir();
  const path = `${work.path}/t.wim`;
  const cuts = [
    0,
    7,
    100,
    207,
    208,
    209,
    1000,
    original.length - 500,
    original.length - 50,
    original.length - 1,
  ];
  for (const cut of cuts) {
    await Deno.writeFile(path, original.subarray(0, cut));
    const error = await exercise(path, `${work.path}/out${cut}`);
    assert.ok(error instanceof WimkitError, `cut at ${cut}: ${error}`);
  }
});

Deno.test("Wim.open() rejects a file that is not a WIM, a directory and a missing path", async () => {
  await using work = await tempDir();
  await Deno.writeTextFile(`${work.path}/text.wim`, "this is not a WIM file at all".repeat(20));
  for (const path of [`${work.path}/text.wim`, work.path, `${work.path}/missing.wim`]) {
    await assert.rejects(Wim.open(path), WimkitError);
  }
});

Deno.test("applyImage() rejects an image whose file data does not match its SHA-1", async () => {
  const original = await fixture("none.wim");
  await using work = await tempDir();
  // "hello\n" is stored uncompressed right after the header in the fixture; change one letter.
  const bytes = original.slice();
  const at = bytes.indexOf(0x68, 208); // 'h'
  bytes[at] = 0x6a;
  await Deno.writeFile(`${work.path}/bad.wim`, bytes);
  await using wim = await Wim.open(`${work.path}/bad.wim`);
  await assert.rejects(applyImage(wim, 1, `${work.path}/out`), (error: unknown) => {
    assert.ok(error instanceof WimkitError);
    assert.equal(error.code, "integrity");
    assert.match(error.message, /SHA-1/);
    return true;
  });
});
