/** The demo (and the examples it uses) run as they do for users. */

import assert from "node:assert/strict";
import { demo } from "../tasks/demo.ts";

Deno.test("deno task demo captures, verifies and applies the samples", async () => {
  const lines: string[] = [];
  await demo((line) => lines.push(line));
  assert.ok(lines.some((line) => line.includes("every applied file matches the source")));
  assert.ok(lines.some((line) => line.includes("wimlib-made")));
});
