/**
 * The verdict of sysprep-check: the evidence names, what each documented ImageState says, and the
 * rules that turn the evidence into a verdict ({@linkcode decideVerdict}).
 */

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

/** GeneralizationState once the generalize pass has completed. */
export const GENERALIZED_STATE = 7;

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
 * What a `[State] ImageState` value says, or undefined for a state Microsoft does not document.
 *
 * @example
 * ```ts
 * import { imageStateInfo } from "./sysprep_verdict.ts";
 * import assert from "node:assert/strict";
 * assert.ok(imageStateInfo("IMAGE_STATE_COMPLETE")?.generalized === false);
 * ```
 */
export function imageStateInfo(
  state: string,
): { readonly generalized: boolean; readonly meaning: string } | undefined {
  return IMAGE_STATES[normalizeState(state)];
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
 * import { decideVerdict } from "./sysprep_verdict.ts";
 * import assert from "node:assert/strict";
 * assert.ok(decideVerdict([]) === "not-windows");
 * ```
 */
export function decideVerdict(evidence: readonly SysprepEvidence[]): SysprepVerdict {
  const get = (name: string) => evidence.find((item) => item.name === name);
  const hive = get(SysprepEvidenceName.SYSTEM_HIVE);
  if (!hive || hive.status === "missing") return "not-windows";
  const imageState = get(SysprepEvidenceName.IMAGE_STATE);
  const state = imageState?.status === "found" && typeof imageState.value === "string"
    ? imageStateInfo(imageState.value)
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

/** Upper case without blanks ("IMAGE_STATE _UNDEPLOYABLE", as Microsoft's page spells it, matches). */
function normalizeState(state: string): string {
  return state.toUpperCase().replace(/\s+/g, "");
}
