/**
 * sysprep-check on a tiny generalized Windows tree: `deno run -A examples/sysprep_check.ts`.
 *
 * Builds `Windows/System32/config/SYSTEM` (with hivex's `hivexsh -w` when installed, else from the
 * committed test hive), `Windows/Setup/State/State.ini` and the sysprep tag in a temporary
 * directory, captures it into a WIM, and prints the report for both. Works offline; fails if the
 * verdict is not "generalized".
 */

import { createWim, scanTree } from "../mod.ts";
import { sysprepCheck, type SysprepReport } from "../recipes/sysprep_check.ts";

const EMPTY_HIVE = new URL("../../shared/data/minimal.hive", import.meta.url).pathname;
const COMMITTED_HIVE = new URL("../tests/fixtures/hives/system_small.hive", import.meta.url);
const encoder = new TextEncoder();

async function print(line: string): Promise<void> {
  await Deno.stdout.write(encoder.encode(line + "\n"));
}

/** A SYSTEM hive with GeneralizationState 7 and the Setup values sysprep /generalize leaves. */
async function generalizedHive(work: string): Promise<Uint8Array> {
  const hive = `${work}/SYSTEM.hive`;
  try {
    await Deno.copyFile(EMPTY_HIVE, hive);
    await Deno.chmod(hive, 0o644);
    const script = [
      "add Setup",
      "cd Setup",
      "setval 4",
      "SystemSetupInProgress",
      "dword:1",
      "SetupType",
      "dword:2",
      "CmdLine",
      "string:oobe\\windeploy.exe",
      "OOBEInProgress",
      "dword:1",
      "add Status",
      "cd Status",
      "add SysprepStatus",
      "cd SysprepStatus",
      "setval 2",
      "GeneralizationState",
      "dword:7",
      "CleanupState",
      "dword:2",
      "commit",
      "",
    ];
    await Deno.writeTextFile(`${work}/script`, script.join("\n"));
    const run = await new Deno.Command("hivexsh", {
      args: ["-w", "-f", `${work}/script`, hive],
      stdout: "null",
      stderr: "null",
    }).output();
    if (run.success) return await Deno.readFile(hive);
  } catch {
    // no hivexsh or no empty hive here: use the committed one
  }
  return await Deno.readFile(COMMITTED_HIVE);
}

async function put(path: string, data: Uint8Array): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeFile(path, data);
}

/** State.ini as Windows writes it: UTF-16LE with a byte order mark. */
function stateIni(state: string): Uint8Array {
  const text = `\ufeff[State]\r\nImageState=${state}\r\n`;
  const bytes = new Uint8Array(text.length * 2);
  for (let i = 0; i < text.length; i++) {
    bytes[2 * i] = text.charCodeAt(i) & 0xff;
    bytes[2 * i + 1] = text.charCodeAt(i) >> 8;
  }
  return bytes;
}

async function show(report: SysprepReport): Promise<void> {
  await print(`${report.target}: ${report.verdict}`);
  for (const item of report.evidence) {
    const value = item.value === undefined ? "" : ` ${JSON.stringify(item.value)}`;
    await print(`  ${item.name}: ${item.status}${value}`);
  }
}

const work = await Deno.makeTempDir({ prefix: "wimkit-sysprep-example-" });
try {
  const tree = `${work}/volume`;
  await put(`${tree}/Windows/System32/config/SYSTEM`, await generalizedHive(work));
  await put(
    `${tree}/Windows/Setup/State/State.ini`,
    stateIni("IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"),
  );
  await put(`${tree}/Windows/System32/Sysprep/Sysprep_succeeded.tag`, new Uint8Array(0));

  const fromDirectory = await sysprepCheck({ target: tree });
  await show(fromDirectory);

  const wim = `${work}/volume.wim`;
  await createWim(wim, [{ root: (await scanTree(tree)).root, name: "Sealed" }]);
  const fromWim = await sysprepCheck({ target: `${wim}:Sealed` });
  await show(fromWim);

  for (const report of [fromDirectory, fromWim]) {
    if (report.verdict !== "generalized") {
      throw new Error(`expected "generalized", got "${report.verdict}" for ${report.target}`);
    }
  }
} finally {
  await Deno.remove(work, { recursive: true });
}
