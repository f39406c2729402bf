/**
 * `wimkit mount` against the oracle: a WIM captured by wimlib-imagex from a generated tree, read
 * through a real FUSE mount (ls -R, cat, cp -a) and changed with --rw, then committed or
 * discarded with `wimkit unmount`. The mount runs as a child process; every test detaches it in
 * cleanup. Ignored where FUSE mounts are impossible (no /dev/fuse, not root) or wimlib is missing.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { getFileTimes } from "../../lib/fs/timestamps.ts";
import { isWimkitMount } from "../../lib/fuse/unmount.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { makeBytes, makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";
import { fuseSkipReason, runWithTimeout, startMount, wimkitWithTimeout } from "./mount_process.ts";

const ignore = fuseSkipReason !== null || !hasWimlib;

async function sha1(path: string): Promise<string> {
  return createHash("sha1").update(await Deno.readFile(path)).digest("hex");
}

/** A WIM captured by wimlib from makeTree, its mount point and a wimlib apply of it. */
async function fixture(root: string) {
  await Deno.mkdir(`${root}/src`);
  await makeTree(`${root}/src`);
  await wimlib("capture", `${root}/src`, `${root}/test.wim`, "--compress=lzx");
  await Deno.mkdir(`${root}/mnt`);
  await wimlib("apply", `${root}/test.wim`, "1", `${root}/applied`);
  return { wim: `${root}/test.wim`, mnt: `${root}/mnt`, applied: `${root}/applied` };
}

/** mtimes of every path under two trees, which must agree within `toleranceNs`. */
async function mtimeProblems(a: string, b: string, toleranceNs: bigint): Promise<string[]> {
  const problems: string[] = [];
  const stack = [""];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const left = getFileTimes(`${a}${rel}`).writeTime;
    const right = getFileTimes(`${b}${rel}`).writeTime;
    const diff = (left - right) * 100n;
    if (diff > toleranceNs || -diff > toleranceNs) problems.push(`${rel}: ${left} vs ${right}`);
    const info = await Deno.lstat(`${a}${rel}`);
    if (info.isDirectory) {
      for await (const entry of Deno.readDir(`${a}${rel}`)) stack.push(`${rel}/${entry.name}`);
    }
  }
  return problems;
}

Deno.test({
  name: "mount: ls -R, cat and cp -a of a mounted image equal wimlib-imagex apply",
  ignore,
  async fn() {
    await using dir = await tempDir();
    const { wim, mnt, applied } = await fixture(dir.path);
    await using mount = await startMount(mnt, [wim, "1", mnt]);
    const lsMount = await runWithTimeout("ls", ["-R", "-a", mnt]);
    const lsApplied = await runWithTimeout("ls", ["-R", "-a", applied]);
    assert.equal(lsMount.code, 0, lsMount.stderr);
    assert.equal(
      lsMount.stdout.replaceAll(mnt, "<root>"),
      lsApplied.stdout.replaceAll(applied, "<root>"),
    );
    const cat = await runWithTimeout("cat", [`${mnt}/dir2/mixed.bin`]);
    assert.equal(cat.code, 0);
    assert.equal(
      createHash("sha1").update(await Deno.readFile(`${mnt}/dir2/mixed.bin`)).digest("hex"),
      await sha1(`${applied}/dir2/mixed.bin`),
    );
    const copy = `${dir.path}/copy`;
    const cp = await runWithTimeout("cp", ["-a", mnt, copy]);
    assert.equal(cp.code, 0, cp.stderr);
    // Contents, kinds, link targets (absolute ones captured with fix-ups point into the mount,
    // as wimlib's apply points them into its target), hard-link groups.
    assert.deepEqual(await compareTrees(mnt, applied, { times: false }), []);
    // cp -a copies links as they are, so the absolute one still points into the mount.
    assert.deepEqual(await compareTrees(copy, applied, { times: false }), [
      `/abs_inside_link: link target ${mnt}/dir2/mixed.bin vs <root>/dir2/mixed.bin`,
    ]);
    // Times through FUSE: the exact FILETIMEs, to the 100 ns apply sets with utimensat.
    assert.deepEqual(await mtimeProblems(mnt, applied, 0n), []);
    const sizes = await runWithTimeout("du", ["-ab", "--apparent-size", mnt]);
    const appliedSizes = await runWithTimeout("du", ["-ab", "--apparent-size", applied]);
    const fileSizes = (text: string, root: string) =>
      text.split("\n").filter((line) => line.includes(".")).map((line) => line.replace(root, ""))
        .sort();
    assert.deepEqual(fileSizes(sizes.stdout, mnt), fileSizes(appliedSizes.stdout, applied));
    const unmount = await wimkitWithTimeout(["unmount", mnt]);
    assert.equal(unmount.code, 0, unmount.stderr);
    assert.equal((await mount.exited()).code, 0);
  },
});

