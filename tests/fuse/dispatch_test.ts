/**
 * The FUSE protocol layer without a mount: requests built as the kernel builds them, answered
 * from a real image view of a committed fixture, replies decoded and checked against the view
 * and wimlib-imagex.
 */

import assert from "node:assert/strict";
import { FuseDispatcher, MAX_WRITE_BYTES } from "../../lib/fuse/dispatch.ts";
import { Errno } from "../../lib/fuse/libc.ts";
import { filetimeToUnix, unixToFiletime } from "../../lib/fs/timestamps.ts";
import { NodeTable } from "../../lib/fuse/nodes.ts";
import { IN_HEADER_SIZE, Opcode, OUT_HEADER_SIZE, SetattrValid } from "../../lib/fuse/protocol.ts";
import { openImageView } from "../../lib/view/image_view.ts";
import { InlineChunkPool } from "../../lib/codecs/chunk_pool.ts";
import { hasWimlib, run, tempDir } from "../support/wimlib.ts";

const FIXTURE = "tests/fixtures/lzx.wim";
const encoder = new TextEncoder();
let nextUnique = 1n;

/** A request as the kernel writes it: header, then `args`. */
function request(opcode: number, nodeId: bigint, args: Uint8Array = new Uint8Array()) {
  const bytes = new Uint8Array(IN_HEADER_SIZE + args.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint32(4, opcode, true);
  view.setBigUint64(8, nextUnique++, true);
  view.setBigUint64(16, nodeId, true);
  bytes.set(args, IN_HEADER_SIZE);
  return bytes;
}

/** Little-endian argument bytes from u32/u64 fields and NUL-terminated names. */
function args(...fields: (["u32", number] | ["u64", bigint] | ["name", string])[]): Uint8Array {
  const parts: Uint8Array[] = fields.map(([type, value]) => {
    if (type === "name") return encoder.encode(`${value}\0`);
    const out = new Uint8Array(type === "u32" ? 4 : 8);
    const view = new DataView(out.buffer);
    if (type === "u32") view.setUint32(0, value as number, true);
    else view.setBigUint64(0, value as bigint, true);
    return out;
  });
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Decodes a reply: its errno (positive) and body. */
function reply(bytes: Uint8Array | null): { errno: number; body: DataView; raw: Uint8Array } {
  assert.ok(bytes, "expected a reply");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getUint32(0, true), bytes.length);
  const raw = bytes.subarray(OUT_HEADER_SIZE);
  return {
    errno: Math.abs(view.getInt32(4, true)),
    body: new DataView(raw.buffer, raw.byteOffset, raw.byteLength),
    raw,
  };
}

Deno.test("fuse dispatch: INIT negotiates 7.31 with 1 MiB writes and only flags offered", async () => {
  using pool = new InlineChunkPool();
  await using view = await openImageView(FIXTURE, 1, { pool });
  const dispatcher = new FuseDispatcher(view);
  const init = args(["u32", 7], ["u32", 38], ["u32", 131072], ["u32", 0x1 | 0x400000]);
  const { errno, body } = reply(await dispatcher.handle(request(Opcode.INIT, 0n, init)));
  assert.equal(errno, 0);
  assert.equal(body.getUint32(0, true), 7);
  assert.equal(body.getUint32(4, true), 31);
  assert.equal(body.getUint32(8, true), 131072);
  assert.equal(body.getUint32(12, true), 0x1 | 0x400000);
  assert.equal(body.getUint32(20, true), MAX_WRITE_BYTES);
  assert.equal(body.getUint32(24, true), 100, "time_gran: FILETIMEs keep 100 ns");
  assert.equal(body.getUint16(28, true), MAX_WRITE_BYTES / 4096);
});

Deno.test({
  name: "fuse dispatch: LOOKUP, GETATTR and READ return the bytes wimlib-imagex extracts",
  ignore: !hasWimlib,
  async fn() {
    using pool = new InlineChunkPool();
    await using view = await openImageView(FIXTURE, 1, { pool });
    const dispatcher = new FuseDispatcher(view);
    const lookup = reply(
      await dispatcher.handle(request(Opcode.LOOKUP, 1n, args(["name", "dir1"]))),
    );
    assert.equal(lookup.errno, 0);
    const dirNode = lookup.body.getBigUint64(0, true);
    assert.equal(lookup.body.getUint32(40 + 60, true) & 0o170000, 0o040000);
    const file = reply(
      await dispatcher.handle(request(Opcode.LOOKUP, dirNode, args(["name", "text.txt"]))),
    );
    assert.equal(file.errno, 0);
    const fileNode = file.body.getBigUint64(0, true);
    const size = Number(file.body.getBigUint64(40 + 8, true));
    assert.equal(size, view.stat("/dir1/text.txt")?.size);
    const attr = reply(
      await dispatcher.handle(request(Opcode.GETATTR, fileNode, args(["u32", 0], ["u32", 0]))),
    );
    assert.equal(Number(attr.body.getBigUint64(16 + 8, true)), size);
    const expected = encoder.encode(
      await run("wimlib-imagex", ["extract", FIXTURE, "1", "/dir1/text.txt", "--to-stdout"]),
    );
    const chunks: Uint8Array[] = [];
    for (let offset = 0; offset < size + 4096; offset += 4096) {
      const readArgs = args(["u64", 0n], ["u64", BigInt(offset)], ["u32", 4096], ["u32", 0]);
      const data = reply(await dispatcher.handle(request(Opcode.READ, fileNode, readArgs)));
      assert.equal(data.errno, 0);
      chunks.push(data.raw.slice());
    }
    const all = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      all.set(c, at);
      at += c.length;
    }
    assert.deepEqual(all, expected);
  },
});

