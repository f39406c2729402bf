/**
 * `deno task bench [--size=MB] [--runs=N] [--corpus=DIR] [--only=lzx,xpress,manage,fanout,serve] [--apply-only]`:
 * wimkit against wimlib-imagex on the same data in one run. For each compression type both tools
 * capture the corpus (once: captures are long), then both apply wimlib's WIM N times. Prints
 * wall times and their ratio (wimkit / wimlib), WIM sizes and their ratio, and peak RSS (GNU
 * time's %M).
 *
 * The default corpus is Windows PE binaries from Debian's libwine package (apt-get download +
 * dpkg -x, no install), cut to --size MB; --corpus=DIR uses any directory instead.
 */

import { parseArgs } from "node:util";
import { processOutput } from "./ui/output.ts";
import { benchFanout } from "./bench_fanout.ts";
import { benchServe } from "./bench_serve.ts";

const WORK = new URL("../.tmp/bench/", import.meta.url).pathname;
const encoder = new TextEncoder();

/** Writes a progress note to stderr. */
function note(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}
const CLI = new URL("./cli.ts", import.meta.url).pathname;

interface Measurement {
  seconds: number;
  peakKiB: number;
}

async function sh(command: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...(cwd ? { cwd } : {}),
  })
    .output();
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Runs a command under GNU time; returns wall seconds and peak RSS. */
async function measure(command: string, args: string[]): Promise<Measurement> {
  const started = performance.now();
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", command, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`${command} failed: ${stderr.join(" ")}`);
  return { seconds, peakKiB: Number(stderr.at(-1)) };
}

