/**
 * The wimkit command line: `deno task wimkit <command> ...`.
 *
 * Results go to stdout, progress bars and warnings to stderr; every failure is one line on
 * stderr (`wimkit: error: ...`) and an exit code from ui/errors.ts, with the stack only under
 * `--debug`.
 */

import { Command, CommanderError } from "commander";
import { registerInfo } from "./commands/info.ts";
import { registerDir } from "./commands/dir.ts";
import { registerApply } from "./commands/apply.ts";
import { registerVerify } from "./commands/verify.ts";
import { registerCapture } from "./commands/capture.ts";
import { registerManage } from "./commands/manage.ts";
import { registerRecipes } from "./commands/recipes.ts";
import { ExitCode, exitCodeFor, ExitWith, renderError } from "./ui/errors.ts";
import { registerSysprepCheck } from "./commands/sysprep_check.ts";
import { registerExportZip } from "./commands/export_zip.ts";
import { registerCaptureToShare } from "./commands/capture_to_share.ts";
import { registerMount } from "./commands/mount.ts";
import { registerServe } from "./commands/serve.ts";
import { type Output, processOutput } from "./ui/output.ts";
import denoJson from "../deno.json" with { type: "json" };

/** Builds the program with every command registered. */
export function buildProgram(output: Output): Command {
  const program = new Command("wimkit")
    .description("capture, apply, inspect and verify Windows Imaging (WIM) files")
    .version(denoJson.version, "-V, --version", "print the wimkit version")
    .exitOverride()
    .configureOutput({
      writeOut: (text) => output.out(text.replace(/\n$/, "")),
      writeErr: (text) => output.err(text.replace(/\n$/, "")),
      outputError: (text, write) => write(`wimkit: ${text.replace(/\n$/, "")} (see --help)`),
    })
    .showSuggestionAfterError(true);
  registerInfo(program, output);
  registerDir(program, output);
  registerApply(program, output);
  registerVerify(program, output);
  registerCapture(program, output);
  registerManage(program, output);
  registerRecipes(program, output);
  registerSysprepCheck(program, output);
  registerExportZip(program, output);
  registerCaptureToShare(program, output);
  registerMount(program, output);
  registerServe(program, output);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({
      writeOut: (text) => output.out(text.replace(/\n$/, "")),
      writeErr: (text) => output.err(text.replace(/\n$/, "")),
      outputError: (text, write) => write(`wimkit: ${text.replace(/\n$/, "")} (see --help)`),
    });
  }
  return program;
}

/** Runs the command line with `args`; returns the exit code. */
export async function main(args: string[], output: Output = processOutput): Promise<number> {
  const program = buildProgram(output);
  try {
    await program.parseAsync(args, { from: "user" });
    return ExitCode.OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (error instanceof ExitWith) return error.exitCode;
    output.err(renderError(error, args.includes("--debug")));
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  const controller = new AbortController();
  // `serve` handles Ctrl-C itself: it settles uncommitted changes (tasks/commands/serve_exit.ts).
  if (Deno.args[0] !== "serve") {
    Deno.addSignalListener("SIGINT", () => {
      controller.abort();
      Deno.exit(ExitCode.INTERRUPTED);
    });
  }
  Deno.exit(await main(Deno.args));
}
