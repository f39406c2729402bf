/**
 * The wizard's answers and the one-line command they stand for: a pure mapping, so the command
 * shown to the engineer is exactly the one that runs, and it is tested without a terminal.
 */

/** Compression choices, with ImageX's names and what they mean. */
export const COMPRESSION_CHOICES = [
  {
    value: "maximum",
    label: "Maximum (LZX)",
    hint: "the default: small WIMs, every Windows version reads them",
  },
  { value: "fast", label: "Fast (XPRESS)", hint: "quickest capture and apply, larger files" },
  {
    value: "recovery",
    label: "Recovery (solid LZMS, .esd)",
    hint: "smallest files, slowest; Windows 8+ and wimlib read them",
  },
  { value: "none", label: "None", hint: "no compression: fastest, largest" },
] as const;

/** What the wizard asked for. */
export type WizardAnswers =
  | {
    job: "capture";
    source: string;
    destination: string;
    name: string;
    compression: (typeof COMPRESSION_CHOICES)[number]["value"];
    check: boolean;
  }
  | { job: "apply"; wim: string; image: number; target: string }
  | {
    job: "append";
    source: string;
    wim: string;
    name: string;
    compression: string;
    convert: boolean;
  }
  | { job: "sysprep-check"; target: string }
  | { job: "info"; wim: string };

/**
 * The CLI arguments (after `deno task wimkit`) for `answers`.
 *
 * @example
 * ```ts
 * import { commandFor } from "./wizard_plan.ts";
 * import assert from "node:assert/strict";
 * const args = commandFor({ job: "info", wim: "install.wim" });
 * assert.ok(args.join(" ") === "info install.wim");
 * ```
 */
export function commandFor(answers: WizardAnswers): string[] {
  switch (answers.job) {
    case "capture":
      return [
        "capture",
        answers.source,
        answers.destination,
        answers.name,
        `--compress=${answers.compression}`,
        ...(answers.check ? ["--check"] : []),
      ];
    case "apply":
      return ["apply", answers.wim, String(answers.image), answers.target];
    case "append":
      return [
        "append-with-compression-check",
        answers.source,
        answers.wim,
        answers.name,
        `--compress=${answers.compression}`,
        ...(answers.convert ? ["--convert"] : []),
      ];
    case "sysprep-check":
      return ["sysprep-check", answers.target];
    case "info":
      return ["info", answers.wim];
  }
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** The one-line command to show, e.g. `deno task wimkit capture src out.wim ...`. */
export function commandLine(answers: WizardAnswers): string {
  return ["deno task wimkit", ...commandFor(answers).map(shellQuote)].join(" ");
}
