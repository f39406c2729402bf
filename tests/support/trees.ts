/**
 * Builds varied source trees at test time: nested and empty directories, unicode and
 * case-differing names, long names, empty and duplicate files, hard links, relative and absolute
 * symlinks, sizes around chunk boundaries, compressible, x86-like and random data, sub-second and
 * pre-1970 times. Content is deterministic for a given seed.
 */

import { setFileTimes, unixToFiletime } from "../../lib/fs/timestamps.ts";

/** A small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes of a given kind: "text" (compressible), "x86" (E8-call-heavy), "random". */
export function makeBytes(kind: "text" | "x86" | "random", size: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  if (kind === "random") {
    for (let i = 0; i < size; i++) out[i] = (next() * 256) | 0;
    return out;
  }
  if (kind === "text") {
    const words = ["alpha", "beta", "gamma", "delta", "wim", "image", "chunk", "blob", "\n", " "];
    let pos = 0;
    while (pos < size) {
      const word = new TextEncoder().encode(words[(next() * words.length) | 0]! + " ");
      out.set(word.subarray(0, size - pos), pos);
      pos += word.length;
    }
    return out;
  }
  // x86-like: short instruction-ish runs with E8 calls to nearby targets.
  for (let i = 0; i < size; i++) {
    const r = next();
    if (r < 0.05 && i + 5 <= size) {
      out[i] = 0xe8;
      const target = ((next() * 65536) | 0) - 32768;
      new DataView(out.buffer).setInt32(i + 1, target, true);
      i += 4;
    } else out[i] = r < 0.5 ? 0x48 + ((r * 8) | 0) : (next() * 32) | 0;
  }
  return out;
}

/** Options for {@linkcode makeTree}. */
export interface TreeOptions {
  /** Seed for content. */
  seed?: number;
  /** Skip symlinks (for archive formats without them). */
  noSymlinks?: boolean;
}

const FIXED_MTIME = { seconds: 1577934245n, nanoseconds: 123456789 };

/**
 * Creates a varied tree under `root` (which must exist and be empty).
 *
 * @returns the relative paths of the regular files it made.
 */
export async function makeTree(root: string, options: TreeOptions = {}): Promise<string[]> {
  const seed = options.seed ?? 1;
  const files: string[] = [];
  const write = async (path: string, data: Uint8Array) => {
    await Deno.writeFile(`${root}/${path}`, data);
    files.push(path);
  };
  for (const dir of ["dir1/sub/deeper", "empty_dir", "Ünïcödé ディレクトリ", "dir2"]) {
    await Deno.mkdir(`${root}/${dir}`, { recursive: true });
  }
  await write("hello.txt", new TextEncoder().encode("hello\n"));
  await write("dir1/dup_of_hello.txt", new TextEncoder().encode("hello\n"));
  await write("empty.txt", new Uint8Array(0));
  await write("dir2/empty2", new Uint8Array(0));
  await write("case.txt", new TextEncoder().encode("lower\n"));
  await write("CASE.txt", new TextEncoder().encode("upper\n"));
  await write("Ünïcödé ディレクトリ/ß-ø-€.txt", makeBytes("text", 1000, seed + 1));
  await write("l".repeat(200) + ".txt", makeBytes("text", 300, seed + 2));
  for (const size of [1, 32767, 32768, 32769, 65536, 100000]) {
    await write(`dir1/text_${size}.txt`, makeBytes("text", size, seed + size));
    await write(`dir1/sub/x86_${size}.bin`, makeBytes("x86", size, seed + size + 1));
  }
  await write("dir1/sub/deeper/random_50000.bin", makeBytes("random", 50000, seed + 3));
  await write(
    "dir2/mixed.bin",
    new Uint8Array([
      ...makeBytes("text", 40000, seed + 4),
      ...makeBytes("random", 30000, seed + 5),
    ]),
  );
  await write("dir2/dup_big_a.bin", makeBytes("x86", 70000, seed + 6));
  await write("dir2/dup_big_b.bin", makeBytes("x86", 70000, seed + 6));
  await write("hard_a.txt", new TextEncoder().encode("hard linked\n"));
  await Deno.link(`${root}/hard_a.txt`, `${root}/dir1/hard_b.txt`);
  await Deno.link(`${root}/hard_a.txt`, `${root}/dir2/hard_c.txt`);
  if (!options.noSymlinks) {
    await Deno.symlink("hello.txt", `${root}/rel_link`);
    await Deno.symlink("../hello.txt", `${root}/dir1/up_link`);
    await Deno.symlink("dir1/sub", `${root}/dir_link`);
    await Deno.symlink("missing_target", `${root}/dangling_link`);
    await Deno.symlink(`${await Deno.realPath(root)}/dir2/mixed.bin`, `${root}/abs_inside_link`);
    await Deno.symlink("/etc/hostname", `${root}/abs_outside_link`);
  }
  // Times: sub-second everywhere, one pre-1970 file, directories last (bottom-up).
  const filetime = unixToFiletime(FIXED_MTIME);
  for (const path of files) setFileTimes(`${root}/${path}`, filetime, filetime);
  setFileTimes(
    `${root}/case.txt`,
    filetime,
    unixToFiletime({ seconds: -150000000n, nanoseconds: 500000000 }),
  );
  if (!options.noSymlinks) {
    for (
      const link of [
        "rel_link",
        "dir1/up_link",
        "dir_link",
        "dangling_link",
        "abs_inside_link",
        "abs_outside_link",
      ]
    ) {
      setFileTimes(`${root}/${link}`, filetime, filetime + 12345n);
    }
  }
  const dirTime = unixToFiletime({ seconds: 1623053350n, nanoseconds: 987654300 });
  for (
    const dir of [
      "dir1/sub/deeper",
      "dir1/sub",
      "dir1",
      "empty_dir",
      "Ünïcödé ディレクトリ",
      "dir2",
      "",
    ]
  ) {
    setFileTimes(`${root}/${dir}`, dirTime, dirTime);
  }
  return files;
}
