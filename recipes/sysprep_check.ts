/**
 * sysprep-check: is a Windows tree generalized (sysprep /generalize) and safe to capture for
 * other machines? Reads the evidence from a directory (an offline Windows volume) or from an
 * image inside a WIM, without extracting it.
 *
 * Evidence, each reported as found, missing or unreadable:
 * - the SYSTEM hive (`<SystemRoot>/System32/config/SYSTEM`) and in it
 *   `Setup\Status\SysprepStatus` `GeneralizationState` and `CleanupState`, and `Setup`
 *   `SystemSetupInProgress`, `SetupType`, `CmdLine` and `OOBEInProgress`;
 * - `<SystemRoot>/Setup/State/State.ini` `[State] ImageState` (UTF-16LE, UTF-8 or ASCII);
 * - `<SystemRoot>/System32/Sysprep/Sysprep_succeeded.tag`;
 * - the lines of `<SystemRoot>/System32/Sysprep/Panther/setuperr.log`.
 *
 * Paths match case-insensitively, as on Windows. The verdict rules are in
 * {@linkcode decideVerdict}.
 */

import { createHash } from "node:crypto";
import { WimkitError } from "../lib/errors.ts";
import { type DentryNode, dentryStreams, isDirectory } from "../lib/format/metadata.ts";
import { type HiveKey, openHive } from "../lib/registry/hive.ts";
import { Wim } from "../lib/wim/wim.ts";
import { isUrl } from "../lib/io/open_source.ts";

/** What the check concluded; see {@linkcode decideVerdict} for the rules. */
export type SysprepVerdict = "generalized" | "not-generalized" | "not-windows" | "inconclusive";

/** One piece of evidence: whether it was found, its value and what that value means. */
export interface SysprepEvidence {
  /** What was looked for, e.g. "SYSTEM\\Setup\\Status\\SysprepStatus\\GeneralizationState". */
  readonly name: string;
  /** Found; missing (absent); unreadable (present but corrupt, too large or of the wrong type). */
  readonly status: "found" | "missing" | "unreadable";
  /** The value found (a DWORD as a number, REG_MULTI_SZ as strings, a path for a file). */
  readonly value?: string | number | string[];
  /** What the value means, or why the evidence is unreadable. */
  readonly meaning?: string;
}

/** The result of {@linkcode sysprepCheck}; plain data for `JSON.stringify`. */
export interface SysprepReport {
  /** The target as given. */
  readonly target: string;
  /** A directory, or an image in a WIM. */
  readonly kind: "directory" | "wim";
  /** The 1-based image index (WIM targets only). */
  readonly image?: number;
  /** The conclusion. */
  readonly verdict: SysprepVerdict;
  /** The system root directory as stored ("Windows", "WINDOWS", ...), when one was found. */
  readonly systemRoot?: string;
  /** Every piece of evidence, in a fixed order. */
  readonly evidence: SysprepEvidence[];
  /** The last {@linkcode MAX_SETUP_ERRORS} non-empty lines of the Sysprep setuperr.log. */
  readonly setupErrors: string[];
}

/** Options for {@linkcode sysprepCheck}. */
export interface SysprepCheckOptions {
  /** A directory, or `WIMFILE[:IMAGE]` (IMAGE by 1-based index or name; optional with one image). */
  readonly target: string;
  /** Other parts of a split WIM. */
  readonly refs?: readonly string[];
}

/** Evidence names, in report order. */
export const SysprepEvidenceName = {
  SYSTEM_HIVE: "SYSTEM hive",
  GENERALIZATION_STATE: "SYSTEM\\Setup\\Status\\SysprepStatus\\GeneralizationState",
  CLEANUP_STATE: "SYSTEM\\Setup\\Status\\SysprepStatus\\CleanupState",
  SYSTEM_SETUP_IN_PROGRESS: "SYSTEM\\Setup\\SystemSetupInProgress",
  SETUP_TYPE: "SYSTEM\\Setup\\SetupType",
  CMD_LINE: "SYSTEM\\Setup\\CmdLine",
  OOBE_IN_PROGRESS: "SYSTEM\\Setup\\OOBEInProgress",
  IMAGE_STATE: "Setup\\State\\State.ini [State] ImageState",
  SUCCEEDED_TAG: "System32\\Sysprep\\Sysprep_succeeded.tag",
  SETUP_ERR_LOG: "System32\\Sysprep\\Panther\\setuperr.log",
} as const;

/** Most setuperr.log lines kept in the report (the last ones). */
export const MAX_SETUP_ERRORS = 100;

