/**
 * sysprepCheck() on Windows-like trees built at test time: SYSTEM hives written by hivex's
 * `hivexsh -w`, State.ini in every documented state (UTF-16LE with BOM and ASCII), case-varied
 * paths, the sysprep tag and error log; each tree checked as a directory and as a WIM image
 * (written by wimkit, and by wimlib-imagex when present).
 */

import assert from "node:assert/strict";
import { Command } from "commander";
import { createWim, scanTree, WimkitError } from "../../mod.ts";
import {
  sysprepCheck,
  type SysprepEvidence,
  SysprepEvidenceName,
  type SysprepReport,
} from "../../recipes/sysprep_check.ts";
import { registerSysprepCheck, SYSPREP_EXIT_CODES } from "../../tasks/commands/sysprep_check.ts";
import { ExitWith } from "../../tasks/ui/errors.ts";
import { hasWimlib, tempDir, wimkitCli, wimlib } from "../support/wimlib.ts";

const MINIMAL_HIVE = new URL("../../../shared/data/minimal.hive", import.meta.url).pathname;

const hivexshAvailable = await (async () => {
  try {
    await Deno.stat(MINIMAL_HIVE);
    const run = await new Deno.Command("hivexsh", {
      args: ["-f", "/dev/null"],
      stdout: "null",
      stderr: "null",
    }).output();
    return run.success;
  } catch {
    return false;
  }
})();
const withHivex = { ignore: !hivexshAvailable };

const ALL_STATES = [
  "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
  "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT",
  "IMAGE_STATE_COMPLETE",
  "IMAGE_STATE_UNDEPLOYABLE",
  "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE",
  "IMAGE_STATE_SPECIALIZE_RESEAL_TO_AUDIT",
] as const;

// ---- building trees ---------------------------------------------------------------------------

type RegData = number | string | { multi: string[] } | { binary: Uint8Array };

interface HiveSpec {
  setup?: Record<string, RegData>;
  sysprepStatus?: Record<string, RegData>;
}

function setval(values: Record<string, RegData>): string[] {
  const lines = [`setval ${Object.keys(values).length}`];
  for (const [name, data] of Object.entries(values)) {
    lines.push(name);
    if (typeof data === "number") lines.push(`dword:0x${data.toString(16).padStart(8, "0")}`);
    else if (typeof data === "string") lines.push(`string:${data}`);
    else if ("multi" in data) {
      lines.push(hexValue(7, utf16(data.multi.map((s) => `${s}\0`).join("") + "\0", false)));
    } else lines.push(hexValue(3, data.binary));
  }
  return lines;
}

/** A `setval` line for raw data: `hex:TYPE:aa,bb,...`. */
function hexValue(type: number, data: Uint8Array): string {
  return `hex:${type}:${Array.from(data, (b) => b.toString(16).padStart(2, "0")).join(",")}`;
}

/** A SYSTEM hive made by `hivexsh -w` from a copy of the empty hive. */
async function makeSystemHive(spec: HiveSpec): Promise<Uint8Array> {
  await using work = await tempDir("wimkit-hive-");
  const commands = ["add Setup", "cd Setup"];
  if (spec.setup) commands.push(...setval(spec.setup));
  if (spec.sysprepStatus) {
    commands.push("add Status", "cd Status", "add SysprepStatus", "cd SysprepStatus");
    commands.push(...setval(spec.sysprepStatus));
  }
  commands.push("commit", "");
  const hive = `${work.path}/SYSTEM`;
  await Deno.copyFile(MINIMAL_HIVE, hive);
  await Deno.chmod(hive, 0o644);
  await Deno.writeTextFile(`${work.path}/script`, commands.join("\n"));
  const run = await new Deno.Command("hivexsh", { args: ["-w", "-f", `${work.path}/script`, hive] })
    .output();
  const stderr = new TextDecoder().decode(run.stderr);
  assert.ok(run.success && stderr === "", `hivexsh failed: ${stderr}`);
  return await Deno.readFile(hive);
}

function utf16(text: string, bom = true): Uint8Array {
  const out = new Uint8Array((bom ? 2 : 0) + text.length * 2);
  let at = 0;
  if (bom) [out[0], out[1], at] = [0xff, 0xfe, 2];
  for (let i = 0; i < text.length; i++, at += 2) {
    out[at] = text.charCodeAt(i) & 0xff;
    out[at + 1] = text.charCodeAt(i) >> 8;
  }
  return out;
}

