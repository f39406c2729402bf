/**
 * `wimkit serve` as a user runs it (a child process): the URL printed with --json, the exit path
 * on Ctrl-C (--commit-on-exit, --new-image, and the discard-with-a-warning default without a
 * terminal), the refusal to bind beyond loopback without credentials, `all` images as folders,
 * and 1000 concurrent GETs with the server's memory measured.
 */

import assert from "node:assert/strict";
import { makeTree } from "../support/trees.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";
import { makeBytes } from "../support/trees.ts";
import { dav, residentBytes, startServeCli } from "./dav_support.ts";

async function makeWim(dir: string, images = 1): Promise<string> {
  const wimPath = `${dir}/served.wim`;
  for (let i = 1; i <= images; i++) {
    const source = `${dir}/source${i}`;
    await Deno.mkdir(source);
    await makeTree(source, { seed: i, noSymlinks: true });
    await wimlib(i === 1 ? "capture" : "append", source, wimPath, `image ${i}`, "--compress=LZX");
  }
  return wimPath;
}

/** Names at the top of image `image` of the WIM, via wimlib-imagex dir. */
async function topNames(wimPath: string, image: number): Promise<string[]> {
  const listing = await wimlib("dir", wimPath, String(image));
  return listing.split("\n").filter((line) => /^\/[^/]+$/.test(line)).map((line) => line.slice(1));
}

Deno.test({
  name: "serve --rw --commit-on-exit commits on SIGINT; wimlib-imagex verifies the result",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await makeWim(dir.path);
    const server = await startServeCli([wimPath, "--rw", "--commit-on-exit"]);
    assert.equal((await dav(`${server.base}/added.txt`, "PUT", { body: "added\n" })).status, 201);
    assert.equal((await dav(`${server.base}/dir2/`, "DELETE")).status, 204);
    const { code, stderr } = await server.stop("SIGINT");
    assert.equal(code, 0, stderr);
    assert.match(stderr, /committed 2 change\(s\) as image 1/);
    await wimlib("verify", wimPath);
    const names = await topNames(wimPath, 1);
    assert.ok(names.includes("added.txt"));
    assert.ok(!names.includes("dir2"));
  },
});

Deno.test({
  name: "serve --rw without a terminal discards uncommitted changes on SIGINT, with a warning",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await makeWim(dir.path);
    const before = await Deno.readFile(wimPath);
    const server = await startServeCli([wimPath, "--rw"]);
    assert.equal((await dav(`${server.base}/added.txt`, "PUT", { body: "x" })).status, 201);
    const { code, stderr } = await server.stop("SIGINT");
    assert.equal(code, 0, stderr);
    assert.match(stderr, /warning: discarding 1 uncommitted change\(s\): stdin is not a terminal/);
    assert.deepEqual(await Deno.readFile(wimPath), before, "the WIM is byte-identical");
  },
});

Deno.test({
  name: "serve --rw --new-image NAME appends the changes as a new image on exit",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await makeWim(dir.path);
    const server = await startServeCli([wimPath, "1", "--rw", "--new-image", "with extra"]);
    assert.equal((await dav(`${server.base}/extra/`, "MKCOL")).status, 201);
    const { code, stderr } = await server.stop("SIGTERM");
    assert.equal(code, 0, stderr);
    assert.match(stderr, /as image 2/);
    const info = await wimlib("info", wimPath);
    assert.match(info, /Image Count:\s+2/);
    assert.match(info, /Name:\s+with extra/);
    assert.ok((await topNames(wimPath, 2)).includes("extra"));
    assert.ok(!(await topNames(wimPath, 1)).includes("extra"));
    await wimlib("verify", wimPath);
  },
});