async function prepareCorpus(sizeMiB: number): Promise<string> {
  const corpus = `${WORK}corpus-${sizeMiB}`;
  try {
    await Deno.stat(corpus);
    return corpus;
  } catch { /* build it */ }
  const extracted = `${WORK}libwine`;
  try {
    await Deno.stat(extracted);
  } catch {
    await Deno.mkdir(WORK, { recursive: true });
    note("bench: fetching Debian's libwine package for a corpus of Windows PE binaries");
    await sh("apt-get", ["download", "libwine"], WORK);
    const deb = (await Array.fromAsync(Deno.readDir(WORK))).find((e) =>
      e.name.startsWith("libwine") && e.name.endsWith(".deb")
    );
    if (!deb) throw new Error("apt-get download libwine produced no .deb");
    await sh("dpkg", ["-x", `${WORK}${deb.name}`, extracted]);
  }
  const source = `${extracted}/usr/lib/x86_64-linux-gnu/wine`;
  const files = (await sh("find", [source, "-type", "f"])).trim().split("\n").sort();
  let total = 0;
  const limit = sizeMiB * 1048576;
  await Deno.mkdir(corpus, { recursive: true });
  for (const file of files) {
    const size = (await Deno.stat(file)).size;
    if (total + size > limit) continue;
    const relative = file.slice(source.length + 1);
    await Deno.mkdir(`${corpus}/${relative.split("/").slice(0, -1).join("/")}`, {
      recursive: true,
    });
    await Deno.copyFile(file, `${corpus}/${relative}`);
    total += size;
  }
  return corpus;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface BenchCase {
  name: string;
  wimlibArgs: string[];
  wimkitArgs: string[];
}

const CASES: BenchCase[] = [
  { name: "xpress", wimlibArgs: ["--compress=xpress"], wimkitArgs: ["--compress=xpress"] },
  { name: "lzx", wimlibArgs: ["--compress=lzx"], wimkitArgs: ["--compress=lzx"] },
  { name: "lzms", wimlibArgs: ["--compress=lzms"], wimkitArgs: ["--compress=lzms"] },
  { name: "lzms solid", wimlibArgs: ["--solid"], wimkitArgs: ["--solid"] },
];

function row(
  job: string,
  ours: Measurement[],
  theirs: Measurement[],
  sizes?: [number, number],
): string {
  const o = median(ours.map((m) => m.seconds));
  const t = median(theirs.map((m) => m.seconds));
  const peakOurs = Math.max(...ours.map((m) => m.peakKiB)) / 1024;
  const peakTheirs = Math.max(...theirs.map((m) => m.peakKiB)) / 1024;
  const size = sizes
    ? ` ${(sizes[0] / 1048576).toFixed(1)} / ${(sizes[1] / 1048576).toFixed(1)} MiB | **${
      (sizes[0] / sizes[1]).toFixed(3)
    }x** |`
    : " | |";
  return `| ${job} | ${o.toFixed(2)} s | ${t.toFixed(2)} s | **${(o / t).toFixed(2)}x** |${size} ${
    peakOurs.toFixed(0)
  } / ${peakTheirs.toFixed(0)} MiB |`;
}

/** Captures with both tools (once each: captures are long), then applies wimlib's WIM N times. */
async function benchCase(
  corpus: string,
  bench: BenchCase,
  runs: number,
  skipCapture: boolean,
): Promise<string[]> {
  const rows: string[] = [];
  const tag = `${bench.name.replace(" ", "_")}-${corpus.split("/").pop()}`;
  const theirsWim = `${WORK}wimlib-${tag}.wim`;
  const oursWim = `${WORK}wimkit-${tag}.wim`;
  await Deno.remove(theirsWim).catch(() => {});
  const theirCapture = await measure("wimlib-imagex", [
    "capture",
    corpus,
    theirsWim,
    ...bench.wimlibArgs,
  ]);
  if (!skipCapture) {
    await Deno.remove(oursWim).catch(() => {});
    const ourCapture = await measure(Deno.execPath(), [
      "run",
      "--allow-all",
      CLI,
      "capture",
      corpus,
      oursWim,
      ...bench.wimkitArgs,
      "--quiet",
    ]);
    const sizes: [number, number] = [
      (await Deno.stat(oursWim)).size,
      (await Deno.stat(theirsWim)).size,
    ];
    rows.push(row(`capture ${bench.name}`, [ourCapture], [theirCapture], sizes));
    note(rows.at(-1)!);
  }
  const ours: Measurement[] = [];
  const theirs: Measurement[] = [];
  for (let i = 0; i < runs; i++) {
    const target = `${WORK}apply-target`;
    await Deno.remove(target, { recursive: true }).catch(() => {});
    theirs.push(await measure("wimlib-imagex", ["apply", theirsWim, target]));
    await Deno.remove(target, { recursive: true }).catch(() => {});
    ours.push(
      await measure(Deno.execPath(), [
        "run",
        "--allow-all",
        CLI,
        "apply",
        theirsWim,
        target,
        "--quiet",
      ]),
    );
    await Deno.remove(target, { recursive: true }).catch(() => {});
  }
  rows.push(row(`apply ${bench.name}`, ours, theirs));
  note(rows.at(-1)!);
  return rows;
}

/** update (add one 1 MB file) and export without recompression, both tools, on an LZX WIM. */
async function benchManagement(corpus: string): Promise<string[]> {
  const tag = `lzx-${corpus.split("/").pop()}`;
  const base = `${WORK}wimlib-${tag}.wim`;
  await Deno.stat(base).catch(async () =>
    await sh("wimlib-imagex", ["capture", corpus, base, "--compress=lzx"])
  );
  const added = `${WORK}added-1mb.bin`;
  await Deno.writeFile(
    added,
    Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 27),
  );
  const copies = [`${WORK}update-ours.wim`, `${WORK}update-theirs.wim`];
  for (const copy of copies) await Deno.copyFile(base, copy);
  const command = `add ${added} /added-1mb.bin`;
  const ours = await measure(Deno.execPath(), [
    "run",
    "--allow-all",
    CLI,
    "update",
    copies[0]!,
    "1",
    "--command",
    command,
    "--quiet",
  ]);
  const theirs = await measure("sh", [
    "-c",
    `echo "${command}" | wimlib-imagex update ${copies[1]} 1 >/dev/null`,
  ]);
  const rows = [row("update: add 1 MiB to the LZX WIM", [ours], [theirs])];
  const exports = [`${WORK}export-ours.wim`, `${WORK}export-theirs.wim`];
  for (const path of exports) await Deno.remove(path).catch(() => {});
  const exportOurs = await measure(Deno.execPath(), [
    "run",
    "--allow-all",
    CLI,
    "export",
    base,
    "1",
    exports[0]!,
    "--quiet",
  ]);
  const exportTheirs = await measure("wimlib-imagex", ["export", base, "1", exports[1]!]);
  const copy = await measure("cp", [base, `${WORK}plain-copy.wim`]);
  rows.push(
    row("export, no recompression", [exportOurs], [exportTheirs], [
      (await Deno.stat(exports[0]!)).size,
      (await Deno.stat(exports[1]!)).size,
    ]),
  );
  rows.push(`| (cp of the same WIM: ${copy.seconds.toFixed(2)} s) | | | | | | |`);
  for (const r of rows) note(r);
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      size: { type: "string", default: "200" },
      runs: { type: "string", default: "3" },
      corpus: { type: "string" },
      only: { type: "string" },
      "apply-only": { type: "boolean", default: false },
    },
  });
  const corpus = values.corpus ?? await prepareCorpus(Number(values.size));
  const bytes = Number((await sh("du", ["-sb", corpus])).split("\t")[0]);
  const header = [
    `Corpus: ${corpus} (${
      (bytes / 1048576).toFixed(0)
    } MiB); captures run once, applies median of ${values.runs}; ${navigator.hardwareConcurrency} cores`,
    "",
    "| job | wimkit | wimlib-imagex | time ratio | WIM size wimkit / wimlib | size ratio | peak RSS wimkit / wimlib |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const rows: string[] = [];
  for (
    const bench of CASES.filter((c) => !values.only || values.only.split(",").includes(c.name))
  ) {
    rows.push(...await benchCase(corpus, bench, Number(values.runs), values["apply-only"]));
  }
  if (!values.only || values.only.split(",").includes("manage")) {
    rows.push(...await benchManagement(corpus));
  }
  if (!values.only || values.only.split(",").includes("fanout")) {
    const wim = `${WORK}wimlib-lzx-${corpus.split("/").pop()}.wim`;
    await Deno.stat(wim).catch(async () =>
      await sh("wimlib-imagex", ["capture", corpus, wim, "--compress=lzx"])
    );
    const fanout = await benchFanout(wim, WORK);
    for (const r of fanout) note(r);
    rows.push(...fanout);
  }
  if (!values.only || values.only.split(",").includes("serve")) {
    const serve = await benchServe(WORK);
    for (const r of serve) note(r);
    rows.push(...serve);
  }
  processOutput.out([...header, ...rows].join("\n"));
}
