/** Unit tests of the WebDAV building blocks: path decoding, Range, the If header and locks. */

import assert from "node:assert/strict";
import { DavPathError, decodeDavPath, splitRawUrl } from "../../lib/dav/dav_path.ts";
import { parseRange } from "../../lib/dav/range.ts";
import { evaluateIf, IfHeaderError, parseIfHeader } from "../../lib/dav/if_header.ts";
import { LockManager, parseTimeout } from "../../lib/dav/locks.ts";

Deno.test("decodeDavPath() refuses dot segments, encoded separators and NUL, decoding once", () => {
  for (
    const bad of ["/a/../b", "/%2e%2e/x", "/a%2Fb", "/a%5Cb", "/a\\b", "/a%00", "/%E0%A4%A", "x"]
  ) {
    assert.throws(() => decodeDavPath(bad), DavPathError, bad);
  }
  assert.equal(decodeDavPath("/a%2520b").path, "/a%20b", "decoded exactly once");
  assert.deepEqual(decodeDavPath("//a///b/"), { path: "/a/b", trailingSlash: true });
  assert.deepEqual(decodeDavPath("/"), { path: "/", trailingSlash: false });
});

Deno.test("splitRawUrl() keeps what new URL() would normalize", () => {
  assert.equal(splitRawUrl("/a/../b").path, "/a/../b");
  assert.equal(splitRawUrl("http://h/a\\..\\b").path, "/a\\..\\b");
  assert.equal(splitRawUrl("HTTP://H:1").path, "/");
  assert.throws(() => splitRawUrl("a/b"), DavPathError);
});

Deno.test("parseRange() follows RFC 7233 for single, open, suffix and unsatisfiable ranges", () => {
  assert.deepEqual(parseRange("bytes=0-0", 10), { type: "partial", start: 0, end: 1 });
  assert.deepEqual(parseRange("bytes=5-100", 10), { type: "partial", start: 5, end: 10 });
  assert.deepEqual(parseRange("bytes=-20", 10), { type: "partial", start: 0, end: 10 });
  assert.deepEqual(parseRange("bytes=10-", 10), { type: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=-0", 10), { type: "unsatisfiable" });
  assert.deepEqual(parseRange("bytes=0-1,3-4", 10), { type: "full" });
  assert.deepEqual(parseRange("items=0-1", 10), { type: "full" });
  assert.deepEqual(parseRange("bytes=5-2", 10), { type: "full" });
});

Deno.test("parseIfHeader() rejects malformed headers; evaluateIf() honours Not and tags", () => {
  for (const bad of ["(", "()", "<a>", "(<a> x)", "</a> (<t>) (<u>) <b>", "(<t>) </a> (<u>)"]) {
    assert.throws(() => parseIfHeader(bad), IfHeaderError, bad);
  }
  const lists = parseIfHeader('</a> (<t1> ["e"]) </b> (Not <t2>)');
  const states: Record<string, { etag: string; lockTokens: Set<string> }> = {
    "/a": { etag: '"x"', lockTokens: new Set(["t1"]) },
    "/b": { etag: '"y"', lockTokens: new Set(["t2"]) },
  };
  assert.equal(evaluateIf(lists, (resource) => states[resource!]!), false);
  states["/b"]!.lockTokens.clear();
  assert.equal(evaluateIf(lists, (resource) => states[resource!]!), true);
});

Deno.test("LockManager expires locks after their timeout and detects conflicts by depth", () => {
  let now = 0;
  const locks = new LockManager(() => now);
  const shallow = locks.create("/a", {
    scope: "shared",
    depth: "0",
    timeoutSeconds: 10,
    collection: true,
  })!;
  assert.ok(
    locks.create("/a/b", { scope: "exclusive", depth: "0", timeoutSeconds: 10, collection: false }),
  );
  assert.equal(
    locks.create("/", {
      scope: "exclusive",
      depth: "infinity",
      timeoutSeconds: 10,
      collection: true,
    }),
    undefined,
  );
  assert.ok(
    locks.create("/a", { scope: "shared", depth: "0", timeoutSeconds: 10, collection: true }),
  );
  now = 11_000;
  assert.equal(locks.get(shallow.token), undefined);
  assert.equal(locks.covering("/a/b").length, 0);
  assert.equal(parseTimeout("Second-99999999999"), 7 * 24 * 3600);
  assert.equal(parseTimeout("Infinite"), Infinity);
});
