/**
 * Names that would escape the target: a WIM made by wimlib is patched so a file is named
 * "a/txt", "a\txt" or "..", with the metadata hash fixed up so only the names are hostile.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { applyImage, Wim } from "@wimkit/wimkit";
import { tempDir } from "../support/wimlib.ts";

function utf16(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) out[i * 2] = text.charCodeAt(i);
  return out;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Renames "a.txt" in the uncompressed fixture to `name` (same length) and fixes the hashes. */
async function patchedWim(name: string): Promise<Uint8Array> {
  const bytes = (await Deno.readFile(new URL("../fixtures/none.wim", import.meta.url))).slice();
  const view = new DataView(bytes.buffer);
  // The blob table's first entry is image 1's metadata resource (wimlib writes metadata first).
  const tableOffset = Number(view.getBigUint64(0x38, true));
  const metaSize = Number(view.getBigUint64(tableOffset, true) & 0xffffffffffffffn);
  const metaOffset = Number(view.getBigUint64(tableOffset + 8, true));
  const oldHash = bytes.slice(tableOffset + 30, tableOffset + 50);
  const at = indexOfBytes(bytes, utf16("a.txt"), metaOffset);
  assert.ok(at > 0 && at < metaOffset + metaSize);
  bytes.set(utf16(name), at);
  const newHash = createHash("sha1").update(bytes.subarray(metaOffset, metaOffset + metaSize))
    .digest();
  for (
    let pos = indexOfBytes(bytes, oldHash);
    pos >= 0;
    pos = indexOfBytes(bytes, oldHash, pos + 1)
  ) {
    bytes.set(newHash, pos);
  }
  return bytes;
}

for (const name of ["a/txt", "a\\txt", "..txt".slice(0, 2).padEnd(5, "\0")]) {
  Deno.test(`applyImage() never writes outside the target for a file named ${JSON.stringify(name)}`, async () => {
    await using work = await tempDir();
    await Deno.writeFile(`${work.path}/hostile.wim`, await patchedWim(name));
    const target = `${work.path}/deep/target`;
    await using wim = await Wim.open(`${work.path}/hostile.wim`);
    const warnings: string[] = [];
    await applyImage(wim, 1, target, {
      onProgress: (event) => {
        if (event.type === "warning") warnings.push(event.message);
      },
    });
    // Nothing appeared next to or above the target, and the entry was reported.
    const siblings = (await Array.fromAsync(Deno.readDir(`${work.path}/deep`))).map((e) => e.name);
    assert.deepEqual(siblings, ["target"]);
    assert.deepEqual((await Array.fromAsync(Deno.readDir(work.path))).map((e) => e.name).sort(), [
      "deep",
      "hostile.wim",
    ]);
    assert.ok(warnings.length > 0, "a warning names the skipped entry");
    assert.equal(await Deno.readTextFile(`${target}/dir1/dup.txt`), "hello\n");
  });
}
