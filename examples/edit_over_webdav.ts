/**
 * Change an image without extracting it: serve it over WebDAV on loopback, make a folder, upload a
 * file and delete one as any WebDAV client would (here with fetch), commit, and read the result.
 * Run: deno run -A examples/edit_over_webdav.ts [WIMFILE]
 * (without WIMFILE it works on a copy of examples/sample.wim)
 */

import { openImageView, serveDav, Wim } from "../mod.ts";

const wimPath = Deno.args[0] ?? await (async () => {
  const copy = await Deno.makeTempFile({ prefix: "wimkit-webdav-", suffix: ".wim" });
  await Deno.copyFile(new URL("./sample.wim", import.meta.url), copy);
  return copy;
})();

/** Sends one WebDAV request and returns its status, failing on anything but `expected`. */
async function dav(url: string, method: string, expected: number, body?: string): Promise<void> {
  const response = await fetch(url, { method, ...(body === undefined ? {} : { body }) });
  await response.body?.cancel();
  if (response.status !== expected) throw new Error(`${method} ${url}: ${response.status}`);
}

{
  await using view = await openImageView(wimPath, 1, { writable: true });
  await using server = await serveDav(view, { port: 0, writable: true });
  await dav(`${server.url}notes/`, "MKCOL", 201);
  await dav(
    `${server.url}notes/deployed.txt`,
    "PUT",
    201,
    `deployed ${new Date().toISOString()}\n`,
  );
  await dav(`${server.url}a.txt`, "DELETE", 204);
  const commit = await fetch(`${server.url}.wimkit/commit`, { method: "POST" });
  Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(await commit.json()) + "\n"));
  await server.shutdown();
}

await using wim = await Wim.open(wimPath);
const root = (await wim.readImage(1)).metadata.root;
const notes = root.children.find((child) => child.name === "notes");
if (!notes?.children.some((child) => child.name === "deployed.txt")) {
  throw new Error("the committed image lacks notes/deployed.txt");
}
if (root.children.some((child) => child.name === "a.txt")) {
  throw new Error("the committed image still has a.txt");
}
if (!Deno.args[0]) await Deno.remove(wimPath);
