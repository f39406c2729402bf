/**
 * `wimkit serve --rw` in a real terminal (tmux): Ctrl-C with uncommitted changes asks whether to
 * commit them, and "y" writes them into the image (checked with wimlib-imagex).
 */

import { hasTmux } from "../support/tools.ts";
import assert from "node:assert/strict";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

const CLI = new URL("../../tasks/cli.ts", import.meta.url).pathname;

function tmux(...args: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
}

/** Waits until the pane shows a match of `pattern`; returns the match. */
async function waitFor(session: string, pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 30_000;
  let screen = "";
  while (Date.now() < deadline) {
    screen = new TextDecoder().decode((await tmux("capture-pane", "-p", "-t", session)).stdout);
    const match = screen.match(pattern);
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${pattern}; screen:\n${screen}`);
}

Deno.test({
  name: "serve --rw asks on Ctrl-C whether to commit, and y commits (tmux)",
  ignore: !hasTmux || !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const source = `${dir.path}/source`;
    await Deno.mkdir(source);
    await makeTree(source, { seed: 3, noSymlinks: true });
    const wimPath = `${dir.path}/served.wim`;
    await wimlib("capture", source, wimPath, "served", "--compress=LZX");
    const session = `wimkit-serve-${Date.now()}`;
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "160",
      "-y",
      "20",
      `NO_COLOR=1 ${Deno.execPath()} run -A ${CLI} serve ${wimPath} --rw --port 0; echo SERVE-EXIT=$?; sleep 60`,
    );
    try {
      const [, url] = await waitFor(session, /(http:\/\/127\.0\.0\.1:\d+)\//);
      const put = await fetch(`${url}/from-the-terminal.txt`, { method: "PUT", body: "typed\n" });
      await put.body?.cancel();
      assert.equal(put.status, 201);
      await tmux("send-keys", "-t", session, "C-c");
      await waitFor(session, /commit 1 change to WIM\? \[y\/N\]/);
      await tmux("send-keys", "-t", session, "y", "Enter");
      await waitFor(session, /SERVE-EXIT=0/);
    } finally {
      await tmux("kill-session", "-t", session);
    }
    await wimlib("verify", wimPath);
    const listing = await wimlib("dir", wimPath, "1");
    assert.match(listing, /^\/from-the-terminal\.txt$/m);
  },
});
