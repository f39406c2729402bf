/**
 * Runs `wimkit mount` as a child process for tests (a FUSE server must never serve the process
 * that reads its mount) and guarantees cleanup: the mount is detached and the child ended even
 * when a test fails.
 */

import { isWimkitMount } from "../../lib/fuse/unmount.ts";
import { fuseUnavailableReason } from "../../lib/fuse/session.ts";

/** Why mount tests cannot run here, or null. */
export const fuseSkipReason: string | null = fuseUnavailableReason();

const CLI = new URL("../../tasks/cli.ts", import.meta.url).pathname;

/** A running `wimkit mount`. */
export interface MountProcess extends AsyncDisposable {
  readonly mountpoint: string;
  /** Waits for the process to end; its exit code and stderr. */
  exited(): Promise<{ code: number; stderr: string }>;
}

/** Starts `wimkit mount args...` and waits until `mountpoint` is mounted (20 s at most). */
export async function startMount(mountpoint: string, args: string[]): Promise<MountProcess> {
  const real = await Deno.realPath(mountpoint);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, "mount", ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const output = child.output();
  let result: { code: number; stderr: string } | undefined;
  const exited = output.then((out) => {
    result = { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    return result;
  });
  const deadline = Date.now() + 20_000;
  while (!(await isWimkitMount(real))) {
    if (result) throw new Error(`mount exited with ${result.code}: ${result.stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await new Deno.Command("umount", { args: ["-l", real] }).output();
      throw new Error("mount did not appear within 20 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    mountpoint: real,
    exited: () => exited,
    async [Symbol.asyncDispose]() {
      if (await isWimkitMount(real)) {
        await new Deno.Command("umount", { args: ["-l", real] }).output();
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already ended.
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a command with a timeout (so a hung mount fails the test instead of blocking it). */
export async function runWithTimeout(
  command: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** Runs the wimkit CLI (unmount etc.) with a timeout. */
export async function wimkitWithTimeout(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return await runWithTimeout(Deno.execPath(), ["run", "--allow-all", CLI, ...args], timeoutMs);
}
