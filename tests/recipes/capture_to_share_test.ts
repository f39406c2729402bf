/**
 * captureToShare() against a share folder and a real WebDAV server (`rclone serve webdav`, Debian's
 * rclone) on 127.0.0.1, including a TCP proxy that cuts uploads mid-body. Tests that need rclone
 * are ignored when it is missing.
 */

import { hasRclone } from "../support/tools.ts";
import assert from "node:assert/strict";
import { CompressionMismatchError, verifyWim, Wim, WimkitError } from "../../mod.ts";
import {
  captureToShare,
  type CaptureToShareEvent,
  UPLOAD_SUFFIX,
} from "../../recipes/capture_to_share.ts";
import { makeBytes } from "../support/trees.ts";
import { hasWimlib, tempDir, wimlib } from "../support/wimlib.ts";

/** A small tree with one incompressible 600 KB file, so the WIM outgrows the proxy's cut. */
async function makeSource(root: string, seed = 1): Promise<string> {
  await Deno.mkdir(`${root}/docs`, { recursive: true });
  await Deno.writeTextFile(`${root}/hello.txt`, `hello from tree ${seed}\n`);
  await Deno.writeTextFile(`${root}/docs/readme.txt`, "read me\n".repeat(200));
  await Deno.writeFile(`${root}/docs/blob.bin`, makeBytes("random", 600_000, seed));
  return root;
}

/** Files in `dir` (names only). */
async function names(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) found.push(entry.name);
  return found.sort();
}

