/**
 * The reading half of the WebDAV server against a real WIM (captured by wimlib-imagex from a
 * generated tree): OPTIONS, PROPFIND at every depth, GET/HEAD with Range and conditional headers,
 * and the refusals of a read-only server.
 */

import assert from "node:assert/strict";
import { DOMParser } from "@xmldom/xmldom";
import { hasWimlib } from "../support/wimlib.ts";
import { makeBytes } from "../support/trees.ts";
import { dav, serveTestWim } from "./dav_support.ts";

/** The hrefs and the given property of each response in a multistatus body. */
function responses(xml: string, local: string): Map<string, string | undefined> {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const out = new Map<string, string | undefined>();
  const list = doc.getElementsByTagNameNS("DAV:", "response");
  for (let i = 0; i < list.length; i++) {
    const response = list.item(i)!;
    const href = response.getElementsByTagNameNS("DAV:", "href").item(0)?.textContent ?? "";
    const prop = response.getElementsByTagNameNS("DAV:", local).item(0);
    out.set(decodeURIComponent(href), prop ? prop.textContent ?? "" : undefined);
  }
  return out;
}

Deno.test({
  name: "DavService answers OPTIONS with DAV 1, 2 and read methods only when read-only",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim();
    const response = await dav(`${served.base}/`, "OPTIONS");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("dav"), "1, 2");
    assert.equal(response.headers.get("allow"), "OPTIONS, GET, HEAD, PROPFIND");
  },
});

Deno.test({
  name: "PROPFIND lists Depth 0, 1 and infinity with sizes, types and strong ETags",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim();
    const depth0 = await dav(`${served.base}/dir1/`, "PROPFIND", { headers: { depth: "0" } });
    assert.equal(depth0.status, 207);
    assert.deepEqual([...responses(depth0.text, "href").keys()], ["/dir1/"]);

    const depth1 = await dav(`${served.base}/dir1/`, "PROPFIND", { headers: { depth: "1" } });
    const lengths = responses(depth1.text, "getcontentlength");
    assert.equal(lengths.get("/dir1/text_32769.txt"), "32769");
    assert.equal(lengths.get("/dir1/sub/"), undefined);
    assert.ok(!lengths.has("/dir1/sub/deeper/"), "depth 1 stops at the children");

    const all = await dav(`${served.base}/`, "PROPFIND", { headers: { depth: "infinity" } });
    const etags = responses(all.text, "getetag");
    assert.ok(etags.has("/dir1/sub/deeper/random_50000.bin"));
    assert.match(etags.get("/hello.txt") ?? "", /^"[0-9a-f]{40}"$/);
    assert.ok(responses(all.text, "href").has("/Ünïcödé ディレクトリ/ß-ø-€.txt"));
    const types = responses(all.text, "resourcetype");
    assert.equal(types.get("/empty_dir/"), "");
    assert.ok(all.text.includes("<D:collection/>"));
  },
});

Deno.test({
  name: "PROPFIND prop and propname report missing properties as 404 and name the live ones",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim();
    const body = '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/>' +
      '<D:displayname/><Z:nothing xmlns:Z="urn:z"/></D:prop></D:propfind>';
    const prop = await dav(`${served.base}/hello.txt`, "PROPFIND", {
      headers: { depth: "0" },
      body,
    });
    assert.equal(prop.status, 207);
    assert.match(prop.text, /<D:getcontentlength>6<\/D:getcontentlength>/);
    assert.match(prop.text, /<D:displayname>hello.txt<\/D:displayname>/);
    assert.match(prop.text, /nothing xmlns:X="urn:z"\/><\/D:prop><D:status>HTTP\/1.1 404/);

    const names = await dav(`${served.base}/hello.txt`, "PROPFIND", {
      headers: { depth: "0" },
      body: '<propfind xmlns="DAV:"><propname/></propfind>',
    });
    for (const live of ["getetag", "getlastmodified", "creationdate", "supportedlock"]) {
      assert.ok(names.text.includes(`<D:${live}/>`), live);
    }
    const bad = await dav(`${served.base}/`, "PROPFIND", { body: "<propfind" });
    assert.equal(bad.status, 400);
    const missing = await dav(`${served.base}/nope`, "PROPFIND", { headers: { depth: "0" } });
    assert.equal(missing.status, 404);
  },
});

Deno.test({
  name: "GET streams whole files and single ranges; suffix ranges; 416 past the end",
  ignore: !hasWimlib,
  async fn() {
    const big = makeBytes("x86", 3_000_000, 42);
    await using served = await serveTestWim({
      fill: async (root) => {
        await Deno.writeFile(`${root}/big.bin`, big);
        await Deno.writeTextFile(`${root}/readme.txt`, "read me\n");
      },
    });
    const whole = await fetch(`${served.base}/big.bin`);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("accept-ranges"), "bytes");
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), big);

    const middle = await fetch(`${served.base}/big.bin`, {
      headers: { range: "bytes=1500000-1504095" },
    });
    assert.equal(middle.status, 206);
    assert.equal(middle.headers.get("content-range"), "bytes 1500000-1504095/3000000");
    assert.deepEqual(new Uint8Array(await middle.arrayBuffer()), big.subarray(1500000, 1504096));

    const suffix = await fetch(`${served.base}/big.bin`, { headers: { range: "bytes=-10" } });
    assert.equal(suffix.status, 206);
    assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), big.subarray(big.length - 10));

    const open = await fetch(`${served.base}/big.bin`, { headers: { range: "bytes=2999990-" } });
    assert.equal(open.status, 206);
    assert.equal((await open.arrayBuffer()).byteLength, 10);

    const past = await dav(`${served.base}/big.bin`, "GET", {
      headers: { range: "bytes=3000000-" },
    });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), "bytes */3000000");

    const head = await fetch(`${served.base}/readme.txt`, { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "8");
    assert.equal(head.headers.get("content-type"), "text/plain; charset=utf-8");
    const etag = head.headers.get("etag")!;
    const cached = await fetch(`${served.base}/readme.txt`, { headers: { "if-none-match": etag } });
    assert.equal(cached.status, 304);
    await cached.body?.cancel();
    const listing = await dav(`${served.base}/`, "GET");
    assert.match(listing.text, /href="\/big\.bin"/);
  },
});

Deno.test({
  name: "a read-only server refuses every write method with 403 and says why",
  ignore: !hasWimlib,
  async fn() {
    await using served = await serveTestWim();
    for (const method of ["PUT", "DELETE", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK"]) {
      const response = await dav(`${served.base}/hello.txt`, method, {
        headers: { destination: `${served.base}/x` },
      });
      assert.equal(response.status, 403, method);
      assert.match(response.text, /read-only/);
    }
    for (const method of ["COPY", "MOVE"]) {
      const response = await dav(`${served.base}/hello.txt`, method, {
        headers: { destination: `${served.base}/x` },
      });
      assert.equal(response.status, 403, method);
    }
    const commit = await dav(`${served.base}/.wimkit/commit`, "POST");
    assert.equal(commit.status, 403);
    const unknown = await dav(`${served.base}/`, "PATCH");
    assert.equal(unknown.status, 405);
    assert.equal(unknown.headers.get("allow"), "OPTIONS, GET, HEAD, PROPFIND");
    assert.equal(await Deno.readTextFile(`${served.source}/hello.txt`), "hello\n");
  },
});
