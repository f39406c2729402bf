/**
 * `deno task wizard`: a prompted walk-through of capture, apply, append (with the compression
 * rule explained), sysprep-check and info. It ends by showing the one-line command that does the
 * same, then runs it. Without a terminal on stdin it exits at once, naming the commands to use.
 */

import * as prompt from "@clack/prompts";
import { Wim } from "../mod.ts";
import { main } from "./cli.ts";
import { commandFor, commandLine, COMPRESSION_CHOICES, type WizardAnswers } from "./wizard_plan.ts";
import { processOutput } from "./ui/output.ts";

/** Thrown when the user cancels a prompt (Ctrl-C or Escape). */
class Cancelled extends Error {}

function answer<T>(value: T | symbol): Exclude<T, symbol> {
  if (prompt.isCancel(value)) throw new Cancelled();
  return value as Exclude<T, symbol>;
}

async function ask(
  message: string,
  initialValue = "",
  validate?: (v: string) => string | undefined,
) {
  return answer(
    await prompt.text({
      message,
      initialValue,
      validate: (value) => (value?.trim() ? validate?.(value.trim()) : "Please enter a value"),
    }),
  ).trim();
}

async function existing(path: string, kind: "file" | "directory"): Promise<string | undefined> {
  const info = await Deno.stat(path).catch(() => null);
  if (!info) return `"${path}" does not exist`;
  if (kind === "file" && !info.isFile) return `"${path}" is not a file`;
  if (kind === "directory" && !info.isDirectory) return `"${path}" is not a directory`;
  return undefined;
}

/** Asks questions until it knows the job; returns the answers. */
async function interview(): Promise<WizardAnswers> {
  const job = answer(
    await prompt.select({
      message: "What do you want to do?",
      options: [
        { value: "capture", label: "Capture a directory into a new WIM" },
        { value: "apply", label: "Apply an image to a directory" },
        { value: "append", label: "Append a directory to an existing WIM" },
        { value: "sysprep-check", label: "Check that a Windows tree is generalized (sysprep)" },
        { value: "info", label: "Show what a WIM holds" },
      ],
    }),
  ) as WizardAnswers["job"];
  switch (job) {
    case "capture": {
      const source = await ask("Directory to capture", "", () => undefined);
      const destination = await ask("WIM file to create", "image.wim");
      const name = await ask("Image name", source.replace(/\/+$/, "").split("/").pop() || "image");
      const compression = answer(
        await prompt.select({
          message: "Compression",
          options: [...COMPRESSION_CHOICES],
          initialValue: "maximum",
        }),
      ) as (typeof COMPRESSION_CHOICES)[number]["value"];
      const check = answer(
        await prompt.confirm({
          message: "Add an integrity table (lets verify detect corruption)?",
        }),
      );
      return { job, source, destination, name, compression, check };
    }
    case "apply": {
      const wimPath = await ask("WIM file", "", () => undefined);
      const problem = await existing(wimPath, "file");
      if (problem) throw new Error(problem);
      await using wim = await Wim.open(wimPath);
      const image = answer(
        await prompt.select({
          message: "Image to apply",
          options: wim.images().map((i) => ({
            value: i.index,
            label: `${i.index}: ${i.name || "(no name)"}`,
            hint: `${(i.totalBytes / 1048576).toFixed(1)} MiB, ${i.fileCount} files`,
          })),
        }),
      ) as number;
      const target = await ask("Directory to apply to", "");
      return { job, wim: wimPath, image, target };
    }
    case "append": {
      const source = await ask("Directory to capture", "");
      const wimPath = await ask("Existing WIM file", "");
      const problem = await existing(wimPath, "file");
      if (problem) throw new Error(problem);
      await using wim = await Wim.open(wimPath);
      prompt.note(
        `"${wimPath}" is ${wim.compression.toUpperCase()}-compressed. A WIM holds one compression type, so the new image is ${wim.compression.toUpperCase()} too, unless you convert: then the existing images are exported into a new WIM of the new type and the original is left untouched.`,
        "Compression rule",
      );
      const name = await ask("Image name", source.replace(/\/+$/, "").split("/").pop() || "image");
      const compression = answer(
        await prompt.select({
          message: "Compression of the new image",
          initialValue: wim.compression,
          options: ["none", "xpress", "lzx", "lzms"].map((c) => ({
            value: c,
            label: c === wim.compression ? `${c} (the WIM's)` : `${c} (converts into a new WIM)`,
          })),
        }),
      ) as string;
      return {
        job,
        source,
        wim: wimPath,
        name,
        compression,
        convert: compression !== wim.compression,
      };
    }
    case "sysprep-check":
      return { job, target: await ask("Windows directory, or WIMFILE[:IMAGE]", "") };
    case "info":
      return { job, wim: await ask("WIM file", "") };
  }
}

/** Runs the wizard; returns the exit code. */
export async function wizard(): Promise<number> {
  if (!Deno.stdin.isTerminal()) {
    processOutput.err(
      "wimkit: error: the wizard needs a terminal; use the commands with flags instead (deno task wimkit --help, e.g. deno task capture SOURCE WIMFILE)",
    );
    return 2;
  }
  prompt.intro("wimkit wizard");
  let answers: WizardAnswers;
  try {
    answers = await interview();
  } catch (error) {
    if (error instanceof Cancelled) {
      prompt.cancel("Cancelled; nothing was done");
      return 130;
    }
    prompt.log.error(error instanceof Error ? error.message : String(error));
    return 2;
  }
  prompt.note(commandLine(answers), "The same as a command");
  const code = await main(commandFor(answers));
  prompt.outro(code === 0 ? "Done" : `Failed (exit code ${code})`);
  return code;
}

if (import.meta.main) Deno.exit(await wizard());
