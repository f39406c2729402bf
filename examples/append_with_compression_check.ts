/**
 * Append a capture to a WIM only if the compression matches; otherwise convert into a new WIM.
 * Run: deno run -A examples/append_with_compression_check.ts
 */

import {
  appendWithCompressionCheck,
  CompressionMismatchError,
  createWim,
  scanTree,
} from "../mod.ts";

const work = await Deno.makeTempDir({ prefix: "wimkit-append-" });
const tree = new URL("./sample-tree", import.meta.url).pathname;
const wim = `${work}/base.wim`;
await createWim(wim, [{ root: (await scanTree(tree)).root, name: "base" }], {
  compression: "xpress",
});
const say = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
try {
  await appendWithCompressionCheck({ source: tree, wim, compression: "lzx" });
} catch (error) {
  if (!(error instanceof CompressionMismatchError)) throw error;
  say(`refused as expected: ${error.message}`);
}
const report = await appendWithCompressionCheck({
  source: tree,
  wim,
  compression: "lzx",
  convert: true,
  name: "next",
});
say(JSON.stringify(report));
await Deno.remove(work, { recursive: true });