Deno.test({
  name: "serve refuses a non-loopback host without --user/--password, and bad flag mixes",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await makeWim(dir.path, 2);
    const open = await wimkitCli(["serve", wimPath, "1", "--host", "0.0.0.0", "--port", "0"]);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /give --user and --password/);
    const allRw = await wimkitCli(["serve", wimPath, "all", "--rw", "--port", "0"]);
    assert.equal(allRw.code, 2);
    assert.match(allRw.stderr, /read-only/);
    const which = await wimkitCli(["serve", wimPath, "--port", "0"]);
    assert.equal(which.code, 2, which.stderr);
    assert.match(which.stderr, /holds 2 images/);
    const guarded = await startServeCli([
      wimPath,
      "1",
      "--host",
      "0.0.0.0",
      "--user",
      "u",
      "--password",
      "p",
    ]);
    const port = new URL(guarded.base).port;
    const denied = await dav(`http://127.0.0.1:${port}/`, "PROPFIND", { headers: { depth: "0" } });
    assert.equal(denied.status, 401);
    const allowed = await dav(`http://127.0.0.1:${port}/`, "PROPFIND", {
      headers: { depth: "0", authorization: `Basic ${btoa("u:p")}` },
    });
    assert.equal(allowed.status, 207);
    const { stderr } = await guarded.stop();
    assert.match(stderr, /Basic authentication sends the password in clear text/);
    // The password may come from the environment, out of the process list.
    const fromEnv = await startServeCli([wimPath, "1", "--host", "0.0.0.0", "--user", "u"], {
      WIMKIT_PASSWORD: "secret",
    });
    const envPort = new URL(fromEnv.base).port;
    const withEnvPassword = await dav(`http://127.0.0.1:${envPort}/`, "PROPFIND", {
      headers: { depth: "0", authorization: `Basic ${btoa("u:secret")}` },
    });
    assert.equal(withEnvPassword.status, 207);
    await fromEnv.stop();
  },
});

Deno.test({
  name: "serve WIM all shows every image as a top-level folder",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const wimPath = await makeWim(dir.path, 2);
    await using server = await startServeCli([wimPath, "all"]);
    const listing = await dav(`${server.base}/`, "PROPFIND", { headers: { depth: "1" } });
    assert.match(listing.text, /<D:href>\/image%201\/<\/D:href>/);
    assert.match(listing.text, /<D:href>\/image%202\/<\/D:href>/);
    const hello = await fetch(`${server.base}/image%202/hello.txt`);
    assert.equal(await hello.text(), "hello\n");
    assert.equal((await dav(`${server.base}/image%201/x`, "PUT", { body: "x" })).status, 403);
  },
});

Deno.test({
  name: "serve a split set with --ref (read-only); --rw with --ref is refused",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const source = `${dir.path}/source`;
    await Deno.mkdir(source);
    await makeTree(source, { seed: 7, noSymlinks: true });
    await Deno.writeFile(`${source}/big.bin`, makeBytes("x86", 3 << 20, 7));
    await wimlib("capture", source, `${dir.path}/whole.wim`, "--compress=LZX");
    await wimlib("split", `${dir.path}/whole.wim`, `${dir.path}/part.swm`, "1");
    const parts = [...Deno.readDirSync(dir.path)].filter((e) => e.name.endsWith(".swm"));
    assert.ok(parts.length > 1, "wimlib-imagex split made several parts");
    const first = `${dir.path}/part.swm`;
    await using server = await startServeCli([first, "--ref", `${dir.path}/part*.swm`]);
    const big = await fetch(`${server.base}/big.bin`);
    assert.deepEqual(new Uint8Array(await big.arrayBuffer()), makeBytes("x86", 3 << 20, 7));
    const refused = await wimkitCli(["serve", first, "--ref", `${dir.path}/part*.swm`, "--rw"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /split WIM is served read-only/);
  },
});

Deno.test({
  name: "1000 concurrent GETs on loopback all succeed with bounded server memory",
  ignore: !hasWimlib,
  async fn() {
    await using dir = await tempDir();
    const source = `${dir.path}/source`;
    await Deno.mkdir(source);
    const content = makeBytes("x86", 256 * 1024, 5);
    await Deno.writeFile(`${source}/file.bin`, content);
    const wimPath = `${dir.path}/served.wim`;
    await wimlib("capture", source, wimPath, "one", "--compress=LZX");
    await using server = await startServeCli([wimPath]);
    await (await fetch(`${server.base}/file.bin`)).arrayBuffer();
    const idle = await residentBytes(server.pid);
    let peak = idle;
    let running = true;
    const sampler = (async () => {
      while (running) {
        peak = Math.max(peak, await residentBytes(server.pid));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 1000 }, async () => {
        const response = await fetch(`${server.base}/file.bin`);
        const body = new Uint8Array(await response.arrayBuffer());
        return response.status === 200 && body.length === content.length &&
          body[body.length - 1] === content[content.length - 1];
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    running = false;
    await sampler;
    assert.equal(results.filter((ok) => !ok).length, 0);
    const mib = (bytes: number) => (bytes / 1048576).toFixed(0);
    await Deno.stderr.write(new TextEncoder().encode(
      `1000 concurrent GETs of 256 KiB: ${seconds.toFixed(1)} s, server RSS idle ${
        mib(idle)
      } MiB, ` +
        `peak ${mib(peak)} MiB\n`,
    ));
    assert.ok(peak - idle < 512 * 1048576, `server RSS grew by ${mib(peak - idle)} MiB`);
  },
});
