/**
 * Reading the evidence of sysprep-check from a tree: the values of the SYSTEM hive, the ImageState
 * of State.ini and the lines of Sysprep's setuperr.log. Missing or corrupt evidence never throws:
 * it comes back as missing or unreadable.
 */

import { type HiveKey, openHive } from "../lib/registry/hive.ts";
import type { Tree, TreeNode } from "./sysprep_targets.ts";
import {
  GENERALIZED_STATE,
  imageStateInfo,
  type SysprepEvidence,
  SysprepEvidenceName,
} from "./sysprep_verdict.ts";

const MAX_HIVE_BYTES = 512 << 20;
const MAX_TEXT_BYTES = 64 << 20;

/** The SYSTEM hive and its Setup values, as evidence (the hive first). */
export async function hiveEvidence(tree: Tree, file: TreeNode): Promise<SysprepEvidence[]> {
  const N = SysprepEvidenceName;
  const valueNames = [
    N.GENERALIZATION_STATE,
    N.CLEANUP_STATE,
    N.SYSTEM_SETUP_IN_PROGRESS,
    N.SETUP_TYPE,
    N.CMD_LINE,
    N.OOBE_IN_PROGRESS,
  ];
  let setup: HiveKey | undefined;
  let status: HiveKey | undefined;
  let dirty = false;
  try {
    const hive = openHive(await tree.read(file, MAX_HIVE_BYTES), { name: file.path });
    dirty = hive.dirty;
    setup = hive.getKey("Setup");
    status = setup?.subkey("Status")?.subkey("SysprepStatus");
  } catch (error) {
    const reason = `cannot read the hive: ${messageOf(error)}`;
    return [
      { name: N.SYSTEM_HIVE, status: "unreadable", value: file.path, meaning: reason },
      ...valueNames.map((name): SysprepEvidence => ({
        name,
        status: "unreadable",
        meaning: "the SYSTEM hive is unreadable",
      })),
    ];
  }
  return [
    {
      name: N.SYSTEM_HIVE,
      status: "found",
      value: file.path,
      ...(dirty
        ? { meaning: "marked dirty: its transaction logs were not applied, values may be stale" }
        : {}),
    },
    readValue(N.GENERALIZATION_STATE, status, "GeneralizationState", generalizationMeaning),
    readValue(
      N.CLEANUP_STATE,
      status,
      "CleanupState",
      (v) => v === 2 ? "2: cleanup done (the usual value after sysprep)" : undefined,
    ),
    readValue(
      N.SYSTEM_SETUP_IN_PROGRESS,
      setup,
      "SystemSetupInProgress",
      (v) =>
        v === 1
          ? "1: Windows Setup runs at next boot (expected after sysprep /generalize)"
          : v === 0
          ? "0: no setup pending"
          : undefined,
    ),
    readValue(
      N.SETUP_TYPE,
      setup,
      "SetupType",
      (v) =>
        v === 0
          ? "0: normal boot"
          : v === 1
          ? "1: runs CmdLine at next boot, then restarts"
          : v === 2
          ? "2: runs CmdLine at next boot, then shows logon"
          : undefined,
    ),
    readValue(
      N.CMD_LINE,
      setup,
      "CmdLine",
      (v) =>
        typeof v === "string" && /windeploy/i.test(v)
          ? "Windows Deployment runs at next boot (set by sysprep)"
          : v === ""
          ? "no setup command pending"
          : undefined,
    ),
    readValue(
      N.OOBE_IN_PROGRESS,
      setup,
      "OOBEInProgress",
      (v) => v === 1 ? "1: OOBE runs at next boot" : v === 0 ? "0: OOBE not pending" : undefined,
    ),
  ];
}

function generalizationMeaning(value: string | number | string[]): string | undefined {
  if (value === GENERALIZED_STATE) return "7: the generalize pass completed";
  return typeof value === "number"
    ? `${value}: the generalize pass has not completed (7 when it has)`
    : undefined;
}

