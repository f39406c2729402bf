/**
 * The write side of the image view: changes staged, committed as an update or a new image, checked
 * with wimlib-imagex verify and apply against the same changes made on a host copy; discard and
 * aborted uploads leave nothing behind; commits wait for writes in flight; one writer per WIM.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { WorkerChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { openImageView } from "../../lib/view/image_view.ts";
import { type ImageView, ViewError } from "../../lib/view/types.ts";
import { makeBytes, makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, run, tempDir, wimlib } from "../support/wimlib.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** A body that arrives in pieces, as an HTTP upload does. */
function body(data: Uint8Array, pieces = 3): ReadableStream<Uint8Array> {
  const size = Math.ceil(data.length / pieces);
  let pos = 0;
  return new ReadableStream({
    pull(controller) {
      if (pos >= data.length) return controller.close();
      controller.enqueue(data.slice(pos, pos + size));
      pos += size;
    },
  });
}

/** Same changes on the view and on a host directory. */
async function change(view: ImageView, host: string): Promise<void> {
  const big = makeBytes("x86", 150_000, 41);
  await view.writeFile("/new.bin", body(big));
  await Deno.writeFile(`${host}/new.bin`, big);
  await view.writeFile("/hello.txt", encode("replaced\n"));
  await Deno.writeFile(`${host}/hello.txt`, encode("replaced\n"));
  // FUSE-style edits: write at an offset, grow past the end, truncate down and up.
  await view.write("/dir1/text_65536.txt", 40000, encode("EDITED"));
  await edit(`${host}/dir1/text_65536.txt`, 40000, encode("EDITED"));
  await view.write("/created.bin", 5, Uint8Array.of(1, 2, 3));
  await edit(`${host}/created.bin`, 5, Uint8Array.of(1, 2, 3));
  await view.truncate("/dir1/text_100000.txt", 50000);
  await Deno.truncate(`${host}/dir1/text_100000.txt`, 50000);
  await view.truncate("/dir2/mixed.bin", 80000);
  await Deno.truncate(`${host}/dir2/mixed.bin`, 80000);
  // A write through one hard-link name changes them all.
  await view.write("/hard_a.txt", 0, encode("HARD"));
  await edit(`${host}/hard_a.txt`, 0, encode("HARD"));
  view.mkdir("/newdir");
  await Deno.mkdir(`${host}/newdir`);
  await view.writeFile("/newdir/inner.txt", body(encode("inner file\n"), 2));
  await Deno.writeFile(`${host}/newdir/inner.txt`, encode("inner file\n"));
  view.remove("/dir1/sub", { recursive: true });
  await Deno.remove(`${host}/dir1/sub`, { recursive: true });
  view.remove("/empty.txt");
  await Deno.remove(`${host}/empty.txt`);
  view.move("/dir2/dup_big_a.bin", "/newdir/moved.bin");
  await Deno.rename(`${host}/dir2/dup_big_a.bin`, `${host}/newdir/moved.bin`);
  view.move("/case.txt", "/CASE.txt", { overwrite: true });
  await Deno.rename(`${host}/case.txt`, `${host}/CASE.txt`);
  view.copy("/dir2", "/dir2_copy");
  await run("cp", ["-r", `${host}/dir2`, `${host}/dir2_copy`]);
  view.copy("/new.bin", "/new_copy.bin");
  await Deno.copyFile(`${host}/new.bin`, `${host}/new_copy.bin`);
  await view.write("/new_copy.bin", 0, encode("copy changed"));
  await edit(`${host}/new_copy.bin`, 0, encode("copy changed"));
  view.symlink("/newdir/rel_link", "../hello.txt");
  await Deno.symlink("../hello.txt", `${host}/newdir/rel_link`);
  view.symlink("/newdir/abs_link", "/dir2/mixed.bin");
  await Deno.symlink(`${host}/dir2/mixed.bin`, `${host}/newdir/abs_link`);
}

async function edit(path: string, offset: number, data: Uint8Array): Promise<void> {
  await using file = await Deno.open(path, { write: true, create: true });
  await file.seek(offset, Deno.SeekMode.Start);
  await file.write(data);
}

