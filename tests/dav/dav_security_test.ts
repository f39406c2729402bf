/**
 * The WebDAV server's safety: request paths that try to leave the image (sent over raw TCP, since
 * fetch would normalize them), a client that disconnects in the middle of a PUT, and Basic
 * authentication.
 */

import assert from "node:assert/strict";
import { hasWimlib } from "../support/wimlib.ts";
import { applyWithWimlib, dav, rawRequest, serveTestWim, writeAll } from "./dav_support.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "request paths with .., encoded slashes, backslashes, NUL or another host never leave the image",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const port = served.server.port;
    const host = `127.0.0.1:${port}`;
    const request = (line: string, headers = "") =>
      rawRequest(port, `${line} HTTP/1.1\r\nHost: ${host}\r\n${headers}Connection: close\r\n\r\n`);
    for (
      const target of [
        "/../../../../etc/passwd",
        "/dir1/../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/dir1%2F..%2F..%2Fetc%2Fpasswd",
        "/dir1\\..\\..\\etc\\passwd",
        "/hello.txt%00.png",
        "/%zz",
        "http://evil.example/hello.txt",
        "/hello.txt#fragment",
      ]
    ) {
      const { status, text } = await request(`GET ${target}`);
      assert.equal(status, 400, `${target}: ${text.split("\r\n")[0]}`);
      assert.doesNotMatch(text, /root:/);
    }
    const put = await request("PUT /../escape.txt", "Content-Length: 4\r\n");
    assert.equal(put.status, 400);
    const escapeTargets = [
      `http://${host}/../../escape2.txt`,
      `http://${host}/dir1%2F..%2F..%2Fescape2.txt`,
      "/..%5C..%5Cescape2.txt",
    ];
    for (const destination of escapeTargets) {
      const move = await request("COPY /hello.txt", `Destination: ${destination}\r\n`);
      assert.equal(move.status, 400, destination);
    }
    const other = await request("COPY /hello.txt", "Destination: http://evil.example/x\r\n");
    assert.equal(other.status, 502);
    for (const name of ["escape.txt", "escape2.txt", "../escape.txt", "../escape2.txt"]) {
      assert.ok(!(await exists(`${served.dir}/${name}`)), name);
    }
    assert.equal(served.view.dirty, false, "no refused request changed the image");
    const fine = await request("GET /hello.txt");
    assert.equal(fine.status, 200, "the server still answers after the attacks");
  },
});

Deno.test({
  name: "a client that disconnects mid-PUT leaves no file, before and after commit",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: served.server.port });
    const head = `PUT /half.bin HTTP/1.1\r\nHost: 127.0.0.1:${served.server.port}\r\n` +
      "Content-Length: 1000000\r\nContent-Type: application/octet-stream\r\n\r\n";
    await writeAll(conn, new TextEncoder().encode(head));
    await writeAll(conn, new Uint8Array(500_000).fill(7));
    conn.close();
    // Give the server time to see the connection end and abandon the body.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await dav(`${served.base}/half.bin`, "GET")).status, 404);
    assert.equal((await dav(`${served.base}/kept/`, "MKCOL")).status, 201);
    const report = await (await fetch(`${served.base}/.wimkit/commit`, { method: "POST" })).json();
    assert.equal(report.image, 1);
    const applied = await applyWithWimlib(served.wimPath, served.dir);
    assert.ok(await exists(`${applied}/kept`));
    assert.ok(!(await exists(`${applied}/half.bin`)), "the half-sent file is not in the image");
  },
});

Deno.test({
  name: "Basic authentication refuses missing and wrong credentials with 401",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ credentials: { user: "admin", password: "s3cret" } });
    const none = await dav(`${served.base}/`, "PROPFIND", { headers: { depth: "0" } });
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Basic realm="wimkit"/);
    const wrong = await dav(`${served.base}/hello.txt`, "GET", {
      headers: { authorization: `Basic ${btoa("admin:s3cret!")}` },
    });
    assert.equal(wrong.status, 401);
    const right = await dav(`${served.base}/hello.txt`, "GET", {
      headers: { authorization: `Basic ${btoa("admin:s3cret")}` },
    });
    assert.equal(right.status, 200);
    assert.equal(right.text, "hello\n");
  },
});
