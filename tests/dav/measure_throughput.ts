/**
 * Measures GET of one 100 MB file from a served LZX image against `wimkit apply` of the same
 * image (time ratios are figures for README.md, never tests). Needs wimlib-imagex to build the WIM.
 *
 *     deno run --allow-all tests/dav/measure_throughput.ts [SIZE_MB]
 */

import { makeBytes } from "../support/trees.ts";
import { tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";
import { startServeCli } from "./dav_support.ts";

const sizeMb = Number(Deno.args[0] ?? "100");
await using dir = await tempDir("wimkit-dav-bench-");
const source = `${dir.path}/source`;
await Deno.mkdir(source);
const file = await Deno.open(`${source}/big.bin`, { write: true, create: true });
const chunk = 4 * 1024 * 1024;
for (let i = 0; i < sizeMb / 4; i++) {
  const kind = i % 3 === 0 ? "text" : "x86";
  const bytes = makeBytes(kind, chunk, i + 1);
  for (let offset = 0; offset < bytes.length;) offset += await file.write(bytes.subarray(offset));
}
file.close();
const wimPath = `${dir.path}/big.wim`;
await wimlib("capture", source, wimPath, "big", "--compress=LZX");
const totalBytes = (await Deno.stat(`${source}/big.bin`)).size;
const mibPerSecond = (ms: number) => (totalBytes / 1048576 / (ms / 1000)).toFixed(0);

let started = performance.now();
const applied = await wimkitCli(["apply", wimPath, "1", `${dir.path}/applied`]);
const applyMs = performance.now() - started;
if (applied.code !== 0) throw new Error(applied.stderr);

await using server = await startServeCli([wimPath]);
started = performance.now();
const response = await fetch(`${server.base}/big.bin`);
let received = 0;
for await (const part of response.body!) received += part.length;
const getMs = performance.now() - started;
if (received !== totalBytes) throw new Error(`GET returned ${received} of ${totalBytes} bytes`);

started = performance.now();
const middle = await fetch(`${server.base}/big.bin`, {
  headers: { range: `bytes=${Math.floor(totalBytes / 2)}-${Math.floor(totalBytes / 2) + 4095}` },
});
await middle.arrayBuffer();
const rangeMs = performance.now() - started;

const line = `${sizeMb} MB LZX file: apply ${(applyMs / 1000).toFixed(2)} s (${
  mibPerSecond(applyMs)
} MiB/s, process start included), GET ${(getMs / 1000).toFixed(2)} s (${
  mibPerSecond(getMs)
} MiB/s), ratio GET/apply throughput ${(applyMs / getMs).toFixed(2)}; 4 KiB Range in the middle ${
  rangeMs.toFixed(0)
} ms\n`;
await Deno.stdout.write(new TextEncoder().encode(line));
