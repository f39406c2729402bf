/**
 * The writing half of the WebDAV server (--rw) on a real WIM: status codes of PUT, MKCOL, DELETE,
 * COPY and MOVE, dead properties that follow their resource, locks and the If header, and the
 * commit endpoint, checked afterwards with `wimlib-imagex verify` and `apply`.
 */

import assert from "node:assert/strict";
import { compareTrees } from "../support/tree_compare.ts";
import { hasWimlib, wimlib } from "../support/wimlib.ts";
import { makeBytes } from "../support/trees.ts";
import { applyWithWimlib, dav, serveTestWim } from "./dav_support.ts";

Deno.test({
  name: "PUT, MKCOL, DELETE, COPY and MOVE answer with RFC 4918's status codes",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const base = served.base;
    assert.equal((await dav(`${base}/new.txt`, "PUT", { body: "one" })).status, 201);
    assert.equal((await dav(`${base}/new.txt`, "PUT", { body: "two" })).status, 204);
    assert.equal((await dav(`${base}/no/parent.txt`, "PUT", { body: "x" })).status, 409);
    assert.equal((await dav(`${base}/dir1`, "PUT", { body: "x" })).status, 405);
    assert.equal(await (await fetch(`${base}/new.txt`)).text(), "two");

    assert.equal((await dav(`${base}/coll/`, "MKCOL")).status, 201);
    assert.equal((await dav(`${base}/coll/`, "MKCOL")).status, 405);
    assert.equal((await dav(`${base}/a/b/`, "MKCOL")).status, 409);
    assert.equal((await dav(`${base}/body/`, "MKCOL", { body: "<x/>" })).status, 415);

    const to = (path: string) => ({ destination: `${base}${path}` });
    assert.equal(
      (await dav(`${base}/new.txt`, "COPY", { headers: to("/coll/c.txt") })).status,
      201,
    );
    assert.equal(
      (await dav(`${base}/hello.txt`, "COPY", {
        headers: { ...to("/coll/c.txt"), overwrite: "F" },
      }))
        .status,
      412,
    );
    assert.equal(
      (await dav(`${base}/hello.txt`, "COPY", { headers: to("/coll/c.txt") })).status,
      204,
    );
    assert.equal(await (await fetch(`${base}/coll/c.txt`)).text(), "hello\n");
    assert.equal((await dav(`${base}/hello.txt`, "COPY", { headers: to("/x/y/z") })).status, 409);
    assert.equal(
      (await dav(`${base}/hello.txt`, "COPY", { headers: to("/hello.txt") })).status,
      403,
    );
    assert.equal(
      (await dav(`${base}/hello.txt`, "COPY", { headers: { destination: "http://elsewhere/x" } }))
        .status,
      502,
    );
    assert.equal((await dav(`${base}/dir1/`, "COPY", { headers: to("/dir1/sub/in") })).status, 409);
    assert.equal(
      (await dav(`${base}/dir1/`, "COPY", { headers: { ...to("/shallow/"), depth: "0" } }))
        .status,
      201,
    );
    const shallow = await dav(`${base}/shallow/`, "PROPFIND", { headers: { depth: "1" } });
    assert.equal(shallow.text.match(/<D:response>/g)?.length, 1, "depth 0 copies no members");

    assert.equal((await dav(`${base}/dir2/`, "MOVE", { headers: to("/moved/") })).status, 201);
    assert.equal((await dav(`${base}/dir2/mixed.bin`, "GET")).status, 404);
    assert.equal((await fetch(`${base}/moved/mixed.bin`)).status, 200);
    assert.equal(
      (await dav(`${base}/moved/`, "MOVE", { headers: { ...to("/m2/"), depth: "0" } }))
        .status,
      400,
    );
    assert.equal((await dav(`${base}/nothing`, "MOVE", { headers: to("/m3") })).status, 404);

    assert.equal((await dav(`${base}/coll/`, "DELETE")).status, 204);
    assert.equal((await dav(`${base}/coll/`, "DELETE")).status, 404);
    assert.equal((await dav(`${base}/`, "DELETE")).status, 403);
  },
});

Deno.test({
  name:
    "PROPPATCH keeps dead properties that move and copy with the resource; live ones are protected",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const base = served.base;
    const set = '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">' +
      "<D:set><D:prop><Z:color>blue</Z:color></D:prop></D:set></D:propertyupdate>";
    assert.equal((await dav(`${base}/hello.txt`, "PROPPATCH", { body: set })).status, 207);
    const live = '<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop>' +
      "<D:getetag>x</D:getetag><Z:size>1</Z:size></D:prop></D:set></D:propertyupdate>";
    const refused = await dav(`${base}/hello.txt`, "PROPPATCH", { body: live });
    assert.match(refused.text, /HTTP\/1.1 403/);
    assert.match(refused.text, /HTTP\/1.1 424/);
    const ask =
      '<D:propfind xmlns:D="DAV:"><D:prop><Z:color xmlns:Z="urn:z"/><Z:size xmlns:Z="urn:z"/>' +
      "</D:prop></D:propfind>";
    await dav(`${base}/hello.txt`, "MOVE", { headers: { destination: `${base}/moved.txt` } });
    await dav(`${base}/moved.txt`, "COPY", { headers: { destination: `${base}/copied.txt` } });
    for (const path of ["/moved.txt", "/copied.txt"]) {
      const found = await dav(`${base}${path}`, "PROPFIND", { headers: { depth: "0" }, body: ask });
      assert.match(found.text, /<Z:color xmlns:Z="urn:z">blue<\/Z:color>/, path);
      assert.match(found.text, /size xmlns:X="urn:z"\/><\/D:prop><D:status>HTTP\/1.1 404/, path);
    }
    await dav(`${base}/moved.txt`, "DELETE");
    await dav(`${base}/moved.txt`, "PUT", { body: "again" });
    const fresh = await dav(`${base}/moved.txt`, "PROPFIND", {
      headers: { depth: "0" },
      body: ask,
    });
    assert.doesNotMatch(fresh.text, /blue/, "a deleted resource's properties die with it");
  },
});

