/** The WINDOWS element of a captured Windows tree matches what wimlib-imagex writes. */

import assert from "node:assert/strict";
import { Wim, windowsProperties } from "@wimkit/wimkit";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

/** A minimal PE file whose machine field is x64. */
function fakeKernel32(): Uint8Array {
  const bytes = new Uint8Array(512);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x5a]);
  view.setUint32(0x3c, 0x80, true);
  view.setUint32(0x80, 0x4550, true);
  view.setUint16(0x84, 0x8664, true);
  return bytes;
}

async function makeWindowsTree(root: string): Promise<void> {
  await Deno.mkdir(`${root}/Windows/System32/config`, { recursive: true });
  await Deno.mkdir(`${root}/Users`);
  await Deno.writeFile(`${root}/Windows/System32/kernel32.dll`, fakeKernel32());
  for (
    const [name, fixture] of [["SOFTWARE", "software_small.hive"], ["SYSTEM", "system_small.hive"]]
  ) {
    await Deno.copyFile(
      new URL(`../fixtures/hives/${fixture}`, import.meta.url),
      `${root}/Windows/System32/config/${name}`,
    );
  }
}

Deno.test("windowsProperties() reads system root, architecture, product, version and languages", async () => {
  await using work = await tempDir();
  await makeWindowsTree(work.path);
  const properties = new Map<string, string[]>();
  for (const [path, value] of windowsProperties(work.path)) {
    properties.set(path, [...(properties.get(path) ?? []), value]);
  }
  assert.deepEqual(properties.get("WINDOWS/SYSTEMROOT"), ["WINDOWS"]);
  assert.deepEqual(properties.get("WINDOWS/ARCH"), ["9"]);
  assert.deepEqual(properties.get("WINDOWS/PRODUCTNAME"), ["Windows 10 Pro"]);
  assert.deepEqual(properties.get("WINDOWS/EDITIONID"), ["Professional"]);
  assert.deepEqual(properties.get("WINDOWS/VERSION/MAJOR"), ["10"]);
  assert.deepEqual(properties.get("FLAGS"), ["Professional"]);
  assert.ok((properties.get("WINDOWS/LANGUAGES/LANGUAGE") ?? []).length >= 1);
});

Deno.test({
  name: "capture fills the WINDOWS element as wimlib-imagex does",
  ignore: !hasWimlib,
  async fn() {
    await using work = await tempDir();
    await makeWindowsTree(`${work.path}/src`);
    await wimlib("capture", `${work.path}/src`, `${work.path}/theirs.wim`, "w");
    const ours = await wimkitCli([
      "capture",
      `${work.path}/src`,
      `${work.path}/ours.wim`,
      "w",
      "--quiet",
    ]);
    assert.equal(ours.code, 0, ours.stderr);
    const read = async (path: string) => {
      await using wim = await Wim.open(path);
      const properties = wim.images()[0]!.properties;
      return Object.fromEntries(
        Object.entries(properties).filter(([key]) =>
          /^(WINDOWS|FLAGS|DISPLAYNAME|DISPLAYDESCRIPTION)/.test(key)
        ),
      );
    };
    assert.deepEqual(await read(`${work.path}/ours.wim`), await read(`${work.path}/theirs.wim`));
  },
});
