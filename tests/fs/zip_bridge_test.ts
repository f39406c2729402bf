import assert from "node:assert/strict";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from "@zip.js/zip.js";
import { Command } from "commander";
import {
  type ContentSource,
  createWim,
  exportImageToZip,
  type NewNode,
  type ProgressEvent,
  scanTree,
  scanZip,
  Wim,
  WimkitError,
} from "@wimkit/wimkit";
import { registerExportZip } from "../../tasks/commands/export_zip.ts";
import type { Output } from "../../tasks/ui/output.ts";
import { getFileTimes, setFileTimes, unixToFiletime } from "../../lib/fs/timestamps.ts";
import { makeTree } from "../support/trees.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { has7zz, hasWimlib, run, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

const TICKS_PER_SECOND = 10_000_000n;

/** Differences except hard-link groups, which a zip cannot keep (each link is its own copy). */
async function differences(a: string, b: string, times: boolean): Promise<string[]> {
  return (await compareTrees(a, b, { times, rootTime: false }))
    .filter((line) => !line.startsWith("hard-link group"));
}

/** Per path below `root`: the mtime in whole seconds (floor), for zips that keep seconds. */
async function mtimeSeconds(root: string): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const stack = [""];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const path = rel ? `${root}/${rel}` : root;
    const ticks = getFileTimes(path).writeTime - 116444736000000000n;
    const floor = ticks / TICKS_PER_SECOND - (ticks % TICKS_PER_SECOND < 0n ? 1n : 0n);
    if (rel) out.set(rel, floor);
    if ((await Deno.lstat(path)).isDirectory) {
      for await (const entry of Deno.readDir(path)) {
        stack.push(rel ? `${rel}/${entry.name}` : entry.name);
      }
    }
  }
  return out;
}

/** A captured varied tree: `src` (no symlinks) and `wim` (image 1). */
async function capturedTree(work: string): Promise<{ src: string; wim: string; files: string[] }> {
  const src = `${work}/src`;
  await Deno.mkdir(src);
  const files = await makeTree(src, { noSymlinks: true });
  await createWim(`${work}/src.wim`, [{ root: (await scanTree(src)).root, name: "tree" }]);
  return { src, wim: `${work}/src.wim`, files };
}

async function exportZip(wimPath: string, zip: string, level?: number) {
  await using wim = await Wim.open(wimPath);
  return await exportImageToZip(wim, 1, zip, level === undefined ? {} : { level });
}

async function makeZip(entries: [string, string | null][], level?: number): Promise<Uint8Array> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), {
    useWebWorkers: false,
    ...(level === undefined ? {} : { level }),
  });
  for (const [name, text] of entries) {
    if (text === null) await writer.add(name, null, { directory: true });
    else await writer.add(name, new Uint8ArrayReader(new TextEncoder().encode(text)));
  }
  return await writer.close();
}

async function readAll(source: ContentSource): Promise<Uint8Array> {
  const parts: number[] = [];
  for await (const part of source.read()) parts.push(...part);
  return new Uint8Array(parts);
}

function child(node: NewNode, name: string): NewNode | undefined {
  return node.children?.find((c) => c.name === name);
}

Deno.test({
  name:
    "exportImageToZip() writes a zip 7zz lists and extracts with names, contents and 100 ns times",
  ignore: !has7zz,
  async fn() {
    await using work = await tempDir();
    const { src, wim, files } = await capturedTree(work.path);
    const zip = `${work.path}/out.zip`;
    const report = await exportZip(wim, zip);
    assert.equal(report.files, files.length + 2); // + the two extra names of hard_a.txt
    assert.equal(report.directories, 6);
    assert.equal(report.skipped, 0);
    const listing = await run("7zz", ["l", "-slt", zip]);
    for (const path of [...files, "empty_dir", "Ünïcödé ディレクトリ/ß-ø-€.txt"]) {
      assert.ok(listing.includes(`Path = ${path}\n`), `7zz l does not list ${path}`);
    }
    assert.match(listing, /Modified = 2020-01-02 03:04:05\.1234567/);
    assert.match(listing, /Method = Deflate/);
    await run("7zz", ["x", `-o${work.path}/x`, zip]);
    assert.deepEqual(await differences(src, `${work.path}/x`, true), []);
    // The zip has no other entries (nothing left out, nothing extra such as "." or "..").
    await using opened = await Wim.open(wim);
    assert.equal((await scanZip(zip)).files, opened.images()[0]!.fileCount);
  },
});

