/**
 * The oracle: runs `wimlib-imagex` (Debian's wimtools). Tests that need it use
 * `Deno.test({ ignore: !hasWimlib })`, so a machine without it reports them as ignored.
 */

export { has7zz, hasWimlib } from "./tools.ts";

/** Runs wimlib-imagex with `args`; throws with its stderr when it fails. */
export async function wimlib(...args: string[]): Promise<string> {
  return await run("wimlib-imagex", args);
}

/** Runs a command; throws with its stderr when it fails; returns stdout. */
export async function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  const result = await new Deno.Command(command, {
    args,
    stdout: "piped",
    stderr: "piped",
    ...(env ? { env } : {}),
  })
    .output();
  const decoder = new TextDecoder();
  if (!result.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (${result.code}): ${decoder.decode(result.stderr)}`,
    );
  }
  return decoder.decode(result.stdout);
}

/** Result of running the wimkit CLI in a child process. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run ... tasks/cli.ts args` as a real process (as a user would). `stdin` is written
 * while the output is read (a child that stops reading early just closes the pipe); `env` adds
 * variables to the inherited environment (NO_COLOR=1 is always set).
 */
export async function wimkitCli(
  args: string[],
  options: { stdin?: Uint8Array; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../../tasks/cli.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: options.stdin ? "piped" : "null",
    env: { ...options.env, NO_COLOR: "1" },
  }).spawn();
  const output = child.output();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    // The child may exit without reading everything (an error, or a command that stops early).
    await writer.write(options.stdin).catch(() => {});
    await writer.close().catch(() => {});
  }
  const result = await output;
  const decoder = new TextDecoder();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** A temporary directory removed when disposed. */
export async function tempDir(
  prefix = "wimkit-test-",
): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}