async function fileHash(path: string): Promise<string> {
  return createHash("sha1").update(await Deno.readFile(path)).digest("hex");
}

async function setup(work: string): Promise<{ wimPath: string; before: string }> {
  await Deno.mkdir(`${work}/src`);
  await makeTree(`${work}/src`, { seed: 9 });
  const wimPath = `${work}/t.wim`;
  await wimlib("capture", `${work}/src`, wimPath, "img", "--compress=lzx");
  await wimlib("apply", wimPath, "1", `${work}/before`);
  return { wimPath, before: `${work}/before` };
}

Deno.test({
  name: "image view: changes committed as an update match the same changes made on disk",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath, before } = await setup(work.path);
    using pool = new WorkerChunkPool(2);
    await using view = await openImageView(wimPath, 1, { writable: true, pool });
    const helloId = view.stat("/dir1/dup_of_hello.txt")!.id;
    await change(view, before);
    assert.equal(view.dirty, true);
    assert.equal(view.stat("/new.bin")!.changed, true);
    assert.equal(view.stat("/new.bin")!.hash, undefined, "no hash for staged content");
    assert.deepEqual(await view.read("/dir1/hard_b.txt", 0, 4), encode("HARD"));
    assert.deepEqual(await view.read("/created.bin", 0, 10), Uint8Array.of(0, 0, 0, 0, 0, 1, 2, 3));
    assert.equal(
      view.stat("/dir2_copy/dup_big_b.bin")!.hash,
      view.stat("/dir2/dup_big_b.bin")!.hash,
    );
    assert.equal(view.stat("/newdir/rel_link")!.linkTarget, "../hello.txt");
    view.setTimes("/newdir/inner.txt", { lastWriteTime: 1_600_000_000_123.4567 });
    assert.equal(view.stat("/newdir/inner.txt")!.lastWriteTime, 1_600_000_000_123.4567);
    const result = await view.commit();
    assert.equal(result.image, 1);
    assert.ok(result.newBytes > 0);
    assert.equal(view.dirty, false);
    assert.equal(view.stat("/new.bin")!.changed, false);
    assert.equal(view.stat("/dir1/dup_of_hello.txt")!.id, helloId, "ids survive the commit");
    assert.ok(view.stat("/new.bin")!.hash, "committed content has a hash");
    assert.deepEqual(await view.read("/newdir/inner.txt", 0, 100), encode("inner file\n"));

    await wimlib("verify", wimPath);
    assert.match(await wimlib("info", wimPath), /Image Count:\s+1\b/);
    await wimlib("apply", wimPath, "1", `${work.path}/after`);
    assert.deepEqual(await compareTrees(`${work.path}/after`, before, { times: false }), []);
    const inner = await Deno.stat(`${work.path}/after/newdir/inner.txt`);
    assert.equal(inner.mtime?.getTime(), 1_600_000_000_123, "setTimes reached the image");
  },
});