Deno.test("exportImageToZip() output passes unzip -t and unzip extracts it with times to the second", async () => {
  await using work = await tempDir();
  const { src, wim } = await capturedTree(work.path);
  const zip = `${work.path}/out.zip`;
  await exportZip(wim, zip);
  const test = await run("unzip", ["-t", zip]);
  assert.match(test, /No errors detected/);
  await run("unzip", ["-q", zip, "-d", `${work.path}/x`]);
  assert.deepEqual(await differences(src, `${work.path}/x`, false), []);
  // unzip keeps whole seconds (the extended timestamp). Before 1980 it falls back to the MS-DOS
  // time, clamped to 1980-01-01 00:00 local: Info-ZIP ignores negative extended timestamps when
  // time_t is 64 bits. 7zz reads the NTFS field instead (see the test above).
  const dosMinimum = BigInt(new Date(1980, 0, 1).getTime() / 1000);
  const expected = await mtimeSeconds(src);
  const actual = await mtimeSeconds(`${work.path}/x`);
  for (const [path, seconds] of expected) {
    assert.equal(actual.get(path), seconds < dosMinimum ? dosMinimum : seconds, `mtime of ${path}`);
  }
});

Deno.test({
  name: "exportImageToZip() level 0 stores and level 9 deflates; both extract the same",
  ignore: !has7zz,
  async fn() {
    await using work = await tempDir();
    const { src, wim } = await capturedTree(work.path);
    for (const level of [0, 9]) {
      const zip = `${work.path}/l${level}.zip`;
      await exportZip(wim, zip, level);
      const listing = await run("7zz", ["l", "-slt", zip]);
      if (level === 0) assert.doesNotMatch(listing, /Method = Deflate/);
      else assert.match(listing, /Method = Deflate/);
      await run("7zz", ["x", `-o${work.path}/x${level}`, zip]);
      assert.deepEqual(await differences(src, `${work.path}/x${level}`, true), []);
      assert.match(await run("unzip", ["-t", zip]), /No errors detected/);
    }
    await assert.rejects(exportZip(wim, `${work.path}/bad.zip`, 10), RangeError);
  },
});

Deno.test("exportImageToZip() skips symbolic links with a warning and counts them", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  await makeTree(src);
  await createWim(`${work.path}/a.wim`, [{ root: (await scanTree(src)).root, name: "links" }]);
  await using wim = await Wim.open(`${work.path}/a.wim`);
  const events: ProgressEvent[] = [];
  const report = await exportImageToZip(wim, 1, `${work.path}/a.zip`, {
    onProgress: (e) => events.push(e),
  });
  assert.equal(report.skipped, 6);
  assert.ok(
    events.some((e) => e.type === "warning" && e.code === "unsupported-reparse" && e.count === 6),
  );
  assert.ok(events.some((e) => e.type === "apply-blobs" && e.doneBytes === e.totalBytes));
  const scan = await scanZip(`${work.path}/a.zip`);
  assert.equal(child(scan.root, "rel_link"), undefined);
  assert.match(await run("unzip", ["-t", `${work.path}/a.zip`]), /No errors detected/);
});

Deno.test("exportImageToZip() never leaves a partial zip: abort and bad targets leave nothing", async () => {
  await using work = await tempDir();
  const { wim: wimPath } = await capturedTree(work.path);
  await using wim = await Wim.open(wimPath);
  const controller = new AbortController();
  const zip = `${work.path}/aborted.zip`;
  await assert.rejects(
    exportImageToZip(wim, 1, zip, {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.type === "apply-blobs" && e.doneFiles === 3) controller.abort();
      },
    }),
  );
  assert.deepEqual((await Array.fromAsync(Deno.readDir(work.path))).map((e) => e.name).sort(), [
    "src",
    "src.wim",
  ]);
  // An existing zip stays as it was when the export fails.
  await Deno.writeTextFile(zip, "old");
  const failing = exportImageToZip(wim, 1, zip, {
    onProgress: (e) => {
      if (e.type === "apply-blobs") throw new Error("stop");
    },
  });
  await assert.rejects(failing, /stop/);
  assert.equal(await Deno.readTextFile(zip), "old");
  await assert.rejects(
    exportImageToZip(wim, 1, `${work.path}/no/such/dir/a.zip`),
    (error: unknown) => error instanceof WimkitError && error.code === "not-found",
  );
});

