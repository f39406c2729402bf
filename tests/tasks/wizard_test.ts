/**
 * The wizard: the answers → command mapping, the refusal without a terminal, and a real run in
 * tmux (send-keys / capture-pane) answering every prompt of a capture and an apply.
 */

import { hasTmux } from "../support/tools.ts";
import { startInTerminal } from "../support/tmux.ts";
import assert from "node:assert/strict";
import { verifyWim, Wim } from "@wimkit/wimkit";
import { commandFor, commandLine } from "../../tasks/wizard_plan.ts";
import { compareTrees } from "../support/tree_compare.ts";
import { tempDir } from "../support/wimlib.ts";

const WIZARD = new URL("../../tasks/wizard.ts", import.meta.url).pathname;

Deno.test("commandFor() maps answers to the one-line command that runs", () => {
  assert.equal(
    commandLine({
      job: "capture",
      source: "/srv/my tree",
      destination: "out.wim",
      name: "Golden",
      compression: "recovery",
      check: true,
    }),
    "deno task wimkit capture '/srv/my tree' out.wim Golden --compress=recovery --check",
  );
  assert.deepEqual(commandFor({ job: "apply", wim: "a.wim", image: 2, target: "/mnt/c" }), [
    "apply",
    "a.wim",
    "2",
    "/mnt/c",
  ]);
  assert.deepEqual(
    commandFor({
      job: "append",
      source: "s",
      wim: "a.wim",
      name: "n",
      compression: "lzx",
      convert: true,
    }),
    ["append-with-compression-check", "s", "a.wim", "n", "--compress=lzx", "--convert"],
  );
  assert.deepEqual(commandFor({ job: "sysprep-check", target: "a.wim:1" }), [
    "sysprep-check",
    "a.wim:1",
  ]);
});

Deno.test("the wizard exits at once without a terminal, naming the commands to use", async () => {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WIZARD],
    stdin: "null",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 2);
  assert.match(new TextDecoder().decode(result.stderr), /needs a terminal.*deno task/);
});

/** Drives one wizard run in tmux; `steps` are [text to wait for, keys to send]. */
async function driveWizard(session: string, steps: [string, string[]][]): Promise<string> {
  await using term = await startInTerminal(
    session,
    `${Deno.execPath()} run -A ${WIZARD}; echo WIZARD-EXIT=$?; sleep 60`,
  );
  for (const [text, keys] of steps) {
    await term.waitFor(text);
    for (const key of keys) {
      if (key.startsWith("literal:")) await term.send([key.slice(8)], { literal: true });
      else await term.send([key]);
    }
  }
  return await term.waitFor("WIZARD-EXIT=");
}

Deno.test({
  name: "the wizard captures and applies in a real terminal (tmux)",
  ignore: !hasTmux,
  async fn() {
    await using work = await tempDir();
    const src = new URL("../../examples/sample-tree", import.meta.url).pathname;
    const wimPath = `${work.path}/wizard.wim`;
    const capture = await driveWizard(`wimkit-capture-${Date.now()}`, [
      ["What do you want to do?", ["Enter"]],
      ["Directory to capture", [`literal:${src}`, "Enter"]],
      ["WIM file to create", ["C-u", `literal:${wimPath}`, "Enter"]],
      ["Image name", ["C-u", "literal:From the wizard", "Enter"]],
      ["Compression", ["Down", "Enter"]],
      ["integrity table", ["Enter"]],
    ]);
    assert.match(capture, /deno task wimkit capture/);
    assert.match(capture, /--compress=fast/);
    assert.match(capture, /WIZARD-EXIT=0/);
    {
      await using wim = await Wim.open(wimPath);
      assert.equal(wim.compression, "xpress");
      assert.equal(wim.images()[0]!.name, "From the wizard");
      await verifyWim(wim);
    }
    const target = `${work.path}/applied`;
    const apply = await driveWizard(`wimkit-apply-${Date.now()}`, [
      ["What do you want to do?", ["Down", "Enter"]],
      ["WIM file", [`literal:${wimPath}`, "Enter"]],
      ["Image to apply", ["Enter"]],
      ["Directory to apply to", [`literal:${target}`, "Enter"]],
    ]);
    assert.match(apply, /deno task wimkit apply/);
    assert.match(apply, /WIZARD-EXIT=0/);
    assert.deepEqual(await compareTrees(target, src, { linkTimes: false, rootTime: false }), []);
  },
});
