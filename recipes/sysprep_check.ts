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

import { WimkitError } from "../lib/errors.ts";
import { Wim } from "../lib/wim/wim.ts";
import { hiveEvidence, imageStateEvidence, setupErrEvidence } from "./sysprep_evidence.ts";
import {
  DirectoryTree,
  isDirectoryPath,
  splitWimTarget,
  type Tree,
  type TreeNode,
  WimTree,
} from "./sysprep_targets.ts";
import {
  decideVerdict,
  type SysprepEvidence,
  SysprepEvidenceName,
  type SysprepVerdict,
} from "./sysprep_verdict.ts";

export {
  decideVerdict,
  type SysprepEvidence,
  SysprepEvidenceName,
  type SysprepVerdict,
} from "./sysprep_verdict.ts";

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

/** Most setuperr.log lines kept in the report (the last ones). */
export const MAX_SETUP_ERRORS = 100;

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
 * import assert from "node:assert/strict";
 * const report = await sysprepCheck({ target: "tests/fixtures" });
 * assert.ok(report.verdict === "not-windows" && report.kind === "directory");
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

/** Gathers the evidence of `tree` and decides; `head` starts the report. */
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
