/**
 * The `serve` section of `deno task bench`: one 100 MiB file in an LZX WIM read through
 * `wimkit serve` (GET, and a 4 KiB Range in the middle) and, where FUSE works, through
 * `wimkit mount` (`cat`), against `wimkit apply` and `wimlib-imagex apply` of the same image.
 * Figures for README.md (issue 6 asks a served read for at least half of apply's throughput).
 */

import { makeBytes } from "../tests/support/trees.ts";
import { startServeCli } from "../tests/dav/dav_support.ts";
import { fuseSkipReason, startMount } from "../tests/fuse/mount_process.ts";

const CLI = new URL("./cli.ts", import.meta.url).pathname;
const FILE_MIB = 100;

async function run(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Seconds `job` takes. */
async function timed(job: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await job();
  return (performance.now() - started) / 1000;
}

/** Writes the 100 MiB file (x86-like and text pieces) and captures it with wimlib (LZX). */
async function makeWim(dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/source`, { recursive: true });
  using file = await Deno.open(`${dir}/source/big.bin`, { write: true, create: true });
  for (let i = 0; i < FILE_MIB / 4; i++) {
    const bytes = makeBytes(i % 3 === 0 ? "text" : "x86", 4 << 20, i + 1);
    for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
  }
  const wim = `${dir}/big.wim`;
  await run("wimlib-imagex", ["capture", `${dir}/source`, wim, "big", "--compress=LZX"]);
  return wim;
}

/**
 * Runs the serve/mount measurement in `workDir`; returns Markdown table rows.
 *
 * @example
 * ```ts ignore
 * const rows = await benchServe("/tmp/bench/");
 * ```
 */
export async function benchServe(workDir: string): Promise<string[]> {
  const dir = `${workDir}serve`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const wim = await makeWim(dir);
  const size = FILE_MIB * 1048576;
  const apply = await timed(() =>
    run(Deno.execPath(), ["run", "--allow-all", CLI, "apply", wim, `${dir}/ours`, "--quiet"])
  );
  const theirs = await timed(() => run("wimlib-imagex", ["apply", wim, `${dir}/theirs`]));
  let get: number;
  let range: number;
  {
    await using server = await startServeCli([wim]);
    get = await timed(async () => {
      const response = await fetch(`${server.base}/big.bin`);
      let received = 0;
      for await (const part of response.body!) received += part.length;
      if (received !== size) throw new Error(`GET returned ${received} of ${size} bytes`);
    });
    const middle = size / 2;
    range = await timed(async () => {
      const response = await fetch(`${server.base}/big.bin`, {
        headers: { range: `bytes=${middle}-${middle + 4095}` },
      });
      await response.arrayBuffer();
    });
  }
  let cat: number | undefined;
  if (fuseSkipReason === null) {
    const mountpoint = `${dir}/mnt`;
    await Deno.mkdir(mountpoint);
    await using _mount = await startMount(mountpoint, [wim, "1", mountpoint]);
    cat = await timed(() => run("cat", [`${mountpoint}/big.bin`]));
    await run(Deno.execPath(), ["run", "--allow-all", CLI, "unmount", mountpoint]);
  }
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const rate = (seconds: number) => `${(FILE_MIB / seconds).toFixed(0)} MiB/s`;
  return [
    "",
    `| ${FILE_MIB} MiB file in an LZX WIM | time | throughput | vs wimkit apply |`,
    "| --- | --- | --- | --- |",
    `| wimkit apply (process start included) | ${apply.toFixed(2)} s | ${rate(apply)} | 1 |`,
    `| wimlib-imagex apply | ${theirs.toFixed(2)} s | ${rate(theirs)} | ${
      (apply / theirs).toFixed(2)
    }x |`,
    `| GET from wimkit serve | ${get.toFixed(2)} s | ${rate(get)} | ${(apply / get).toFixed(2)}x |`,
    `| 4 KiB Range in the middle, from serve | ${(range * 1000).toFixed(0)} ms | | |`,
    cat === undefined
      ? `| cat from wimkit mount | not run: ${fuseSkipReason} | | |`
      : `| cat from wimkit mount | ${cat.toFixed(2)} s | ${rate(cat)} | ${
        (apply / cat).toFixed(2)
      }x |`,
  ];
}
