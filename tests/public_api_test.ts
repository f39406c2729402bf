/** The public surface of mod.ts is a reviewed list: any change to it must update this test. */

import assert from "node:assert/strict";
import * as wimkit from "@wimkit/wimkit";

const EXPECTED = [
  "CodecError",
  "CompressionMismatchError",
  "FileAttribute",
  "InlineChunkPool",
  "LzmsDecompressionStream",
  "LzmsDecompressor",
  "LzxDecompressionStream",
  "LzxDecompressor",
  "UnsafePathError",
  "WIM_HEADER_SIZE",
  "Wim",
  "WimFormatError",
  "WimIntegrityError",
  "WimkitError",
  "WorkerChunkPool",
  "XpressDecompressionStream",
  "XpressDecompressor",
  "applyImage",
  "dentryStreams",
  "filetimeToUnix",
  "findDentry",
  "getFileTimes",
  "isDirectory",
  "parseHeader",
  "preciseTimes",
  "readUnixData",
  "verifyWim",
  "walkTree",
];

Deno.test("mod.ts exports exactly the reviewed names", () => {
  assert.deepEqual(Object.keys(wimkit).sort(), [...EXPECTED].sort());
});