Deno.test({
  name:
    "scanZip() of a 7zz zip, captured by wimkit: wimlib-imagex verifies and applies it as 7zz extracts it",
  ignore: !has7zz || !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const src = `${work.path}/src`;
    await Deno.mkdir(src);
    const files = await makeTree(src, { noSymlinks: true });
    const zip = `${work.path}/7z.zip`;
    await run("7zz", ["a", "-tzip", zip, `${src}/*`]);
    const scan = await scanZip(zip);
    assert.equal(scan.files, files.length + 2);
    assert.equal(scan.directories, 7);
    assert.deepEqual(scan.warnings, []);
    await createWim(`${work.path}/z.wim`, [{ root: scan.root, name: "from zip" }]);
    await wimlib("verify", `${work.path}/z.wim`);
    await wimlib("apply", `${work.path}/z.wim`, "1", `${work.path}/applied`);
    await run("7zz", ["x", `-o${work.path}/x`, zip]);
    // Contents and names as the source; times exactly as 7zz restores them from the same zip.
    assert.deepEqual(await differences(src, `${work.path}/applied`, false), []);
    assert.deepEqual(await differences(`${work.path}/x`, `${work.path}/applied`, true), []);
  },
});

Deno.test({
  name: "a tree survives WIM -> zip -> WIM with contents, names, directories and 100 ns times",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    const { src, wim } = await capturedTree(work.path);
    await exportZip(wim, `${work.path}/a.zip`);
    const scan = await scanZip(`${work.path}/a.zip`);
    await createWim(`${work.path}/b.wim`, [{ root: scan.root, name: "again" }], {
      compression: "xpress",
    });
    await wimlib("verify", `${work.path}/b.wim`);
    await wimlib("apply", `${work.path}/b.wim`, "1", `${work.path}/applied`);
    assert.deepEqual(await differences(src, `${work.path}/applied`, true), []);
    const caseTxt = child(scan.root, "case.txt")!;
    assert.equal(caseTxt.lastWriteTime, unixToFiletime({ seconds: -150000000n, nanoseconds: 5e8 }));
    assert.equal(caseTxt.attributes, 0x80);
    assert.equal(child(scan.root, "empty_dir")!.attributes, 0x10);
    assert.equal(child(scan.root, "empty.txt")!.content, undefined);
  },
});

Deno.test("scanZip() builds implied directories, keeps DOS times at 2 s and reads content again on each read()", async () => {
  await using work = await tempDir();
  const zip = `${work.path}/implied.zip`;
  const writer = new ZipWriter(new Uint8ArrayWriter(), {
    useWebWorkers: false,
    extendedTimestamp: false,
  });
  const date = new Date(2021, 5, 7, 8, 9, 11); // local time, odd second: DOS rounds up to :12
  await writer.add("a/b/c.txt", new Uint8ArrayReader(new TextEncoder().encode("deep")), {
    lastModDate: date,
  });
  await writer.add("a/", null, { directory: true, lastModDate: date });
  await writer.add("top.txt", new Uint8ArrayReader(new TextEncoder().encode("top")), {
    lastModDate: date,
  });
  await Deno.writeFile(zip, await writer.close());
  const zipTime = unixToFiletime({ seconds: 1600000000n, nanoseconds: 0 });
  setFileTimes(zip, zipTime, zipTime);
  const scan = await scanZip(zip);
  assert.equal(scan.files, 2);
  assert.equal(scan.directories, 3);
  assert.equal(scan.bytes, 7);
  const a = child(scan.root, "a")!;
  const b = child(a, "b")!;
  const expected = BigInt(date.getTime() + 1000) * 10_000n + 116444736000000000n;
  assert.equal(a.lastWriteTime, expected);
  assert.equal(b.lastWriteTime, zipTime);
  assert.equal(scan.root.lastWriteTime, zipTime);
  const c = child(b, "c.txt")!;
  assert.equal(c.lastWriteTime, expected);
  assert.equal(new TextDecoder().decode(await readAll(c.content!)), "deep");
  assert.equal(new TextDecoder().decode(await readAll(c.content!)), "deep");
  assert.equal(c.content!.size, 4);
});