/** A value of `key` as evidence: numbers for DWORD/QWORD, strings for REG_SZ and REG_MULTI_SZ. */
function readValue(
  name: string,
  key: HiveKey | undefined,
  valueName: string,
  meaning: (value: string | number | string[]) => string | undefined,
): SysprepEvidence {
  let value: string | number | string[];
  try {
    const raw = key?.value(valueName);
    if (!raw) return { name, status: "missing" };
    switch (raw.type) {
      case 4: // REG_DWORD
      case 5: // REG_DWORD_BIG_ENDIAN
      case 11: // REG_QWORD
        value = raw.asNumber();
        break;
      case 1: // REG_SZ
      case 2: // REG_EXPAND_SZ
        value = raw.asString();
        break;
      case 7: // REG_MULTI_SZ
        value = raw.asStrings();
        break;
      default:
        return { name, status: "unreadable", meaning: `unexpected type ${raw.typeName}` };
    }
  } catch (error) {
    return { name, status: "unreadable", meaning: messageOf(error) };
  }
  const text = meaning(value);
  return { name, status: "found", value, ...(text === undefined ? {} : { meaning: text }) };
}

/** The `[State] ImageState` of State.ini, as evidence. */
export async function imageStateEvidence(
  tree: Tree,
  file: TreeNode | undefined,
): Promise<SysprepEvidence> {
  const name = SysprepEvidenceName.IMAGE_STATE;
  if (!file || file.directory) return { name, status: "missing", meaning: "no State.ini" };
  let state: string | undefined;
  try {
    state = parseImageState(decodeText(await tree.read(file, MAX_TEXT_BYTES)));
  } catch (error) {
    return { name, status: "unreadable", meaning: messageOf(error) };
  }
  if (state === undefined) {
    return { name, status: "missing", meaning: `${file.path} has no [State] ImageState` };
  }
  const known = imageStateInfo(state);
  return {
    name,
    status: "found",
    value: state,
    meaning: known?.meaning ?? "not a state Microsoft documents",
  };
}

/** The non-empty lines of setuperr.log and their count, as evidence. */
export async function setupErrEvidence(
  tree: Tree,
  file: TreeNode | undefined,
): Promise<{ item: SysprepEvidence; lines: string[] }> {
  const name = SysprepEvidenceName.SETUP_ERR_LOG;
  if (!file || file.directory) {
    return { item: { name, status: "missing", meaning: "no sysprep error log" }, lines: [] };
  }
  try {
    const lines = decodeText(await tree.read(file, MAX_TEXT_BYTES)).split(/\r?\n/)
      .map((line) => line.trimEnd()).filter((line) => line.trim() !== "");
    return {
      item: {
        name,
        status: "found",
        value: lines.length,
        meaning: lines.length === 0
          ? "empty: sysprep logged no errors"
          : `${lines.length} error line${lines.length === 1 ? "" : "s"} logged by sysprep`,
      },
      lines,
    };
  } catch (error) {
    return { item: { name, status: "unreadable", meaning: messageOf(error) }, lines: [] };
  }
}

/** The `[State] ImageState` value of an INI text (section and key case-insensitive). */
function parseImageState(text: string): string | undefined {
  let inState = false;
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";")) continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      inState = section[1]!.trim().toUpperCase() === "STATE";
      continue;
    }
    if (!inState) continue;
    const eq = line.indexOf("=");
    if (eq < 0 || line.slice(0, eq).trim().toUpperCase() !== "IMAGESTATE") continue;
    return line.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
  }
  return undefined;
}

/** Decodes UTF-16LE/BE (with BOM, or LE recognised by its zero bytes), else UTF-8. */
function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes);
  if (bytes.length >= 4 && bytes[1] === 0 && bytes[3] === 0 && bytes[0] !== 0) {
    return new TextDecoder("utf-16le").decode(bytes);
  }
  return new TextDecoder("utf-8").decode(bytes);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