const MAX_HIVE_BYTES = 512 << 20;
const MAX_TEXT_BYTES = 64 << 20;
/** GeneralizationState once the generalize pass has completed. */
const GENERALIZED_STATE = 7;

/** What each documented ImageState says (Microsoft, "Windows Setup States"). */
const IMAGE_STATES: Record<string, { generalized: boolean; meaning: string }> = {
  IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE: {
    generalized: true,
    meaning: "the generalize pass completed; the image goes to OOBE at next boot",
  },
  IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT: {
    generalized: true,
    meaning: "the generalize pass completed; the image goes to audit mode at next boot",
  },
  IMAGE_STATE_COMPLETE: {
    generalized: false,
    meaning: "installed and specialized: tied to this hardware, run sysprep /generalize first",
  },
  IMAGE_STATE_UNDEPLOYABLE: {
    generalized: false,
    meaning: "a setup phase did not complete: the image is not deployable",
  },
  IMAGE_STATE_SPECIALIZE_RESEAL_TO_OOBE: {
    generalized: false,
    meaning: "specialized (not generalized); goes to OOBE at next boot",
  },
  IMAGE_STATE_SPECIALIZE_RESEAL_TO_AUDIT: {
    generalized: false,
    meaning: "specialized (not generalized); goes to audit mode at next boot",
  },
};

/**
 * Checks whether the Windows tree in `options.target` (a directory or `WIMFILE[:IMAGE]`) is
 * generalized, gathering the evidence without extracting anything.
 *
 * Missing or corrupt evidence never throws: it is reported as missing or unreadable.
 *
 * @throws {WimkitError} If the target is neither a directory nor a readable WIM file, or names
 *   no image of a WIM holding several (code "usage" or "not-found").
 * @throws {WimFormatError} If the WIM or the image's metadata is invalid.
 *
 * @example Check a directory that is not a Windows tree
 * ```ts
 * import { sysprepCheck } from "./sysprep_check.ts";
 * const report = await sysprepCheck({ target: "tests/fixtures" });
 * console.assert(report.verdict === "not-windows" && report.kind === "directory");
 * ```
 */
export async function sysprepCheck(options: SysprepCheckOptions): Promise<SysprepReport> {
  const target = options.target;
  if (await isDirectoryPath(target)) {
    return await checkTree(new DirectoryTree(target), { target, kind: "directory" });
  }
  const { path, spec } = await splitWimTarget(target);
  await using wim = await Wim.open(path, { refs: options.refs ?? [] });
  let index: number;
  if (spec !== undefined) index = wim.resolveImage(spec);
  else if (wim.imageCount === 1) index = 1;
  else {
    throw new WimkitError(
      `"${path}" holds ${wim.imageCount} images; name one as ${path}:IMAGE`,
      "usage",
      { file: path },
    );
  }
  const image = await wim.readImage(index);
  return await checkTree(new WimTree(wim, image.metadata.root), {
    target,
    kind: "wim",
    image: index,
  });
}

/**
 * Decides the verdict from the evidence of {@linkcode sysprepCheck}.
 *
 * The rules, in order:
 * 1. no `<SystemRoot>/System32/config/SYSTEM` file (readable or not) → "not-windows";
 * 2. ImageState COMPLETE, UNDEPLOYABLE or SPECIALIZE_RESEAL_* → "not-generalized" (whatever
 *    GeneralizationState says: it stays 7 on machines deployed from a generalized image);
 * 3. ImageState GENERALIZE_RESEAL_* and GeneralizationState 7 → "generalized";
 * 4. GeneralizationState found and not 7, with ImageState not GENERALIZE_RESEAL_* → "not-generalized";
 * 5. anything else (conflicting, missing or unreadable evidence) → "inconclusive".
 *
 * The SYSTEM\\Setup values, Sysprep_succeeded.tag and setuperr.log are reported but do not decide.
 *
 * @example
 * ```ts
 * import { decideVerdict } from "./sysprep_check.ts";
 * console.assert(decideVerdict([]) === "not-windows");
 * ```
 */
