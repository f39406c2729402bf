/**
 * `wimkit serve --rw` in a real terminal (tmux): Ctrl-C with uncommitted changes asks whether to
 * commit them, and "y" writes them into the image (checked with wimlib-imagex).
 */

import { hasTmux } from "../support/tools.ts";
import { startInTerminal } from "../support/tmux.ts";
import assert from "node:assert/strict";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

const CLI = new URL("../../tasks/cli.ts", import.meta.url).pathname;

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
    {
      await using term = await startInTerminal(
        "wimkit-serve",
        `NO_COLOR=1 ${Deno.execPath()} run -A ${CLI} serve ${wimPath} --rw --port 0; echo SERVE-EXIT=$?; sleep 60`,
        20,
      );
      const [, url] = await term.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\//);
      const put = await fetch(`${url}/from-the-terminal.txt`, { method: "PUT", body: "typed\n" });
      await put.body?.cancel();
      assert.equal(put.status, 201);
      await term.send(["C-c"]);
      await term.waitFor(/commit 1 change to WIM\? \[y\/N\]/);
      await term.send(["y", "Enter"]);
      await term.waitFor(/SERVE-EXIT=0/);
    }
    await wimlib("verify", wimPath);
    const listing = await wimlib("dir", wimPath, "1");
    assert.match(listing, /^\/from-the-terminal\.txt$/m);
  },
});
