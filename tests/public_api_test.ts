/** The public surface of mod.ts is a reviewed list: any change to it must update this test. */

import assert from "node:assert/strict";
import * as wimkit from "@wimkit/wimkit";

const EXPECTED = [
  "CodecError",
  "CompressionMismatchError",
  "FileAttribute",
  "InlineChunkPool",
  "LzmsCompressionStream",
  "LzmsCompressor",
  "LzmsDecompressionStream",
  "LzmsDecompressor",
  "LzxCompressionStream",
  "LzxCompressor",
  "LzxDecompressionStream",
  "LzxDecompressor",
  "UnsafePathError",
  "WIM_HEADER_SIZE",
  "Wim",
  "WimFormatError",
  "WimIntegrityError",
  "WimkitError",
  "WorkerChunkPool",
  "XpressCompressionStream",
  "XpressCompressor",
  "XpressDecompressionStream",
  "XpressDecompressor",
  "appendToWim",
  "applyImage",
  "createWim",
  "dentryStreams",
  "filetimeToUnix",
  "findDentry",
  "getFileTimes",
  "isDirectory",
  "openHive",
  "parseCaptureConfig",
  "parseHeader",
  "preciseTimes",
  "readUnixData",
  "scanTree",
  "verifyWim",
  "walkTree",
  "windowsProperties",
];

Deno.test("mod.ts exports exactly the reviewed names", () => {
  assert.deepEqual(Object.keys(wimkit).sort(), [...EXPECTED].sort());
});