/** The times of a `fuse_attr` at `at` in a reply body: seconds and nanoseconds. */
function attrTimes(body: DataView, at: number) {
  const time = (index: number) => ({
    seconds: body.getBigInt64(at + 24 + 8 * index, true),
    nanoseconds: body.getUint32(at + 48 + 4 * index, true),
  });
  return { atime: time(0), mtime: time(1), ctime: time(2) };
}

Deno.test("fuse dispatch: GETATTR and SETATTR carry times exactly, to the 100 ns", async () => {
  await using dir = await tempDir();
  const wimPath = `${dir.path}/t.wim`;
  await Deno.copyFile(FIXTURE, wimPath);
  using pool = new InlineChunkPool();
  await using view = await openImageView(wimPath, 1, {
    pool,
    writable: true,
    stagingDir: dir.path,
  });
  const dispatcher = new FuseDispatcher(view);
  const lookup = reply(
    await dispatcher.handle(request(Opcode.LOOKUP, 1n, args(["name", "a.txt"]))),
  );
  assert.equal(lookup.errno, 0);
  const node = lookup.body.getBigUint64(0, true);
  const getattr = async () =>
    reply(await dispatcher.handle(request(Opcode.GETATTR, node, args(["u32", 0], ["u32", 0]))));
  const before = view.stat("/a.txt")!.filetimes!;
  assert.deepEqual(attrTimes((await getattr()).body, 16), {
    atime: filetimeToUnix(before.lastAccess),
    mtime: filetimeToUnix(before.lastWrite),
    ctime: filetimeToUnix(before.lastWrite),
  });
  // utimensat(2) with nanoseconds the WIM cannot keep: they are cut to 100 ns, not rounded.
  const mtime = { seconds: 1_700_000_000n, nanoseconds: 987_654_399 };
  const atime = { seconds: -86_400n, nanoseconds: 100 };
  const setattr = args(
    ["u32", SetattrValid.MTIME | SetattrValid.ATIME],
    ["u32", 0],
    ["u64", 0n], // fh
    ["u64", 0n], // size
    ["u64", 0n], // lock_owner
    ["u64", BigInt.asUintN(64, atime.seconds)],
    ["u64", mtime.seconds],
    ["u64", 0n], // ctime
    ["u32", atime.nanoseconds],
    ["u32", mtime.nanoseconds],
    ["u32", 0], // ctimensec
    ["u32", 0], // mode
    ["u32", 0],
    ["u32", 0], // uid
    ["u32", 0], // gid
    ["u32", 0],
  );
  const set = reply(await dispatcher.handle(request(Opcode.SETATTR, node, setattr)));
  assert.equal(set.errno, 0);
  const exact = { seconds: mtime.seconds, nanoseconds: 987_654_300 };
  assert.deepEqual(attrTimes(set.body, 16), { atime, mtime: exact, ctime: exact });
  assert.deepEqual(attrTimes((await getattr()).body, 16), { atime, mtime: exact, ctime: exact });
  const after = view.stat("/a.txt")!;
  assert.equal(after.filetimes?.lastWrite, unixToFiletime(exact));
  assert.equal(after.filetimes?.lastAccess, unixToFiletime(atime));
  assert.equal(after.filetimes?.creation, before.creation);
  assert.equal(after.lastWriteTime, 1_700_000_000_987.6543);
});