Deno.test("scanZip() skips entries whose names would escape or are not plain names", async () => {
  await using work = await tempDir();
  const zip = `${work.path}/hostile.zip`;
  await Deno.writeFile(
    zip,
    await makeZip([
      ["../evil.txt", "x"],
      ["/abs.txt", "x"],
      ["a/../../b.txt", "x"],
      ["C:/windows.txt", "x"],
      ["dir\\..\\..\\evil2.txt", "x"],
      ["ok/./x.txt", "x"],
      ["ok//y.txt", "x"],
      ["..", null],
      ["good.txt", "fine"],
      ["sub\\win.txt", "backslash separator"],
      ["good.txt/under_a_file.txt", "dropped"],
    ]),
  );
  const events: ProgressEvent[] = [];
  const scan = await scanZip(zip, { onProgress: (e) => events.push(e) });
  const names: string[] = [];
  const stack: [NewNode, string][] = [[scan.root, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    for (const c of node.children ?? []) {
      assert.ok(c.name !== "" && c.name !== "." && c.name !== "..", `bad name ${c.name}`);
      assert.ok(!/[\\/]/.test(c.name), `bad name ${c.name}`);
      names.push(`${path}${c.name}`);
      stack.push([c, `${path}${c.name}/`]);
    }
  }
  assert.deepEqual(names.sort(), ["good.txt", "sub", "sub/win.txt"]);
  assert.equal(
    new TextDecoder().decode(await readAll(child(scan.root, "good.txt")!.content!)),
    "fine",
  );
  const unsafe = scan.warnings.find((w) => w.code === "unsafe-name");
  assert.equal(unsafe?.count, 8);
  assert.equal(scan.warnings.find((w) => w.code === "dropped-name")?.count, 1);
  assert.ok(events.some((e) => e.type === "warning" && e.code === "unsafe-name"));
});

Deno.test("scanZip() reports a corrupt zip, and a corrupt entry when it is read, as WimkitError", async () => {
  await using work = await tempDir();
  const garbage = `${work.path}/garbage.zip`;
  await Deno.writeFile(garbage, crypto.getRandomValues(new Uint8Array(5000)));
  await assert.rejects(
    scanZip(garbage),
    (e: unknown) => e instanceof WimkitError && e.code === "format",
  );
  await assert.rejects(
    scanZip(`${work.path}/missing.zip`),
    (e: unknown) => e instanceof WimkitError && e.code === "not-found",
  );
  const good = await makeZip([["a.txt", "hello ".repeat(1000)], ["b.txt", "other ".repeat(1000)]]);
  const truncated = `${work.path}/truncated.zip`;
  await Deno.writeFile(truncated, good.subarray(0, good.length - 30));
  await assert.rejects(
    scanZip(truncated),
    (e: unknown) => e instanceof WimkitError && e.code === "format",
  );
  // Flip a byte inside a.txt's compressed data: the scan succeeds, reading the entry fails.
  const flipped = good.slice();
  flipped[60] = flipped[60]! ^ 0x55;
  const corrupt = `${work.path}/corrupt.zip`;
  await Deno.writeFile(corrupt, flipped);
  const scan = await scanZip(corrupt);
  const source = child(scan.root, "a.txt")!.content!;
  await assert.rejects(
    readAll(source),
    (e: unknown) => e instanceof WimkitError && e.path === "a.txt",
  );
  await assert.rejects(
    createWim(`${work.path}/c.wim`, [{ root: scan.root, name: "corrupt" }]),
    WimkitError,
  );
  // A stored entry with one byte changed: only the CRC-32 can tell.
  const stored = (await makeZip([["s.txt", "stored text"]], 0)).slice();
  stored[new TextDecoder("latin1").decode(stored).indexOf("stored text")] = 0x53; // "S"
  await Deno.writeFile(`${work.path}/stored.zip`, stored);
  const storedSource = child((await scanZip(`${work.path}/stored.zip`)).root, "s.txt")!.content!;
  await assert.rejects(
    readAll(storedSource),
    (e: unknown) => e instanceof WimkitError && e.code === "integrity" && /CRC-32/.test(e.message),
  );
  // A zip whose central directory understates an entry's size.
  const lying = good.slice();
  const view = new DataView(lying.buffer);
  let central = 0;
  while (view.getUint32(central, true) !== 0x02014b50) central++;
  view.setUint32(central + 24, 100, true);
  const short = `${work.path}/short.zip`;
  await Deno.writeFile(short, lying);
  const shortScan = await scanZip(short);
  const shortSource = child(shortScan.root, "a.txt")!.content!;
  assert.equal(shortSource.size, 100);
  await assert.rejects(readAll(shortSource), WimkitError);
});

Deno.test("export-zip command: --level, --json, and a usage error for a bad level", async () => {
  await using work = await tempDir();
  const { wim } = await capturedTree(work.path);
  const lines: string[] = [];
  const output: Output = { out: (line) => lines.push(line), err: (line) => lines.push(line) };
  const program = () => {
    const command = new Command("wimkit").exitOverride();
    registerExportZip(command, output);
    return command;
  };
  await program().parseAsync(
    ["export-zip", wim, "1", `${work.path}/c.zip`, "--level", "0", "--json", "--quiet"],
    { from: "user" },
  );
  const report = JSON.parse(lines.at(-1)!);
  assert.equal(report.image, 1);
  assert.equal(report.directories, 6);
  assert.ok(report.files > 20);
  assert.match(await run("unzip", ["-t", `${work.path}/c.zip`]), /No errors detected/);
  await program().parseAsync(["export-zip", wim, "tree", `${work.path}/d.zip`, "--quiet"], {
    from: "user",
  });
  assert.match(lines.at(-1)!, /^Exported image 1 of .*: \d+ files, 6 directories, \d+ bytes$/);
  await assert.rejects(
    program().parseAsync(["export-zip", wim, "1", `${work.path}/e.zip`, "--level", "12"], {
      from: "user",
    }),
    /--level "12"/,
  );
});

/** A source of `size` zero bytes, produced 1 MiB at a time. */
function zeros(size: number): ContentSource {
  const piece = new Uint8Array(1 << 20);
  return {
    size,
    label: "zeros",
    async *read() {
      for (let done = 0; done < size; done += piece.length) {
        yield piece.subarray(0, Math.min(piece.length, size - done));
      }
    },
  };
}

/** Runs `fn` and returns how far RSS rose above its level at the start (sampled every 5 ms). */
async function rssRise(fn: () => Promise<void>): Promise<number> {
  const start = Deno.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, Deno.memoryUsage().rss) - start;
}