export function decideVerdict(evidence: readonly SysprepEvidence[]): SysprepVerdict {
  const get = (name: string) => evidence.find((item) => item.name === name);
  const hive = get(SysprepEvidenceName.SYSTEM_HIVE);
  if (!hive || hive.status === "missing") return "not-windows";
  const imageState = get(SysprepEvidenceName.IMAGE_STATE);
  const state = imageState?.status === "found" && typeof imageState.value === "string"
    ? IMAGE_STATES[normalizeState(imageState.value)]
    : undefined;
  if (state && !state.generalized) return "not-generalized";
  const generalization = get(SysprepEvidenceName.GENERALIZATION_STATE);
  const known = generalization?.status === "found" && typeof generalization.value === "number";
  if (state?.generalized && known && generalization.value === GENERALIZED_STATE) {
    return "generalized";
  }
  if (!state && known && generalization.value !== GENERALIZED_STATE) return "not-generalized";
  return "inconclusive";
}

// ---------------------------------------------------------------------------------------------
// Gathering the evidence

async function checkTree(
  tree: Tree,
  head: { target: string; kind: "directory" | "wim"; image?: number },
): Promise<SysprepReport> {
  const found = await findSystemRoot(tree);
  if (!found) {
    const evidence: SysprepEvidence[] = [{
      name: SysprepEvidenceName.SYSTEM_HIVE,
      status: "missing",
      meaning: "no <SystemRoot>/System32/config/SYSTEM: not a Windows system tree",
    }];
    return { ...head, verdict: decideVerdict(evidence), evidence, setupErrors: [] };
  }
  const { systemRoot, systemHive } = found;
  const evidence: SysprepEvidence[] = [...await hiveEvidence(tree, systemHive)];
  const stateIni = await tree.resolve(systemRoot, ["Setup", "State", "State.ini"]);
  evidence.push(await imageStateEvidence(tree, stateIni));
  const sysprep = ["System32", "Sysprep"];
  const tag = await tree.resolve(systemRoot, [...sysprep, "Sysprep_succeeded.tag"]);
  evidence.push(
    tag && !tag.directory
      ? {
        name: SysprepEvidenceName.SUCCEEDED_TAG,
        status: "found",
        value: tag.path,
        meaning: "sysprep completed successfully at least once",
      }
      : {
        name: SysprepEvidenceName.SUCCEEDED_TAG,
        status: "missing",
        meaning: "no record of a successful sysprep run",
      },
  );
  const log = await tree.resolve(systemRoot, [...sysprep, "Panther", "setuperr.log"]);
  const { item, lines } = await setupErrEvidence(tree, log);
  evidence.push(item);
  return {
    ...head,
    verdict: decideVerdict(evidence),
    systemRoot: systemRoot.name,
    evidence,
    setupErrors: lines.slice(-MAX_SETUP_ERRORS),
  };
}

/** The top-level directory with System32/config/SYSTEM, preferring one named "Windows". */
async function findSystemRoot(
  tree: Tree,
): Promise<{ systemRoot: TreeNode; systemHive: TreeNode } | undefined> {
  const candidates = (await tree.children(tree.root)).filter((node) => node.directory)
    .sort((a, b) => rank(a.name) - rank(b.name));
  for (const candidate of candidates) {
    const hive = await tree.resolve(candidate, ["System32", "config", "SYSTEM"]);
    if (hive && !hive.directory) return { systemRoot: candidate, systemHive: hive };
  }
  return undefined;
}

function rank(name: string): number {
  if (name === "Windows") return 0;
  return name.toUpperCase() === "WINDOWS" ? 1 : 2;
}