Deno.test("fuse dispatch: READDIR pages through '.', '..' and every name of the view", async () => {
  using pool = new InlineChunkPool();
  await using view = await openImageView(FIXTURE, 1, { pool });
  const dispatcher = new FuseDispatcher(view);
  const opened = reply(await dispatcher.handle(request(Opcode.OPENDIR, 1n, args(["u32", 0]))));
  const handle = opened.body.getBigUint64(0, true);
  const names: string[] = [];
  let offset = 0n;
  for (let round = 0; round < 100; round++) {
    const readArgs = args(["u64", handle], ["u64", offset], ["u32", 96], ["u32", 0]);
    const page = reply(await dispatcher.handle(request(Opcode.READDIR, 1n, readArgs)));
    assert.equal(page.errno, 0);
    if (page.raw.length === 0) break;
    let at = 0;
    while (at < page.raw.length) {
      offset = page.body.getBigUint64(at + 8, true);
      const length = page.body.getUint32(at + 16, true);
      names.push(new TextDecoder().decode(page.raw.subarray(at + 24, at + 24 + length)));
      at += (24 + length + 7) & ~7;
    }
  }
  assert.deepEqual(names, [".", "..", ...view.list("/").map((entry) => entry.name)]);
  const released = reply(
    await dispatcher.handle(request(Opcode.RELEASEDIR, 1n, args(["u64", handle]))),
  );
  assert.equal(released.errno, 0);
});

Deno.test("fuse dispatch: errors map to errno: ENOENT, EROFS, ENOSYS; FORGET has no reply", async () => {
  using pool = new InlineChunkPool();
  await using view = await openImageView(FIXTURE, 1, { pool });
  const dispatcher = new FuseDispatcher(view);
  const missing = await dispatcher.handle(request(Opcode.LOOKUP, 1n, args(["name", "nope"])));
  assert.equal(reply(missing).errno, Errno.ENOENT);
  const mkdir = args(["u32", 0o755], ["u32", 0o22], ["name", "new"]);
  assert.equal(reply(await dispatcher.handle(request(Opcode.MKDIR, 1n, mkdir))).errno, Errno.EROFS);
  assert.equal(reply(await dispatcher.handle(request(39, 1n))).errno, Errno.ENOSYS);
  assert.equal(reply(await dispatcher.handle(request(Opcode.GETATTR, 999n))).errno, Errno.ENOENT);
  assert.equal(await dispatcher.handle(request(Opcode.FORGET, 2n, args(["u64", 1n]))), null);
});

Deno.test("fuse nodes: lookups count, forget frees, rename moves descendants", () => {
  const nodes = new NodeTable();
  const a = nodes.lookup("/a");
  const b = nodes.lookup("/a/b");
  assert.equal(nodes.lookup("/a"), a);
  nodes.rename("/a", "/z");
  assert.equal(nodes.path(b), "/z/b");
  assert.equal(nodes.lookup("/z/b"), b);
  nodes.forget(b, 2n);
  assert.equal(nodes.path(b), undefined);
  nodes.removed("/z");
  assert.equal(nodes.path(a), undefined);
  assert.notEqual(nodes.lookup("/z"), a);
});
