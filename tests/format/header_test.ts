import assert from "node:assert/strict";
import { parseHeader, WIM_HEADER_SIZE, WimFormatError } from "@wimkit/wimkit";
import { serializeHeader } from "../../lib/format/header.ts";

const FIXTURES = [
  "none.wim",
  "xpress.wim",
  "lzx.wim",
  "lzms.wim",
  "solid.esd",
  "two_images.wim",
  "split.swm",
];

async function headerBytes(name: string): Promise<Uint8Array> {
  const file = await Deno.readFile(new URL(`../fixtures/${name}`, import.meta.url));
  return file.slice(0, WIM_HEADER_SIZE);
}

Deno.test("parseHeader() and serializeHeader() round-trip every fixture's header byte for byte", async () => {
  for (const name of FIXTURES) {
    const bytes = await headerBytes(name);
    assert.deepEqual(serializeHeader(parseHeader(bytes)), bytes, name);
  }
});

Deno.test("parseHeader() reads the fields wimlib wrote", async () => {
  const lzx = parseHeader(await headerBytes("lzx.wim"));
  assert.equal(lzx.version, 0x10d00);
  assert.equal(lzx.flags, 0x40082);
  assert.equal(lzx.chunkSize, 32768);
  assert.equal(lzx.imageCount, 1);
  const solid = parseHeader(await headerBytes("solid.esd"));
  assert.equal(solid.version, 0xe00);
  const two = parseHeader(await headerBytes("two_images.wim"));
  assert.equal(two.imageCount, 2);
  assert.equal(two.bootIndex, 2);
  assert.ok(two.integrity.sizeInWim > 0);
  assert.deepEqual(two.bootMetadata.offset > 0, true);
  const split = parseHeader(await headerBytes("split.swm"));
  assert.equal(split.partNumber, 1);
  assert.ok(split.totalParts >= 2);
  assert.equal(split.flags & 0x8, 0x8);
});

Deno.test("parseHeader() rejects bad magic, header size, version, part numbers and chunk sizes", async () => {
  const good = await headerBytes("lzx.wim");
  const cases: [string, (view: DataView) => void, RegExp][] = [
    ["magic", (v) => v.setUint8(0, 0x58), /magic/],
    ["header size", (v) => v.setUint32(8, 212, true), /header size is 212 bytes, expected 208/],
    ["version", (v) => v.setUint32(12, 0x10900, true), /unsupported WIM version/],
    ["part 0", (v) => v.setUint16(40, 0, true), /invalid split part/],
    ["part > total", (v) => v.setUint16(40, 3, true), /invalid split part 3 of 1/],
    ["chunk size", (v) => v.setUint32(20, 1000, true), /chunk size 1000 is not valid for LZX/],
    ["compression bit", (v) => v.setUint32(16, 0x2, true), /without a known compression type/],
    ["image count", (v) => v.setUint32(44, 70000, true), /image count 70000/],
  ];
  for (const [name, mutate, message] of cases) {
    const bytes = good.slice();
    mutate(new DataView(bytes.buffer));
    assert.throws(() => parseHeader(bytes), (error: unknown) => {
      assert.ok(error instanceof WimFormatError, name);
      assert.match((error as Error).message, message, name);
      return true;
    });
  }
  assert.throws(() => parseHeader(good.subarray(0, 100)), WimFormatError);
});