async function hiveEvidence(tree: Tree, file: TreeNode): Promise<SysprepEvidence[]> {
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

async function imageStateEvidence(
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
  const known = IMAGE_STATES[normalizeState(state)];
  return {
    name,
    status: "found",
    value: state,
    meaning: known?.meaning ?? "not a state Microsoft documents",
  };
}

async function setupErrEvidence(
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

/** Upper case without blanks ("IMAGE_STATE _UNDEPLOYABLE", as Microsoft's page spells it, matches). */
function normalizeState(state: string): string {
  return state.toUpperCase().replace(/\s+/g, "");
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

// ---------------------------------------------------------------------------------------------
// Targets: a directory or an image in a WIM, behind one small tree interface

async function isDirectoryPath(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function isFilePath(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/** `PATH` if it is a file, else `PATH:IMAGE` split at the last colon with PATH a file. */
async function splitWimTarget(target: string): Promise<{ path: string; spec?: string }> {
  if (isUrl(target)) {
    // A URL names no local file to test: an IMAGE suffix is a colon after the last slash.
    const colon = target.lastIndexOf(":");
    return colon > target.lastIndexOf("/") && colon < target.length - 1
      ? { path: target.slice(0, colon), spec: target.slice(colon + 1) }
      : { path: target };
  }
  if (await isFilePath(target)) return { path: target };
  const colon = target.lastIndexOf(":");
  if (colon > 0) {
    const path = target.slice(0, colon);
    const spec = target.slice(colon + 1);
    if (spec !== "" && await isFilePath(path)) return { path, spec };
  }
  throw new WimkitError(
    `"${target}" is neither a directory nor a WIM file (WIMFILE or WIMFILE:IMAGE)`,
    "not-found",
    { file: target },
  );
}

/** A file or directory of the tree being checked. */
interface TreeNode {
  /** Its name as stored. */
  readonly name: string;
  /** "/"-separated path from the tree's root, as stored. */
  readonly path: string;
  readonly directory: boolean;
}

/** Read access to a directory tree or an image. */
abstract class Tree {
  abstract readonly root: TreeNode;
  abstract children(directory: TreeNode): Promise<TreeNode[]>;
  /** Reads a whole file; throws if it is larger than `maxBytes` or cannot be read. */
  abstract read(file: TreeNode, maxBytes: number): Promise<Uint8Array>;

  /**
   * Follows `parts` from `base`, each matched case-insensitively (an exact match tried first);
   * when a case-sensitive host has several matches ("System32" and "system32"), each is tried.
   */
  async resolve(base: TreeNode, parts: readonly string[]): Promise<TreeNode | undefined> {
    const [part, ...rest] = parts;
    if (part === undefined) return base;
    if (!base.directory) return undefined;
    const upper = part.toUpperCase();
    const matches = (await this.children(base))
      .filter((child) => child.name.toUpperCase() === upper)
      .sort((a, b) => Number(b.name === part) - Number(a.name === part));
    for (const match of matches) {
      const found = await this.resolve(match, rest);
      if (found) return found;
    }
    return undefined;
  }
}

class DirectoryTree extends Tree {
  readonly root: TreeNode = { name: "", path: "", directory: true };
  readonly #base: string;

  constructor(base: string) {
    super();
    this.#base = base;
  }

  async children(directory: TreeNode): Promise<TreeNode[]> {
    const out: TreeNode[] = [];
    try {
      for await (const entry of Deno.readDir(this.#host(directory))) {
        const path = directory.path === "" ? entry.name : `${directory.path}/${entry.name}`;
        let isDir = entry.isDirectory;
        if (entry.isSymlink) {
          isDir = await isDirectoryPath(`${this.#base}/${path}`);
        }
        out.push({ name: entry.name, path, directory: isDir });
      }
    } catch {
      // an unreadable directory has no usable children
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async read(file: TreeNode, maxBytes: number): Promise<Uint8Array> {
    const path = this.#host(file);
    const info = await Deno.stat(path);
    if (info.size > maxBytes) {
      throw new Error(`${file.path} is ${info.size} bytes, over ${maxBytes}`);
    }
    return await Deno.readFile(path);
  }

  #host(node: TreeNode): string {
    return node.path === "" ? this.#base : `${this.#base}/${node.path}`;
  }
}

interface WimTreeNode extends TreeNode {
  readonly dentry: DentryNode;
}

class WimTree extends Tree {
  readonly root: WimTreeNode;
  readonly #wim: Wim;

  constructor(wim: Wim, root: DentryNode) {
    super();
    this.#wim = wim;
    this.root = { name: "", path: "", directory: true, dentry: root };
  }

  children(directory: TreeNode): Promise<TreeNode[]> {
    const parent = directory as WimTreeNode;
    return Promise.resolve(parent.dentry.children.map((dentry): WimTreeNode => ({
      name: dentry.name,
      path: parent.path === "" ? dentry.name : `${parent.path}/${dentry.name}`,
      directory: isDirectory(dentry),
      dentry,
    })));
  }

  async read(file: TreeNode, maxBytes: number): Promise<Uint8Array> {
    const hash = dentryStreams((file as WimTreeNode).dentry).data;
    if (!hash) return new Uint8Array(0);
    const blob = this.#wim.blob(hash);
    if (!blob) {
      throw new Error(`the data of ${file.path} is not in the WIM (a split WIM without --ref?)`);
    }
    if (blob.size > maxBytes) {
      throw new Error(`${file.path} is ${blob.size} bytes, over ${maxBytes}`);
    }
    const bytes = await this.#wim.readBlob(blob);
    if (createHash("sha1").update(bytes).digest("hex") !== blob.hashHex) {
      throw new Error(`the data of ${file.path} does not match its SHA-1`);
    }
    return bytes;
  }
}
