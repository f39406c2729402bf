/**
 * Capture a tree and publish the WIM to a deployment share (here a temporary folder standing in
 * for a mounted SMB/NFS share; an http(s):// WebDAV URL works the same way), then append a second
 * image to it.
 * Run: deno run -A examples/capture_to_share.ts
 */

import { captureToShare } from "../recipes/capture_to_share.ts";

const share = await Deno.makeTempDir({ prefix: "wimkit-share-" });
const tree = new URL("./sample-tree", import.meta.url).pathname;
const say = (text: string) => Deno.stdout.writeSync(new TextEncoder().encode(text + "\n"));
try {
  const destination = `${share}/deploy.wim`;
  const first = await captureToShare({
    source: tree,
    destination,
    name: "base",
    compression: "xpress",
    check: true,
  });
  say(JSON.stringify(first));
  const second = await captureToShare({
    source: tree,
    destination,
    name: "again",
    compression: "xpress",
    append: true,
  });
  say(JSON.stringify(second));
  if (!second.published || second.images !== 2) throw new Error("the append did not publish");
} finally {
  await Deno.remove(share, { recursive: true });
}
