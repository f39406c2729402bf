/**
 * The layering of architecture.md, checked on the real module graph (`deno info --json`):
 * imports point down only, and tasks/ reaches lib/ only through mod.ts and recipes/.
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

/** Folders that are layers of their own. */
const LAYER_PATTERN =
  /^(lib\/(format|codecs|io|wim|fs|registry|view|dav|fuse)|lib|recipes|tasks|mod\.ts)/;

/** Layer of a project file, by folder. */
function layerOf(path: string): string | null {
  const relative = path.startsWith(ROOT) ? path.slice(ROOT.length) : null;
  if (relative === null) return null;
  const match = LAYER_PATTERN.exec(relative);
  return match ? match[1]! : null;
}

/** Which layers each layer may import (besides itself). */
const ALLOWED: Record<string, string[]> = {
  "lib/format": ["lib"],
  "lib/codecs": ["lib"],
  "lib/io": ["lib"],
  "lib/registry": ["lib"],
  "lib/wim": ["lib", "lib/format", "lib/codecs", "lib/io"],
  "lib/fs": ["lib", "lib/format", "lib/codecs", "lib/io", "lib/wim", "lib/registry"],
  "lib/view": ["lib", "lib/format", "lib/codecs", "lib/io", "lib/wim", "lib/fs"],
  "lib/dav": ["lib", "lib/format", "lib/codecs", "lib/io", "lib/wim", "lib/fs", "lib/view"],
  "lib/fuse": ["lib", "lib/format", "lib/codecs", "lib/io", "lib/wim", "lib/fs", "lib/view"],
  "lib": ["lib/codecs"],
  "recipes": [
    "mod.ts",
    "lib",
    "lib/format",
    "lib/codecs",
    "lib/io",
    "lib/wim",
    "lib/fs",
    "lib/registry",
  ],
  "mod.ts": [
    "lib/view",
    "lib/dav",
    "lib/fuse",
    "lib",
    "lib/format",
    "lib/codecs",
    "lib/io",
    "lib/wim",
    "lib/fs",
    "lib/registry",
    "recipes",
  ],
  "tasks": ["mod.ts", "recipes"],
};

function examples(): string[] {
  return [...Deno.readDirSync(`${ROOT}examples`)].filter((e) => e.name.endsWith(".ts")).map((e) =>
    `examples/${e.name}`
  );
}

async function moduleGraph(
  entry: string,
): Promise<{ specifier: string; dependencies?: { code?: { specifier: string } }[] }[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
  })
    .output();
  return JSON.parse(new TextDecoder().decode(out.stdout)).modules;
}

Deno.test("imports follow the layering of architecture.md", async () => {
  const problems: string[] = [];
  let edges = 0;
  for (
    const entry of ["mod.ts", "tasks/cli.ts", "tasks/demo.ts", "tasks/bench.ts", ...examples()]
  ) {
    for (const module of await moduleGraph(entry)) {
      if (!module.specifier.startsWith("file://")) continue;
      const from = layerOf(new URL(module.specifier).pathname);
      if (!from) continue;
      for (const dependency of module.dependencies ?? []) {
        const target = dependency.code?.specifier;
        if (!target?.startsWith("file://")) continue;
        const to = layerOf(new URL(target).pathname);
        if (!to || to === from) continue;
        edges++;
        if (!ALLOWED[from]?.includes(to)) {
          problems.push(`${module.specifier} (${from}) imports ${target} (${to})`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(edges > 30, `only ${edges} cross-layer imports seen: is deno info working?`);
});