Deno.test({
  name: "image view: commit as a new image keeps the original image",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath, before } = await setup(work.path);
    using pool = new WorkerChunkPool(2);
    await using view = await openImageView(wimPath, 1, { writable: true, pool });
    await view.writeFile("/added.txt", encode("added\n"));
    view.remove("/dir2", { recursive: true });
    const result = await view.commit({ newImage: "changed" });
    assert.equal(result.image, 2);
    assert.equal(view.stat("/added.txt")?.size, 6, "the view now shows the new image");
    await wimlib("verify", wimPath);
    await wimlib("apply", wimPath, "1", `${work.path}/one`);
    assert.deepEqual(await compareTrees(`${work.path}/one`, before, { times: false }), []);
    await wimlib("apply", wimPath, "changed", `${work.path}/two`);
    assert.equal(await Deno.readTextFile(`${work.path}/two/added.txt`), "added\n");
    await assert.rejects(Deno.stat(`${work.path}/two/dir2`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "image view: discard and dispose leave the WIM byte-identical and the staging area empty",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath, before } = await setup(work.path);
    const original = await fileHash(wimPath);
    await Deno.mkdir(`${work.path}/staging`);
    using pool = new WorkerChunkPool(2);
    {
      await using view = await openImageView(wimPath, 1, {
        writable: true,
        pool,
        stagingDir: `${work.path}/staging`,
      });
      await run("cp", ["-a", before, `${work.path}/scratch`]);
      await change(view, `${work.path}/scratch`);
      assert.equal(view.dirty, true);
      await view.writeFile("/x.txt", encode("x"));
      await view.discard();
      assert.equal(view.dirty, false);
      assert.equal(view.stat("/x.txt"), undefined);
      assert.equal(view.stat("/hello.txt")!.size, 6);
      await view.writeFile("/y.txt", encode("y"));
    }
    assert.equal(await fileHash(wimPath), original);
    assert.deepEqual([...Deno.readDirSync(`${work.path}/staging`)], [], "staging removed");
    await wimlib("apply", wimPath, "1", `${work.path}/again`);
    assert.deepEqual(await compareTrees(`${work.path}/again`, before), []);
  },
});

Deno.test({
  name: "image view: an upload that fails midway leaves no entry and keeps the old content",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath } = await setup(work.path);
    using pool = new WorkerChunkPool(2);
    await Deno.mkdir(`${work.path}/staging`);
    await using view = await openImageView(wimPath, 1, {
      writable: true,
      pool,
      stagingDir: `${work.path}/staging`,
    });
    const failing = () => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 3) controller.enqueue(new Uint8Array(10000));
          else controller.error(new Error("client went away"));
        },
      });
    };
    await assert.rejects(view.writeFile("/partial.bin", failing()), /client went away/);
    await assert.rejects(view.writeFile("/hello.txt", failing()), /client went away/);
    assert.equal(view.stat("/partial.bin"), undefined);
    assert.deepEqual(await view.read("/hello.txt", 0, 100), encode("hello\n"));
    assert.equal(view.dirty, false);
    const [stagingDir] = [...Deno.readDirSync(`${work.path}/staging`)];
    assert.deepEqual([...Deno.readDirSync(`${work.path}/staging/${stagingDir!.name}`)], []);
    await assert.rejects(
      view.writeFile("/no/such/dir.txt", encode("x")),
      (e) => e instanceof ViewError && e.reason === "not-found",
    );
    await assert.rejects(
      view.writeFile("/dir1", encode("x")),
      (e) => e instanceof ViewError && e.reason === "is-directory",
    );
  },
});

Deno.test({
  name: "image view: a commit waits for uploads in flight and refuses changes meanwhile",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath } = await setup(work.path);
    using pool = new WorkerChunkPool(2);
    await using view = await openImageView(wimPath, 1, { writable: true, pool });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encode("first half, "));
        await gate;
        controller.enqueue(encode("second half"));
        controller.close();
      },
    });
    const upload = view.writeFile("/slow.txt", slow);
    const commit = view.commit();
    assert.throws(
      () => view.mkdir("/late"),
      (e) => e instanceof ViewError && e.reason === "read-only",
    );
    await assert.rejects(view.commit(), (e) => e instanceof ViewError && e.reason === "read-only");
    release();
    await upload;
    await commit;
    await wimlib("apply", wimPath, "1", `${work.path}/out`);
    assert.equal(await Deno.readTextFile(`${work.path}/out/slow.txt`), "first half, second half");
    view.mkdir("/late");
    assert.equal(view.stat("/late")?.kind, "directory");
  },
});

Deno.test({
  name: "image view: a second writable view of the same WIM is refused",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { wimPath } = await setup(work.path);
    using pool = new WorkerChunkPool(2);
    await using view = await openImageView(wimPath, 1, { writable: true, pool });
    await assert.rejects(
      openImageView(wimPath, 1, { writable: true, pool }),
      /another program holds its lock/,
    );
    await using reader = await openImageView(wimPath, 1, { pool });
    assert.equal(reader.stat("/hello.txt")?.size, view.stat("/hello.txt")?.size);
  },
});
