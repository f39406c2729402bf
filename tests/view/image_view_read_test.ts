/**
 * The read side of the image view against WIMs made by wimlib-imagex: stat, list, read and
 * stream agree with the captured tree (kinds, sizes, contents, link targets, hard links, times).
 */

import assert from "node:assert/strict";
import { InlineChunkPool, WorkerChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { openImageView } from "../../lib/view/image_view.ts";
import { ViewError } from "../../lib/view/types.ts";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

/** Every path under `root` (relative, "/"-separated), directories included. */
async function walk(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(`${root}${prefix}`)) {
    const path = `${prefix}/${entry.name}`;
    out.push(path);
    if (entry.isDirectory) out.push(...await walk(root, path));
  }
  return out;
}

Deno.test({
  name: "image view: stat, list and read match the tree wimlib-imagex captured",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    await makeTree(src, { seed: 7 });
    const wimPath = `${work.path}/t.wim`;
    await wimlib("capture", src, wimPath, "img", "--compress=lzx", "--unix-data");
    using pool = new WorkerChunkPool(2);
    await using view = await openImageView(wimPath, "img", { pool });
    assert.equal(view.writable, false);
    assert.equal(view.dirty, false);
    const realSrc = await Deno.realPath(src);
    for (const path of await walk(src)) {
      const info = await Deno.lstat(`${src}${path}`);
      const entry = view.stat(path);
      assert.ok(entry, `${path} is in the view`);
      assert.equal(entry.path, path);
      assert.equal(entry.name, path.split("/").at(-1));
      const kind = info.isDirectory ? "directory" : info.isSymlink ? "symlink" : "file";
      assert.equal(entry.kind, kind, path);
      assert.equal(entry.mode, info.mode, `${path} mode from UNIX data`);
      assert.ok(Math.abs(entry.lastWriteTime - info.mtime!.getTime()) < 1, `${path} mtime`);
      if (kind === "file") {
        assert.equal(entry.size, info.size, path);
        const bytes = await Deno.readFile(`${src}${path}`);
        assert.deepEqual(await view.read(path, 0, entry.size + 10), bytes, `${path} read`);
        const streamed = new Uint8Array(await new Response(view.stream(path)).arrayBuffer());
        assert.deepEqual(streamed, bytes, `${path} stream`);
        if (bytes.length > 10) {
          assert.deepEqual(await view.read(path, 3, 5), bytes.subarray(3, 8));
          const tail = new Uint8Array(await new Response(view.stream(path, 5, 9)).arrayBuffer());
          assert.deepEqual(tail, bytes.subarray(5, 9));
        }
        assert.equal(entry.hash !== undefined, true, `${path} has a hash`);
      }
      if (kind === "symlink") {
        const target = await Deno.readLink(`${src}${path}`);
        const expected = target.startsWith(realSrc + "/") ? target.slice(realSrc.length) : target;
        assert.equal(entry.linkTarget, expected, path);
        assert.equal(entry.size, new TextEncoder().encode(expected).length);
      }
      if (kind === "directory") {
        const names = [];
        for await (const child of Deno.readDir(`${src}${path}`)) names.push(child.name);
        names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        assert.deepEqual(view.list(path).map((e) => e.name), names, `${path} listing`);
      }
    }
    const links = ["/hard_a.txt", "/dir1/hard_b.txt", "/dir2/hard_c.txt"].map((p) => view.stat(p)!);
    assert.equal(new Set(links.map((e) => e.id)).size, 1, "hard links share one id");
    assert.deepEqual(links.map((e) => e.links), [3, 3, 3]);
    assert.notEqual(view.stat("/hello.txt")!.id, view.stat("/dir1/dup_of_hello.txt")!.id);
    assert.equal(view.stat("/hello.txt")!.id, view.stat("/hello.txt")!.id, "ids are stable");
    assert.equal(view.stat("/case.txt")!.lastWriteTime, -150000000000 + 500);
    assert.equal(view.stat("/CASE.TXT"), undefined, "names are case-sensitive");
    assert.equal(view.stat("/nope"), undefined);
    assert.equal(view.stat("/hello.txt/x"), undefined);
  },
});

Deno.test({
  name: "image view: errors name the reason, and a read-only view refuses changes",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(`${src}/d`, { recursive: true });
    await Deno.writeFile(`${src}/d/f`, new Uint8Array([1, 2, 3]));
    await wimlib("capture", src, `${work.path}/t.wim`, "--compress=xpress");
    using pool = new InlineChunkPool();
    await using view = await openImageView(`${work.path}/t.wim`, 1, { pool });
    const reason = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        assert.ok(error instanceof ViewError, String(error));
        return error.reason;
      }
      return "none";
    };
    assert.equal(reason(() => view.stat("/../etc/passwd")), "invalid");
    assert.equal(reason(() => view.stat("/d/a\\b")), "invalid");
    assert.equal(reason(() => view.stat("/d/a\0b")), "invalid");
    assert.equal(reason(() => view.list("/d/f")), "not-directory");
    assert.equal(reason(() => view.list("/x")), "not-found");
    assert.equal(reason(() => view.mkdir("/new")), "read-only");
    await assert.rejects(
      view.read("/d", 0, 1),
      (e) => e instanceof ViewError && e.reason === "is-directory",
    );
    await assert.rejects(
      view.read("/d/x", 0, 1),
      (e) => e instanceof ViewError && e.reason === "not-found",
    );
    assert.deepEqual([...await view.read("/d/f", 1, 100)], [2, 3]);
    assert.deepEqual([...await view.read("/d/f", 3, 100)], []);
    assert.equal(view.stat("//d/./f")?.path, "/d/f");
  },
});
