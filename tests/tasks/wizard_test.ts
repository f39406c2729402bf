/**
 * The wizard: the answers → command mapping, the refusal without a terminal, and a real run in
 * tmux (send-keys / capture-pane) answering every prompt of a capture and an apply.
 */

import { hasTmux } from "../support/tools.ts";
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
  const tmux = (...args: string[]) =>
    new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  await tmux(
    "new-session",
    "-d",
    "-s",
    session,
    "-x",
    "160",
    "-y",
    "50",
    `${Deno.execPath()} run -A ${WIZARD}; echo WIZARD-EXIT=$?; sleep 60`,
  );
  const screen = async () =>
    new TextDecoder().decode(
      (await tmux("capture-pane", "-p", "-t", session, "-S", "-200")).stdout,
    );
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      const content = await screen();
      if (content.includes(text)) return content;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for "${text}"; screen:\n${await screen()}`);
  };
  try {
    for (const [text, keys] of steps) {
      await waitFor(text);
      for (const key of keys) {
        await tmux(
          "send-keys",
          "-t",
          session,
          ...(key.startsWith("literal:") ? ["-l", key.slice(8)] : [key]),
        );
      }
    }
    return await waitFor("WIZARD-EXIT=");
  } finally {
    await tmux("kill-session", "-t", session);
  }
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