Deno.test({
  name: "mount --rw: copy in, delete, mkdir, rename, then unmount --commit shows exactly those",
  ignore,
  async fn() {
    await using dir = await tempDir();
    const { wim, mnt, applied } = await fixture(dir.path);
    const extra = `${dir.path}/extra`;
    await Deno.mkdir(`${extra}/nested`, { recursive: true });
    await Deno.writeFile(`${extra}/nested/big.bin`, makeBytes("x86", 3_000_000, 9));
    await Deno.writeFile(`${extra}/small.txt`, new TextEncoder().encode("small\n"));
    await using mount = await startMount(mnt, [wim, "1", mnt, "--rw"]);
    const changes = async (root: string) => {
      const cp = await runWithTimeout("cp", ["-a", extra, `${root}/extra`]);
      assert.equal(cp.code, 0, cp.stderr);
      await Deno.remove(`${root}/hello.txt`);
      await Deno.remove(`${root}/dir1/sub`, { recursive: true });
      await Deno.mkdir(`${root}/made_here`);
      await Deno.writeTextFile(`${root}/made_here/note.txt`, "written through FUSE\n");
      await Deno.rename(`${root}/dir2`, `${root}/made_here/dir2_moved`);
      await Deno.rename(`${root}/case.txt`, `${root}/renamed.txt`);
    };
    await changes(mnt);
    await changes(applied);
    assert.deepEqual(await compareTrees(mnt, applied, { times: false }), []);
    const unmount = await wimkitWithTimeout(["unmount", mnt, "--commit"]);
    assert.equal(unmount.code, 0, unmount.stderr);
    assert.match(unmount.stdout, /Committed the changes to image 1/);
    assert.equal((await mount.exited()).code, 0);
    await wimlib("verify", wim);
    const after = `${dir.path}/after`;
    await wimlib("apply", wim, "1", after);
    assert.deepEqual(await compareTrees(after, applied, { times: false }), []);
    // cp -a set the times through SETATTR; the WIM keeps them to 100 ns, as getFileTimes reads.
    assert.deepEqual(await mtimeProblems(`${after}/extra`, extra, 0n), []);
  },
});

Deno.test({
  name: "mount --rw: unmount --discard and a manual umount leave the WIM byte-identical",
  ignore,
  async fn() {
    await using dir = await tempDir();
    const { wim, mnt } = await fixture(dir.path);
    const before = await sha1(wim);
    {
      await using mount = await startMount(mnt, [wim, "1", mnt, "--rw"]);
      await Deno.writeTextFile(`${mnt}/new.txt`, "gone soon\n");
      await Deno.remove(`${mnt}/hello.txt`);
      const unmount = await wimkitWithTimeout(["unmount", mnt, "--discard"]);
      assert.equal(unmount.code, 0, unmount.stderr);
      assert.match(unmount.stdout, /changes discarded/);
      assert.equal((await mount.exited()).code, 0);
    }
    assert.equal(await sha1(wim), before);
    {
      await using mount = await startMount(mnt, [wim, "1", mnt, "--rw"]);
      await Deno.mkdir(`${mnt}/new_dir`);
      const umount = await runWithTimeout("umount", [mnt]);
      assert.equal(umount.code, 0, umount.stderr);
      const ended = await mount.exited();
      assert.equal(ended.code, 0);
      assert.match(ended.stderr, /unmounted without --commit; changes discarded/);
    }
    assert.equal(await sha1(wim), before);
  },
});

Deno.test({
  name: "mount: SIGTERM detaches; bad mount points and missing mounts are one-line errors",
  ignore,
  async fn() {
    await using dir = await tempDir();
    const { wim, mnt } = await fixture(dir.path);
    await using mount = await startMount(mnt, [wim, "1", mnt]);
    const notDir = await wimkitWithTimeout(["mount", wim, "1", `${dir.path}/test.wim`]);
    assert.notEqual(notDir.code, 0);
    assert.equal(notDir.stderr.trim().split("\n").length, 1, notDir.stderr);
    assert.match(notDir.stderr, /^wimkit: error: Cannot mount on .*not a directory/);
    const twice = await wimkitWithTimeout(["mount", wim, "1", mnt]);
    assert.equal(twice.code, 4, twice.stderr);
    assert.match(twice.stderr, /already serves/);
    const nothing = await wimkitWithTimeout(["unmount", dir.path]);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /^wimkit: error: Cannot unmount .*no wimkit mount there/);
    const pid = await runWithTimeout("pgrep", ["-f", `cli.ts mount ${wim} 1 ${mnt}$`]);
    const first = Number(pid.stdout.trim().split("\n")[0]);
    assert.ok(first > 0, pid.stdout);
    Deno.kill(first, "SIGTERM");
    const ended = await mount.exited();
    assert.equal(ended.code, 130);
    assert.equal(await isWimkitMount(mount.mountpoint), false);
  },
});
