import assert from "node:assert/strict";
import {
  createWim,
  dentryStreams,
  InlineChunkPool,
  scanTree,
  verifyWim,
  walkTree,
  Wim,
  WorkerChunkPool,
} from "@wimkit/wimkit";
import { makeBytes, makeTree } from "../support/trees.ts";
import { tempDir } from "../support/wimlib.ts";

/** The file with the GUID and the XML (which holds capture times) blanked out. */
async function comparable(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  const view = new DataView(bytes.buffer);
  bytes.fill(0, 24, 40);
  const xmlOffset = Number(view.getBigUint64(0x50, true));
  const xmlSize = Number(view.getBigUint64(0x48, true) & 0xffffffffffffffn);
  bytes.fill(0, xmlOffset, xmlOffset + xmlSize);
  return bytes;
}

Deno.test("createWim() writes the same bytes with 0, 1 and 2 workers", async () => {
  await using work = await tempDir();
  await Deno.mkdir(`${work.path}/src`);
  await makeTree(`${work.path}/src`, { seed: 5 });
  const root = (await scanTree(`${work.path}/src`)).root;
  const outputs: Uint8Array[] = [];
  for (
    const [i, pool] of [new InlineChunkPool(), new WorkerChunkPool(1), new WorkerChunkPool(2)]
      .entries()
  ) {
    using owned = pool;
    await createWim(`${work.path}/${i}.wim`, [{ root, name: "x" }], {
      compression: "lzx",
      pool: owned,
    });
    outputs.push(await comparable(`${work.path}/${i}.wim`));
  }
  assert.deepEqual(outputs[1], outputs[0]);
  assert.deepEqual(outputs[2], outputs[0]);
});

Deno.test("createWim() stores identical contents once and counts every reference", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  const data = makeBytes("text", 50000, 1);
  for (const name of ["a", "b", "c"]) await Deno.writeFile(`${src}/${name}.txt`, data);
  await Deno.link(`${src}/a.txt`, `${src}/a_link.txt`);
  await Deno.writeFile(`${src}/unique.bin`, makeBytes("random", 70000, 2));
  await createWim(`${work.path}/out.wim`, [{ root: (await scanTree(src)).root, name: "x" }], {
    compression: "xpress",
  });
  await using wim = await Wim.open(`${work.path}/out.wim`);
  const blobs = wim.blobs();
  assert.equal(blobs.length, 2);
  const shared = blobs.find((b) => b.size === 50000)!;
  assert.equal(shared.refCount, 4, "three copies and one extra hard-link name");
  const random = blobs.find((b) => b.size === 70000)!;
  assert.equal(
    random.location.kind === "resource" && random.location.resource.flags,
    0,
    "incompressible data is stored raw",
  );
  await verifyWim(wim);
});

Deno.test("createWim() leaves nothing under the final name when it fails", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  await Deno.mkdir(src);
  await Deno.writeTextFile(`${src}/a.txt`, "will vanish");
  const root = (await scanTree(src)).root;
  await Deno.remove(`${src}/a.txt`);
  await assert.rejects(createWim(`${work.path}/out.wim`, [{ root, name: "x" }]));
  const left = (await Array.fromAsync(Deno.readDir(work.path))).map((e) => e.name);
  assert.deepEqual(left, ["src"]);
});

Deno.test("createWim() --solid orders contents by extension, then name, wherever they are", async () => {
  await using work = await tempDir();
  const src = `${work.path}/src`;
  const names = ["z/readme.txt", "a/C.exe", "b.dll", "y/a.dll", "x/LICENSE", "q/b.exe"];
  for (const [i, name] of names.entries()) {
    await Deno.mkdir(`${src}/${name.slice(0, name.lastIndexOf("/") + 1)}`, { recursive: true });
    await Deno.writeFile(`${src}/${name}`, makeBytes("text", 3000 + i, i + 1));
  }
  await createWim(`${work.path}/out.wim`, [{ root: (await scanTree(src)).root, name: "x" }], {
    solid: true,
  });
  await using wim = await Wim.open(`${work.path}/out.wim`);
  const image = await wim.readImage(1);
  const nameOf = new Map<string, string>();
  for (const { node } of walkTree(image.metadata.root)) {
    const hash = dentryStreams(node).data;
    if (hash) nameOf.set([...hash].map((b) => b.toString(16).padStart(2, "0")).join(""), node.name);
  }
  const inSolidOrder = wim.blobs()
    .map((blob) => ({ blob, offset: blob.location.kind === "solid" ? blob.location.offset : -1 }))
    .sort((a, b) => a.offset - b.offset)
    .map(({ blob }) => nameOf.get(blob.hashHex));
  assert.deepEqual(inSolidOrder, ["LICENSE", "a.dll", "b.dll", "b.exe", "C.exe", "readme.txt"]);
  await verifyWim(wim);
});
