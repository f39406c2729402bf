import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type BlobTableEntry,
  groupBlobTable,
  parseBlobTable,
  serializeBlobTable,
} from "../../lib/format/blob_table.ts";
import { WimFormatError } from "../../lib/errors.ts";

const entry = fc.record({
  resource: fc.record({
    sizeInWim: fc.nat(2 ** 40),
    flags: fc.integer({ min: 0, max: 255 }),
    offset: fc.nat(2 ** 50),
    originalSize: fc.nat(2 ** 50),
  }),
  partNumber: fc.integer({ min: 0, max: 65535 }),
  refCount: fc.nat(0xffffffff),
  hash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
});

Deno.test("parseBlobTable() inverts serializeBlobTable() for any entries", () => {
  fc.assert(fc.property(fc.array(entry, { maxLength: 20 }), (entries) => {
    const plain = entries.map((e) => ({ ...e, resource: { ...e.resource } })) as BlobTableEntry[];
    assert.deepEqual(parseBlobTable(serializeBlobTable(plain)), plain);
  }));
});

Deno.test("parseBlobTable() rejects a size that is not a multiple of 50", () => {
  assert.throws(() => parseBlobTable(new Uint8Array(49)), WimFormatError);
});

Deno.test("groupBlobTable() splits metadata, plain blobs and solid runs, and drops empty entries", async () => {
  // The solid fixture: wimlib writes metadata, then one solid resource entry followed by its blobs.
  const file = await Deno.readFile(new URL("../fixtures/solid.esd", import.meta.url));
  const view = new DataView(file.buffer);
  const size = Number(view.getBigUint64(0x30, true) & 0xffffffffffffffn);
  const offset = Number(view.getBigUint64(0x38, true));
  const groups = groupBlobTable(parseBlobTable(file.subarray(offset, offset + size)), true);
  assert.equal(groups.metadata.length, 1);
  assert.equal(groups.solidRuns.length, 1);
  assert.equal(groups.solidRuns[0]!.resources.length, 1);
  assert.ok(groups.solidRuns[0]!.blobs.length >= 8);
  // In a 0x10D00 WIM the SOLID flag is ignored: everything is plain.
  const plain = groupBlobTable(parseBlobTable(file.subarray(offset, offset + size)), false);
  assert.equal(plain.solidRuns.length, 0);
});