Deno.test({
  name: "LOCK guards writes (423 without the token), the If header is evaluated, UNLOCK frees",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const base = served.base;
    const lockBody = '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>' +
      "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>";
    const lock = await dav(`${base}/dir1/`, "LOCK", {
      headers: { depth: "infinity", timeout: "Second-600" },
      body: lockBody,
    });
    assert.equal(lock.status, 200);
    const token = lock.headers.get("lock-token")!.slice(1, -1);
    assert.match(lock.text, /<D:timeout>Second-600<\/D:timeout>/);
    assert.equal((await dav(`${base}/dir1/hello2.txt`, "PUT", { body: "x" })).status, 423);
    assert.equal((await dav(`${base}/dir1/dup_of_hello.txt`, "DELETE")).status, 423);
    assert.equal(
      (await dav(`${base}/dir1/`, "LOCK", { body: lockBody.replace("exclusive", "shared") }))
        .status,
      423,
    );
    const withToken = { if: `(<${token}>)` };
    assert.equal(
      (await dav(`${base}/dir1/hello2.txt`, "PUT", { headers: withToken, body: "x" }))
        .status,
      201,
    );
    const etag = (await fetch(`${base}/dir1/hello2.txt`, { method: "HEAD" })).headers.get("etag");
    const tagged = { if: `<${base}/dir1/> (<${token}>) (Not <DAV:no-lock> [${etag}])` };
    assert.equal(
      (await dav(`${base}/dir1/hello2.txt`, "PUT", { headers: tagged, body: "y" }))
        .status,
      204,
    );
    assert.equal(
      (await dav(`${base}/dir1/hello2.txt`, "PUT", {
        headers: { if: "(<DAV:no-lock>)" },
        body: "z",
      }))
        .status,
      412,
    );
    assert.equal(
      (await dav(`${base}/dir1/x`, "PUT", { headers: { if: "(<broken" }, body: "" }))
        .status,
      400,
    );
    const discovery = await dav(`${base}/dir1/sub/`, "PROPFIND", {
      headers: { depth: "0" },
      body: '<D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop></D:propfind>',
    });
    assert.ok(discovery.text.includes(token));
    assert.equal(
      (await dav(`${base}/hello.txt`, "UNLOCK", { headers: { "lock-token": `<${token}>` } }))
        .status,
      409,
    );
    assert.equal(
      (await dav(`${base}/dir1/`, "UNLOCK", { headers: { "lock-token": `<${token}>` } }))
        .status,
      204,
    );
    assert.equal((await dav(`${base}/dir1/hello3.txt`, "PUT", { body: "x" })).status, 201);

    const unmapped = await dav(`${base}/locked-new.txt`, "LOCK", { body: lockBody });
    assert.equal(unmapped.status, 201);
    assert.equal(
      (await fetch(`${base}/locked-new.txt`, { method: "HEAD" })).headers.get("content-length"),
      "0",
    );
  },
});

Deno.test({
  name: "POST /.wimkit/commit writes the changes; wimlib-imagex verifies and applies them",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim({ writable: true });
    const base = served.base;
    const big = makeBytes("x86", 1_500_000, 7);
    assert.equal((await dav(`${base}/added/`, "MKCOL")).status, 201);
    assert.equal(
      (await dav(`${base}/added/big.bin`, "PUT", { body: big as Uint8Array<ArrayBuffer> })).status,
      201,
    );
    assert.equal((await dav(`${base}/hello.txt`, "PUT", { body: "changed\n" })).status, 204);
    assert.equal((await dav(`${base}/dir2/`, "DELETE")).status, 204);
    await dav(`${base}/dir1/sub/`, "MOVE", { headers: { destination: `${base}/sub-moved/` } });
    const status = await (await fetch(`${base}/.wimkit/status`)).json();
    assert.deepEqual(status, { writable: true, dirty: true, changes: 5 });
    const listing = await dav(`${base}/`, "PROPFIND", { headers: { depth: "1" } });
    assert.doesNotMatch(listing.text, /\.wimkit/);

    const commit = await fetch(`${base}/.wimkit/commit`, { method: "POST" });
    assert.equal(commit.status, 200);
    const report = await commit.json();
    assert.equal(report.image, 1);
    assert.equal(report.changes, 5);
    assert.ok(report.newBytes > 0);
    await wimlib("verify", served.wimPath);

    const expected = served.source;
    await Deno.mkdir(`${expected}/added`);
    await Deno.writeFile(`${expected}/added/big.bin`, big);
    await Deno.writeTextFile(`${expected}/hello.txt`, "changed\n");
    await Deno.remove(`${expected}/dir2`, { recursive: true });
    await Deno.rename(`${expected}/dir1/sub`, `${expected}/sub-moved`);
    const applied = await applyWithWimlib(served.wimPath, served.dir);
    assert.deepEqual(await compareTrees(applied, expected, { times: false }), []);
    const after = await (await fetch(`${base}/.wimkit/status`)).json();
    assert.deepEqual(after, { writable: true, dirty: false, changes: 0 });
    assert.equal(await (await fetch(`${base}/hello.txt`)).text(), "changed\n");

    await dav(`${base}/scratch.txt`, "PUT", { body: "scratch" });
    const discard = await (await fetch(`${base}/.wimkit/discard`, { method: "POST" })).json();
    assert.deepEqual(discard, { discarded: 1 });
    assert.equal((await dav(`${base}/scratch.txt`, "GET")).status, 404);
  },
});