async function verified(path: string): Promise<number> {
  if (hasWimlib) await wimlib("verify", path);
  await using wim = await Wim.open(path);
  await verifyWim(wim);
  return wim.imageCount;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function waitForPort(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** `rclone serve webdav DIR` on 127.0.0.1 with Basic auth; stopped when disposed. */
async function startWebDav(
  root: string,
): Promise<{ base: string; port: number } & AsyncDisposable> {
  const port = freePort();
  const child = new Deno.Command("rclone", {
    args: [
      "serve",
      "webdav",
      root,
      "--addr",
      `127.0.0.1:${port}`,
      "--user",
      "deploy",
      "--pass",
      "s3cret",
      "--config",
      "/dev/null",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill();
    await child.status;
    throw error;
  }
  return {
    base: `http://deploy:s3cret@127.0.0.1:${port}`,
    port,
    async [Symbol.asyncDispose]() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/**
 * A TCP proxy to `upstreamPort` that cuts the next `drops` connections once they have carried
 * `cutAfterBytes` bytes from the client (only uploads get that far).
 */
function droppingProxy(
  upstreamPort: number,
  cutAfterBytes: number,
  drops: number,
): { port: number; cuts: () => number } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let remaining = drops;
  let cuts = 0;

  async function pipe(from: Deno.Conn, to: Deno.Conn, counted: boolean, closeBoth: () => void) {
    const buffer = new Uint8Array(65536);
    let carried = 0;
    try {
      while (true) {
        const read = await from.read(buffer);
        if (read === null) break;
        carried += read;
        if (counted && carried > cutAfterBytes && remaining > 0) {
          remaining--;
          cuts++;
          break;
        }
        for (let written = 0; written < read;) {
          written += await to.write(buffer.subarray(written, read));
        }
      }
    } catch {
      // The other side closed.
    }
    closeBoth();
  }

  async function handle(client: Deno.Conn) {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: "127.0.0.1", port: upstreamPort });
    } catch {
      client.close();
      open.delete(client);
      return;
    }
    open.add(upstream);
    let closed = false;
    const closeBoth = () => {
      if (closed) return;
      closed = true;
      for (const conn of [client, upstream]) {
        open.delete(conn);
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
    };
    await Promise.all([
      pipe(client, upstream, true, closeBoth),
      pipe(upstream, client, false, closeBoth),
    ]);
  }

  const accepting = (async () => {
    try {
      for await (const client of listener) {
        open.add(client);
        const task = handle(client);
        tasks.add(task);
        task.finally(() => tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  })();

  return {
    port: (listener.addr as Deno.NetAddr).port,
    cuts: () => cuts,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // Already closed.
        }
      }
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}

Deno.test("captureToShare() publishes to a path, appends, and refuses another compression", async () => {
  await using work = await tempDir();
  const source = await makeSource(`${work.path}/src`);
  const share = `${work.path}/share`;
  await Deno.mkdir(share);
  const destination = `${share}/deploy.wim`;

  const created = await captureToShare({
    source,
    destination,
    name: "base",
    compression: "xpress",
    check: true,
  });
  assert.equal(created.published, true);
  assert.equal(created.verified, true);
  assert.equal(created.images, 1);
  assert.equal(created.compression, "xpress");
  assert.equal(created.uploadAttempts, 0);
  assert.equal(created.bytes, (await Deno.stat(destination)).size);
  assert.deepEqual(await names(share), ["deploy.wim"]);
  assert.equal(await verified(destination), 1);

  const appended = await captureToShare({
    source: await makeSource(`${work.path}/src2`, 2),
    destination,
    name: "second",
    compression: "xpress",
    append: true,
    check: true,
  });
  assert.equal(appended.appended, true);
  assert.equal(appended.images, 2);
  assert.deepEqual(appended.addedImages, [2]);
  assert.equal(await verified(destination), 2);

  const before = await Deno.readFile(destination);
  const refusal = await captureToShare({
    source,
    destination,
    compression: "lzms",
    append: true,
  }).catch((error) => error);
  assert.ok(refusal instanceof CompressionMismatchError, String(refusal));
  assert.match(refusal.message, /XPRESS/);
  assert.match(refusal.message, /LZMS/);
  assert.deepEqual(await Deno.readFile(destination), before);
  assert.deepEqual(await names(share), ["deploy.wim"]);

  const missing = await captureToShare({ source, destination: `${share}/none.wim`, append: true })
    .catch((error) => error);
  assert.ok(missing instanceof WimkitError && missing.code === "not-found", String(missing));
});

Deno.test({
  name: "captureToShare() publishes, appends and refuses over WebDAV (rclone serve webdav)",
  ignore: !hasRclone,
  async fn() {
    await using work = await tempDir();
    const served = `${work.path}/served`;
    await Deno.mkdir(served);
    await using server = await startWebDav(served);
    const source = await makeSource(`${work.path}/src`);
    const url = `${server.base}/images/deploy.wim`;
    const onDisk = `${served}/images/deploy.wim`;

    const events: CaptureToShareEvent["type"][] = [];
    const created = await captureToShare({
      source,
      destination: url,
      name: "base",
      compression: "lzx",
      check: true,
      onProgress: (event) => events.push(event.type),
    });
    assert.equal(created.destination, `http://127.0.0.1:${server.port}/images/deploy.wim`);
    assert.equal(created.published, true);
    assert.equal(created.verified, true);
    assert.equal(created.uploadAttempts, 2, "a 409 for the missing folder, then the upload");
    assert.equal(created.bytes, (await Deno.stat(onDisk)).size);
    assert.ok(events.includes("upload") && events.includes("download"));
    assert.deepEqual(await names(`${served}/images`), ["deploy.wim"]);
    assert.equal(await verified(onDisk), 1);

    const appended = await captureToShare({
      source: await makeSource(`${work.path}/src2`, 2),
      destination: url,
      name: "second",
      append: true,
    });
    assert.equal(appended.images, 2);
    assert.equal(appended.compression, "lzx");
    assert.deepEqual(await names(`${served}/images`), ["deploy.wim"]);
    assert.equal(await verified(onDisk), 2);
    await using wim = await Wim.open(onDisk);
    assert.deepEqual(wim.images().map((image) => image.name), ["base", "second"]);

    const before = await Deno.readFile(onDisk);
    const refusal = await captureToShare({
      source,
      destination: url,
      compression: "xpress",
      append: true,
    }).catch((error) => error);
    assert.ok(refusal instanceof CompressionMismatchError, String(refusal));
    assert.match(refusal.message, /LZX/);
    assert.match(refusal.message, /XPRESS/);
    assert.doesNotMatch(refusal.message, /s3cret/);
    assert.deepEqual(await Deno.readFile(onDisk), before);
    assert.deepEqual(await names(`${served}/images`), ["deploy.wim"]);

    const denied = await captureToShare({
      source,
      destination: `http://deploy:wrong@127.0.0.1:${server.port}/images/other.wim`,
      retries: 0,
    }).catch((error) => error);
    assert.ok(denied instanceof WimkitError && denied.code === "io", String(denied));
    assert.match(denied.message, /401/);
    assert.deepEqual(await names(`${served}/images`), ["deploy.wim"]);
  },
});

Deno.test({
  name: "captureToShare() retries an upload cut mid-body and never leaves a partial final file",
  ignore: !hasRclone,
  async fn() {
    await using work = await tempDir();
    const served = `${work.path}/served`;
    await Deno.mkdir(served);
    await using server = await startWebDav(served);
    const source = await makeSource(`${work.path}/src`);
    const onDisk = `${served}/deploy.wim`;

    // Every upload is cut after 128 KiB and only one retry is allowed: the job fails.
    {
      await using proxy = droppingProxy(server.port, 128 * 1024, Infinity);
      const failure = await captureToShare({
        source,
        destination: `http://deploy:s3cret@127.0.0.1:${proxy.port}/deploy.wim`,
        compression: "none",
        retries: 1,
        retryDelayMs: 50,
      }).catch((error) => error);
      assert.ok(failure instanceof WimkitError && failure.code === "io", String(failure));
      assert.match(failure.message, /after 2 attempts/);
      assert.equal(proxy.cuts(), 2);
      assert.ok(!(await names(served)).includes("deploy.wim"));
      assert.deepEqual(
        (await names(served)).filter((name) => name.includes(UPLOAD_SUFFIX)),
        [],
        "the partial upload is deleted",
      );
    }

    // Two cuts, three retries: the third attempt goes through.
    {
      await using proxy = droppingProxy(server.port, 128 * 1024, 2);
      const report = await captureToShare({
        source,
        destination: `http://deploy:s3cret@127.0.0.1:${proxy.port}/deploy.wim`,
        compression: "none",
        check: true,
        retries: 3,
        retryDelayMs: 50,
      });
      assert.equal(proxy.cuts(), 2);
      assert.equal(report.uploadAttempts, 3);
      assert.equal(report.verified, true);
      assert.deepEqual(await names(served), ["deploy.wim"]);
      assert.equal(await verified(onDisk), 1);
    }
  },
});

Deno.test({
  name: "captureToShare() retries an upload the server answers with 503",
  ignore: !hasRclone,
  async fn() {
    await using work = await tempDir();
    const served = `${work.path}/served`;
    await Deno.mkdir(served);
    await using server = await startWebDav(served);
    let refusals = 1;
    const front = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (request) => {
        if (request.method === "PUT" && refusals > 0) {
          refusals--;
          await request.body?.cancel();
          return new Response("busy", { status: 503 });
        }
        const url = new URL(request.url);
        const upstream = `http://127.0.0.1:${server.port}`;
        const headers = new Headers(request.headers);
        // As a reverse proxy must: MOVE's Destination names the upstream host.
        const destination = headers.get("destination");
        if (destination) headers.set("destination", upstream + new URL(destination).pathname);
        const response = await fetch(upstream + url.pathname, {
          method: request.method,
          headers,
          body: request.body,
          duplex: "half",
        } as RequestInit);
        return new Response(response.body, { status: response.status, headers: response.headers });
      },
    );
    try {
      const report = await captureToShare({
        source: await makeSource(`${work.path}/src`),
        destination: `http://deploy:s3cret@127.0.0.1:${front.addr.port}/deploy.wim`,
        compression: "xpress",
        retryDelayMs: 10,
      });
      assert.equal(refusals, 0);
      assert.equal(report.uploadAttempts, 2);
      assert.deepEqual(await names(served), ["deploy.wim"]);
      assert.equal(await verified(`${served}/deploy.wim`), 1);
    } finally {
      await front.shutdown();
    }
  },
});