Deno.test("a 200 MB entry streams both ways without being buffered (RSS rises < 150 MB)", async () => {
  await using work = await tempDir();
  const size = 200 << 20;
  const root: NewNode = {
    name: "",
    attributes: 0x10,
    creationTime: 0n,
    lastAccessTime: 0n,
    lastWriteTime: 0n,
    children: [{
      name: "zeros.bin",
      attributes: 0x80,
      creationTime: 132224078451234567n,
      lastAccessTime: 132224078451234567n,
      lastWriteTime: 132224078451234567n,
      content: zeros(size),
    }],
  };
  await createWim(`${work.path}/big.wim`, [{ root, name: "big" }], { compression: "none" });
  const zip = `${work.path}/big.zip`;
  const exportRise = await rssRise(async () => {
    await using wim = await Wim.open(`${work.path}/big.wim`);
    const report = await exportImageToZip(wim, 1, zip);
    assert.equal(report.bytes, size);
  });
  assert.ok(exportRise < 150 << 20, `export raised RSS by ${exportRise >> 20} MiB`);
  const importRise = await rssRise(async () => {
    const scan = await scanZip(zip);
    const source = child(scan.root, "zeros.bin")!.content!;
    let total = 0;
    for await (const part of source.read()) {
      total += part.length;
      if (part.some((b) => b !== 0)) throw new Error("not zeros");
    }
    assert.equal(total, size);
    await createWim(`${work.path}/again.wim`, [{ root: scan.root, name: "again" }], {
      compression: "none",
    });
  });
  assert.ok(importRise < 150 << 20, `import raised RSS by ${importRise >> 20} MiB`);
  await using again = await Wim.open(`${work.path}/again.wim`);
  assert.equal(again.blobs().find((b) => b.size === size)?.size, size);
});

Deno.test({
  name: "capture accepts a .zip SOURCE on the command line",
  ignore: !hasWimlib || !has7zz,
  async fn() {
    await using work = await tempDir();
    const tree = new URL("../../examples/sample-tree", import.meta.url).pathname;
    await run("7zz", ["a", "-tzip", `${work.path}/tree.zip`, `${tree}/*`]);
    const result = await wimkitCli([
      "capture",
      `${work.path}/tree.zip`,
      `${work.path}/tree.wim`,
      "--quiet",
    ]);
    assert.equal(result.code, 0, result.stderr);
    await wimlib("verify", `${work.path}/tree.wim`);
    assert.match(await wimlib("info", `${work.path}/tree.wim`), /Name:\s+tree/);
  },
});
