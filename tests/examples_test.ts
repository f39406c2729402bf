/** The demo and every script in examples/ run as they do for users. */

import assert from "node:assert/strict";
import { demo } from "../tasks/demo.ts";

Deno.test("deno task demo captures, verifies and applies the samples", async () => {
  const lines: string[] = [];
  await demo((line) => lines.push(line));
  assert.ok(lines.some((line) => line.includes("every applied file matches the source")));
  assert.ok(lines.some((line) => line.includes("wimlib-made")));
});

const EXAMPLES = new URL("../examples/", import.meta.url);
for (const entry of Deno.readDirSync(EXAMPLES)) {
  if (!entry.name.endsWith(".ts")) continue;
  Deno.test(`examples/${entry.name} runs and exits 0`, async () => {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL(entry.name, EXAMPLES).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  });
}
