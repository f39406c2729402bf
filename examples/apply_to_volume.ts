/**
 * Deploy an image onto a prepared volume: preflight, apply, verify every file.
 * Run: deno run -A examples/apply_to_volume.ts [WIMFILE] [TARGET]
 */

import { applyToVolume } from "../mod.ts";

const wim = Deno.args[0] ?? new URL("./sample.wim", import.meta.url).pathname;
const target = Deno.args[1] ?? await Deno.makeTempDir({ prefix: "wimkit-volume-" });
const report = await applyToVolume({ wim, target });
Deno.stdout.writeSync(new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n"));
if (!Deno.args[1]) await Deno.remove(target, { recursive: true });
if (!report.ok) Deno.exit(1);
