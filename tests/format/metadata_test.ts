import assert from "node:assert/strict";
import { dentryStreams, walkTree, Wim, WimFormatError } from "@wimkit/wimkit";
import { parseMetadata } from "../../lib/format/metadata.ts";
import { parseLinkReparseData, serializeSymlinkReparseData } from "../../lib/format/reparse.ts";
import { parseSecurityData, serializeSecurityData } from "../../lib/format/security.ts";
import {
  parseTaggedItems,
  readUnixData,
  serializeTaggedItems,
  unixDataItem,
} from "../../lib/format/tagged_items.ts";

async function fixtureMetadata(name: string): Promise<Uint8Array> {
  await using wim = await Wim.open(new URL(`../fixtures/${name}`, import.meta.url).pathname);
  return await wim.readBlob(wim.metadataBlob(1));
}

Deno.test("parseMetadata() reads the fixture tree with links, hard links and UNIX data", async () => {
  const metadata = parseMetadata(await fixtureMetadata("lzx.wim"));
  const byPath = new Map([...walkTree(metadata.root)].map((d) => [d.path, d.node]));
  assert.ok(byPath.has("dir1/sub/mixed.bin"));
  assert.ok(byPath.has("Ünïcödé/ß.txt"));
  const a = byPath.get("hl_a.txt")!;
  const b = byPath.get("dir1/hl_b.txt")!;
  assert.notEqual(a.hardLinkGroup, 0n);
  assert.equal(a.hardLinkGroup, b.hardLinkGroup);
  const link = byPath.get("rel_link")!;
  assert.equal(link.reparseTag, 0xa000000c);
  assert.equal(link.reparseFlags & 1, 1, "relative links are NOT_FIXED");
  const streams = dentryStreams(link);
  assert.ok(streams.reparse !== null && streams.data === null);
  assert.equal(readUnixData(byPath.get("a.txt")!.taggedItems)?.mode, 0o100644);
  assert.equal(byPath.get("a.txt")!.lastWriteTime, 132224078451234567n);
});

Deno.test("parseMetadata() rejects a cyclic tree and a truncated resource", async () => {
  const bytes = (await fixtureMetadata("none.wim")).slice();
  const view = new DataView(bytes.buffer);
  const securityLength = view.getUint32(0, true);
  const rootSubdir = Number(view.getBigUint64(securityLength + 0x10, true));
  // Point "dir1"'s child list back at the root's list.
  const metadata = parseMetadata(bytes);
  const dir1 = metadata.root.children.find((c) => c.name === "dir1")!;
  for (let pos = 0; pos + 8 <= bytes.length; pos += 8) {
    if (view.getBigUint64(pos, true) === BigInt(dir1.subdirOffset) && pos > rootSubdir) {
      view.setBigUint64(pos, BigInt(rootSubdir), true);
    }
  }
  assert.throws(() => parseMetadata(bytes), /cyclic/);
  assert.throws(() => parseMetadata(bytes.subarray(0, securityLength + 50)), WimFormatError);
});

Deno.test("security data, tagged items and symlink reparse data round-trip", () => {
  const descriptors = [Uint8Array.of(1, 0, 4, 0x80, 1, 2, 3), Uint8Array.of(1, 0, 4, 0x80)];
  const security = parseSecurityData(serializeSecurityData(descriptors));
  assert.deepEqual(security.descriptors, descriptors);
  assert.equal(security.length % 8, 0);
  const unix = { uid: 1234, gid: 5678, mode: 0o100644, rdev: 0 };
  const area = serializeTaggedItems([unixDataItem(unix), {
    tag: 0x2,
    data: Uint8Array.of(1, 2, 3),
  }]);
  assert.deepEqual(readUnixData(area), unix);
  assert.equal(parseTaggedItems(area).length, 2);
  const link = { substituteName: "\\??\\C:\\dir", printName: "C:\\dir", relative: false };
  assert.deepEqual(parseLinkReparseData(0xa000000c, serializeSymlinkReparseData(link)), link);
  // wimlib's 32-byte blob for a relative link to "dir1" (wim-format.md §8.3).
  const wimlibBlob = Uint8Array.of(
    0,
    0,
    8,
    0,
    10,
    0,
    8,
    0,
    1,
    0,
    0,
    0,
    100,
    0,
    105,
    0,
    114,
    0,
    49,
    0,
    0,
    0,
    100,
    0,
    105,
    0,
    114,
    0,
    49,
    0,
    0,
    0,
  );
  assert.deepEqual(
    serializeSymlinkReparseData({ substituteName: "dir1", printName: "dir1", relative: true }),
    wimlibBlob,
  );
});
