/** `sysprep-check TARGET [--ref <glob>] [--json]`: is a Windows tree generalized and safe to capture? */

import type { Command } from "commander";
import {
  sysprepCheck,
  type SysprepReport,
  type SysprepVerdict,
} from "../../recipes/sysprep_check.ts";
import { type Output, printJson } from "../ui/output.ts";
import { ExitWith } from "../ui/errors.ts";
import { expandRefs } from "../ui/refs.ts";
import { type CommonOptions, withCommonOptions } from "./common.ts";

interface SysprepCheckCommandOptions extends CommonOptions {
  json?: boolean;
}

/** Exit code of `sysprep-check` for each verdict (1, 2 and 3 stay the CLI's error codes). */
export const SYSPREP_EXIT_CODES: Record<SysprepVerdict, number> = {
  "generalized": 0,
  "not-generalized": 10,
  "not-windows": 11,
  "inconclusive": 12,
};

const VERDICT_TEXT: Record<SysprepVerdict, string> = {
  "generalized": "generalized: safe to capture for other machines",
  "not-generalized": "NOT generalized: run sysprep /generalize before capturing",
  "not-windows": "not a Windows tree (no <SystemRoot>/System32/config/SYSTEM)",
  "inconclusive": "inconclusive: the evidence is missing, unreadable or conflicting",
};

/** Registers `sysprep-check`. */
export function registerSysprepCheck(program: Command, output: Output): void {
  withCommonOptions(
    program.command("sysprep-check")
      .description("check that a Windows tree (directory or WIM image) is generalized")
      .argument("<target>", "a directory (offline Windows volume), or WIMFILE[:IMAGE]")
      .option("--json", "print the report as JSON for scripts")
      .addHelpText(
        "after",
        [
          "",
          "Exit codes:",
          "  0   generalized",
          "  10  not generalized",
          "  11  not a Windows tree",
          "  12  inconclusive (evidence missing, unreadable or conflicting)",
          "  1, 2, 3  failed, usage error, invalid input (as the other commands)",
        ].join("\n"),
      ),
  ).action(async (target: string, options: SysprepCheckCommandOptions) => {
    const refs = options.ref ? expandRefs(options.ref) : [];
    const report = await sysprepCheck({ target, refs });
    if (options.json) printJson(output, report);
    else if (!options.quiet) printReport(report, output);
    else output.out(report.verdict);
    const code = SYSPREP_EXIT_CODES[report.verdict];
    if (code !== 0) throw new ExitWith(code, `sysprep-check: ${report.verdict}`);
  });
}

/** The verdict line, then one line per piece of evidence, then the sysprep error lines. */
export function printReport(report: SysprepReport, output: Output): void {
  const where = report.kind === "wim" ? ` (image ${report.image})` : "";
  output.out(`${report.target}${where}: ${VERDICT_TEXT[report.verdict]}`);
  const width = Math.max(...report.evidence.map((item) => item.name.length));
  for (const item of report.evidence) {
    const value = item.value === undefined
      ? ""
      : Array.isArray(item.value)
      ? ` ${JSON.stringify(item.value)}`
      : ` ${typeof item.value === "string" ? JSON.stringify(item.value) : item.value}`;
    const meaning = item.meaning === undefined ? "" : ` (${item.meaning})`;
    output.out(`  ${item.name.padEnd(width)}  ${item.status}${value}${meaning}`);
  }
  if (report.setupErrors.length > 0) {
    output.out("setuperr.log:");
    for (const line of report.setupErrors) output.out(`  ${line}`);
  }
}