interface TreeSpec {
  /** System root name (default "Windows"). */
  systemRoot?: string;
  /** Path of the hive under the system root (default System32/config/SYSTEM). */
  hivePath?: string;
  hive?: Uint8Array;
  /** ImageState, and how State.ini is encoded. */
  state?: string;
  stateEncoding?: "utf16" | "ascii";
  stateIniPath?: string;
  tag?: boolean;
  setupErr?: string;
}

const GENERALIZED_HIVE: HiveSpec = {
  setup: {
    SystemSetupInProgress: 1,
    SetupType: 2,
    CmdLine: "oobe\\windeploy.exe",
    OOBEInProgress: 1,
  },
  sysprepStatus: { GeneralizationState: 7, CleanupState: 2 },
};

async function writeTree(root: string, spec: TreeSpec): Promise<void> {
  const systemRoot = `${root}/${spec.systemRoot ?? "Windows"}`;
  const put = async (relative: string, data: Uint8Array) => {
    const path = `${systemRoot}/${relative}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeFile(path, data);
  };
  await Deno.mkdir(`${root}/Users/Default`, { recursive: true });
  await Deno.writeTextFile(`${root}/Users/Default/ntuser.txt`, "not a hive\n");
  if (spec.hive) await put(spec.hivePath ?? "System32/config/SYSTEM", spec.hive);
  await put("System32/kernel32.dll", new TextEncoder().encode("MZ"));
  if (spec.state !== undefined) {
    const text = `[State]\r\nImageState=${spec.state}\r\n`;
    await put(
      spec.stateIniPath ?? "Setup/State/State.ini",
      spec.stateEncoding === "ascii" ? new TextEncoder().encode(text) : utf16(text),
    );
  }
  if (spec.tag) await put("System32/Sysprep/Sysprep_succeeded.tag", new Uint8Array(0));
  if (spec.setupErr !== undefined) {
    await put("System32/Sysprep/Panther/setuperr.log", new TextEncoder().encode(spec.setupErr));
  }
}

/** Checks `spec` as a directory and as a wimkit-written WIM image; both reports must agree. */
async function checkBoth(spec: TreeSpec): Promise<SysprepReport> {
  await using work = await tempDir();
  const tree = `${work.path}/tree`;
  await writeTree(tree, spec);
  const fromDir = await sysprepCheck({ target: tree });
  assert.equal(fromDir.kind, "directory");
  const wim = `${work.path}/image.wim`;
  await createWim(wim, [{ root: (await scanTree(tree)).root, name: "win" }]);
  const fromWim = await sysprepCheck({ target: wim });
  assert.equal(fromWim.kind, "wim");
  assert.equal(fromWim.image, 1);
  assert.deepEqual(
    { ...fromWim, target: "", kind: "", image: 0 },
    { ...fromDir, target: "", kind: "", image: 0 },
  );
  return fromDir;
}

function evidence(report: SysprepReport, name: string): SysprepEvidence {
  const item = report.evidence.find((e) => e.name === name);
  assert.ok(item, `no evidence ${name}`);
  return item;
}

// ---- verdicts ---------------------------------------------------------------------------------

Deno.test(
  "sysprepCheck() reads every ImageState, UTF-16LE with BOM and ASCII",
  withHivex,
  async () => {
    const hive = await makeSystemHive(GENERALIZED_HIVE);
    for (const state of ALL_STATES) {
      for (const stateEncoding of ["utf16", "ascii"] as const) {
        const report = await checkBoth({ hive, state, stateEncoding, tag: true });
        const expected = state.includes("GENERALIZE") ? "generalized" : "not-generalized";
        assert.equal(report.verdict, expected, `${state} (${stateEncoding})`);
        const item = evidence(report, SysprepEvidenceName.IMAGE_STATE);
        assert.equal(item.status, "found");
        assert.equal(item.value, state);
        assert.ok(item.meaning && item.meaning !== "not a state Microsoft documents");
      }
    }
  },
);

Deno.test(
  "sysprepCheck() reports a generalized tree with every piece of evidence",
  withHivex,
  async () => {
    const report = await checkBoth({
      hive: await makeSystemHive(GENERALIZED_HIVE),
      state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
      tag: true,
      setupErr: "",
    });
    assert.equal(report.verdict, "generalized");
    assert.equal(report.systemRoot, "Windows");
    assert.deepEqual(report.setupErrors, []);
    const values = Object.fromEntries(report.evidence.map((e) => [e.name, [e.status, e.value]]));
    const N = SysprepEvidenceName;
    assert.deepEqual(values, {
      [N.SYSTEM_HIVE]: ["found", "Windows/System32/config/SYSTEM"],
      [N.GENERALIZATION_STATE]: ["found", 7],
      [N.CLEANUP_STATE]: ["found", 2],
      [N.SYSTEM_SETUP_IN_PROGRESS]: ["found", 1],
      [N.SETUP_TYPE]: ["found", 2],
      [N.CMD_LINE]: ["found", "oobe\\windeploy.exe"],
      [N.OOBE_IN_PROGRESS]: ["found", 1],
      [N.IMAGE_STATE]: ["found", "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"],
      [N.SUCCEEDED_TAG]: ["found", "Windows/System32/Sysprep/Sysprep_succeeded.tag"],
      [N.SETUP_ERR_LOG]: ["found", 0],
    });
    assert.match(evidence(report, N.CMD_LINE).meaning ?? "", /Windows Deployment/);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(report)));
  },
);

Deno.test("sysprepCheck() matches paths case-insensitively", withHivex, async () => {
  const report = await checkBoth({
    systemRoot: "WINDOWS",
    hivePath: "system32/CONFIG/system",
    hive: await makeSystemHive(GENERALIZED_HIVE),
    state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT",
    stateIniPath: "SETUP/state/STATE.INI",
    stateEncoding: "ascii",
  });
  assert.equal(report.verdict, "generalized");
  assert.equal(report.systemRoot, "WINDOWS");
  assert.equal(
    evidence(report, SysprepEvidenceName.SYSTEM_HIVE).value,
    "WINDOWS/system32/CONFIG/system",
  );
  assert.equal(evidence(report, SysprepEvidenceName.SUCCEEDED_TAG).status, "missing");
  assert.equal(evidence(report, SysprepEvidenceName.SETUP_ERR_LOG).status, "missing");
});

Deno.test(
  "sysprepCheck() says not generalized from GeneralizationState alone",
  withHivex,
  async () => {
    const report = await checkBoth({
      hive: await makeSystemHive({
        setup: { SystemSetupInProgress: 0, SetupType: 0, CmdLine: "" },
        sysprepStatus: { GeneralizationState: 4, CleanupState: 7 },
      }),
    });
    assert.equal(report.verdict, "not-generalized");
    assert.equal(evidence(report, SysprepEvidenceName.IMAGE_STATE).status, "missing");
    assert.equal(evidence(report, SysprepEvidenceName.OOBE_IN_PROGRESS).status, "missing");
    assert.match(evidence(report, SysprepEvidenceName.GENERALIZATION_STATE).meaning ?? "", /^4:/);
  },
);

Deno.test(
  "sysprepCheck() is inconclusive on missing or conflicting evidence",
  withHivex,
  async () => {
    const generalized = await makeSystemHive(GENERALIZED_HIVE);
    // GeneralizationState 7 but no State.ini
    assert.equal((await checkBoth({ hive: generalized })).verdict, "inconclusive");
    // State.ini says generalized, GeneralizationState says not
    const conflicting = await makeSystemHive({ sysprepStatus: { GeneralizationState: 4 } });
    const report = await checkBoth({
      hive: conflicting,
      state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
    });
    assert.equal(report.verdict, "inconclusive");
    // State.ini says generalized, no SysprepStatus key at all
    const empty = await makeSystemHive({});
    const missing = await checkBoth({
      hive: empty,
      state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
    });
    assert.equal(missing.verdict, "inconclusive");
    assert.equal(evidence(missing, SysprepEvidenceName.GENERALIZATION_STATE).status, "missing");
    // an ImageState Microsoft does not document
    const unknown = await checkBoth({ hive: generalized, state: "IMAGE_STATE_SOMETHING_ELSE" });
    assert.equal(unknown.verdict, "inconclusive");
    assert.equal(
      evidence(unknown, SysprepEvidenceName.IMAGE_STATE).meaning,
      "not a state Microsoft documents",
    );
    // Microsoft's page spells one state "IMAGE_STATE _UNDEPLOYABLE"
    const spaced = await checkBoth({ hive: generalized, state: "IMAGE_STATE _UNDEPLOYABLE" });
    assert.equal(spaced.verdict, "not-generalized");
    // State.ini without the key
    await using work = await tempDir();
    await writeTree(work.path, { hive: generalized });
    await Deno.mkdir(`${work.path}/Windows/Setup/State`, { recursive: true });
    await Deno.writeTextFile(
      `${work.path}/Windows/Setup/State/State.ini`,
      "[Other]\nImageState=X\n",
    );
    const noKey = await sysprepCheck({ target: work.path });
    assert.equal(noKey.verdict, "inconclusive");
    assert.equal(evidence(noKey, SysprepEvidenceName.IMAGE_STATE).status, "missing");
  },
);

Deno.test(
  "sysprepCheck() keeps string values, counts only a number 7, rejects binary",
  withHivex,
  async () => {
    const hive = await makeSystemHive({
      setup: {
        CmdLine: { multi: ["oobe\\windeploy.exe", "/x"] },
        OOBEInProgress: { binary: new Uint8Array([1, 2, 3]) },
      },
      sysprepStatus: { GeneralizationState: "7" },
    });
    const report = await checkBoth({ hive, state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" });
    assert.equal(report.verdict, "inconclusive");
    assert.deepEqual(evidence(report, SysprepEvidenceName.CMD_LINE).value, [
      "oobe\\windeploy.exe",
      "/x",
    ]);
    // A string "7" is not the DWORD sysprep writes: reported, but it does not count as 7.
    assert.equal(evidence(report, SysprepEvidenceName.GENERALIZATION_STATE).value, "7");
    const binary = evidence(report, SysprepEvidenceName.OOBE_IN_PROGRESS);
    assert.equal(binary.status, "unreadable");
    assert.match(binary.meaning ?? "", /REG_BINARY/);
  },
);

Deno.test("sysprepCheck() collects setuperr.log lines and the sysprep tag", withHivex, async () => {
  const log = [
    "2024-05-01 10:00:00, Error                 SYSPRP Package Foo was installed for a user",
    "",
    "2024-05-01 10:00:01, Error                 SYSPRP Failed to remove apps for the current user",
    "",
  ].join("\r\n");
  const report = await checkBoth({
    hive: await makeSystemHive(GENERALIZED_HIVE),
    state: "IMAGE_STATE_COMPLETE",
    setupErr: log,
  });
  assert.equal(report.verdict, "not-generalized");
  assert.equal(report.setupErrors.length, 2);
  assert.match(report.setupErrors[1]!, /Failed to remove apps/);
  assert.equal(evidence(report, SysprepEvidenceName.SETUP_ERR_LOG).value, 2);
  assert.equal(evidence(report, SysprepEvidenceName.SUCCEEDED_TAG).status, "missing");
});

Deno.test("sysprepCheck() says not-windows for a tree without a SYSTEM hive", async () => {
  await using work = await tempDir();
  const report = await checkBoth({ state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE", tag: true });
  assert.equal(report.verdict, "not-windows");
  assert.equal(report.systemRoot, undefined);
  assert.deepEqual(report.evidence.map((e) => e.status), ["missing"]);
  const fixture = new URL("../fixtures/lzx.wim", import.meta.url).pathname;
  assert.equal((await sysprepCheck({ target: fixture })).verdict, "not-windows");
  assert.equal((await sysprepCheck({ target: work.path })).verdict, "not-windows");
});

Deno.test("sysprepCheck() reports a corrupt hive as unreadable, without throwing", async () => {
  const corrupt = new TextEncoder().encode("regf".padEnd(8192, "\x7f"));
  const report = await checkBoth({
    hive: corrupt,
    state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
    tag: true,
  });
  assert.equal(report.verdict, "inconclusive");
  assert.equal(evidence(report, SysprepEvidenceName.SYSTEM_HIVE).status, "unreadable");
  assert.equal(evidence(report, SysprepEvidenceName.GENERALIZATION_STATE).status, "unreadable");
  assert.equal(evidence(report, SysprepEvidenceName.IMAGE_STATE).status, "found");
  // a truncated real hive: no crash either
  const empty = await checkBoth({ hive: new Uint8Array(0), state: "IMAGE_STATE_COMPLETE" });
  assert.equal(empty.verdict, "not-generalized");
  assert.equal(evidence(empty, SysprepEvidenceName.SYSTEM_HIVE).status, "unreadable");
});

// ---- targets ----------------------------------------------------------------------------------

Deno.test("sysprepCheck() picks WIMFILE:IMAGE by index or name", withHivex, async () => {
  await using work = await tempDir();
  await writeTree(`${work.path}/a`, {});
  await writeTree(`${work.path}/b`, {
    hive: await makeSystemHive(GENERALIZED_HIVE),
    state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE",
  });
  const wim = `${work.path}/two:images.wim`;
  await createWim(wim, [
    { root: (await scanTree(`${work.path}/a`)).root, name: "plain" },
    { root: (await scanTree(`${work.path}/b`)).root, name: "sealed" },
  ]);
  assert.equal((await sysprepCheck({ target: `${wim}:1` })).verdict, "not-windows");
  const byName = await sysprepCheck({ target: `${wim}:sealed` });
  assert.equal(byName.verdict, "generalized");
  assert.equal(byName.image, 2);
  await assert.rejects(
    sysprepCheck({ target: wim }),
    (error: unknown) => error instanceof WimkitError && error.code === "usage",
  );
  await assert.rejects(
    sysprepCheck({ target: `${wim}:3` }),
    (error: unknown) => error instanceof WimkitError,
  );
  await assert.rejects(
    sysprepCheck({ target: `${work.path}/nothing-here` }),
    (error: unknown) => error instanceof WimkitError && error.code === "not-found",
  );
});

Deno.test(
  "sysprepCheck() reads an image captured by wimlib-imagex",
  { ignore: !hivexshAvailable || !hasWimlib },
  async () => {
    await using work = await tempDir();
    await writeTree(`${work.path}/tree`, {
      systemRoot: "windows",
      hivePath: "System32/Config/SYSTEM",
      hive: await makeSystemHive(GENERALIZED_HIVE),
      state: "IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE",
      tag: true,
    });
    const wim = `${work.path}/wimlib.wim`;
    await wimlib("capture", `${work.path}/tree`, wim, "Win", "--compress=lzx");
    const report = await sysprepCheck({ target: `${wim}:Win` });
    assert.equal(report.verdict, "not-generalized");
    assert.equal(report.systemRoot, "windows");
    assert.equal(evidence(report, SysprepEvidenceName.GENERALIZATION_STATE).value, 7);
  },
);

// ---- the command ------------------------------------------------------------------------------

async function runCommand(args: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const program = new Command("wimkit").exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => out.push(text),
  });
  registerSysprepCheck(program, { out: (line) => out.push(line), err: (line) => out.push(line) });
  try {
    await program.parseAsync(args, { from: "user" });
    return { code: 0, out };
  } catch (error) {
    if (error instanceof ExitWith) return { code: error.exitCode, out };
    throw error;
  }
}

Deno.test("sysprep-check exits with the verdict's code", withHivex, async () => {
  await using work = await tempDir();
  const hive = await makeSystemHive(GENERALIZED_HIVE);
  const cases = [
    ["sealed", { hive, state: "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" }, "generalized"],
    ["complete", { hive, state: "IMAGE_STATE_COMPLETE" }, "not-generalized"],
    ["plain", {}, "not-windows"],
    ["unsure", { hive }, "inconclusive"],
  ] as const;
  for (const [name, spec, verdict] of cases) {
    await writeTree(`${work.path}/${name}`, spec);
    const text = await runCommand(["sysprep-check", `${work.path}/${name}`]);
    assert.equal(text.code, SYSPREP_EXIT_CODES[verdict]);
    assert.equal(
      text.code,
      { generalized: 0, "not-generalized": 10, "not-windows": 11, inconclusive: 12 }[verdict],
    );
    assert.match(
      text.out[0]!,
      verdict === "not-generalized" ? /NOT generalized/ : new RegExp(verdict.split("-")[0]!),
    );
    const json = await runCommand(["sysprep-check", "--json", `${work.path}/${name}`]);
    assert.equal(json.code, text.code);
    assert.equal(JSON.parse(json.out[0]!).verdict, verdict);
  }
  const help = await runCommand(["sysprep-check", "--help"]).catch((error: unknown) => error);
  assert.ok(help instanceof Error && !(help instanceof ExitWith)); // commander's help exit
});

Deno.test("sysprep-check --help documents the exit codes", async () => {
  const out: string[] = [];
  const program = new Command("wimkit").exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => out.push(text),
  });
  registerSysprepCheck(program, { out: (line) => out.push(line), err: (line) => out.push(line) });
  await assert.rejects(program.parseAsync(["sysprep-check", "--help"], { from: "user" }));
  const help = out.join("");
  for (
    const code of [
      "0   generalized",
      "10  not generalized",
      "11  not a Windows",
      "12  inconclusive",
    ]
  ) {
    assert.ok(help.includes(code), `help lacks "${code}": ${help}`);
  }
});

Deno.test({
  name: "deno task sysprep-check returns the verdict's exit code through the real command line",
  ignore: !hivexshAvailable,
  async fn() {
    await using work = await tempDir();
    await writeTree(`${work.path}/plain`, {});
    const result = await wimkitCli(["sysprep-check", `${work.path}/plain`]);
    assert.equal(result.code, SYSPREP_EXIT_CODES["not-windows"]);
    assert.equal(result.stderr, "");
    assert.match(result.stdout, /not a Windows tree/);
  },
});
