/**
 * The exit path of `serve`: wait for Ctrl-C (or SIGTERM), stop the server, then commit, discard or
 * ask about uncommitted changes (the prompt only when stdin is a terminal).
 */

import type { DavServer } from "../../mod.ts";
import type { Output } from "../ui/output.ts";

/** How long shutdown waits for requests in progress before it goes on without them. */
const SHUTDOWN_GRACE_MS = 5_000;

/** What decides the fate of uncommitted changes. */
export interface ExitFlags {
  commitOnExit?: boolean;
  discard?: boolean;
  newImage?: string;
}

/** Resolves with the signal's name at the first SIGINT or SIGTERM. */
export function waitForStopSignal(): { signal: Promise<Deno.Signal>; dispose(): void } {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const listeners = signals.map((name) => {
    const listener = () => resolve(name);
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  return {
    signal: promise,
    dispose() {
      for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
    },
  };
}

/** Asks `question` on stderr and reads one line from stdin; true for y/yes. */
async function confirm(question: string, output: Output): Promise<boolean> {
  output.err(question);
  const buffer = new Uint8Array(256);
  const n = await Deno.stdin.read(buffer);
  if (n === null) return false;
  return /^\s*y(es)?\s*$/i.test(new TextDecoder().decode(buffer.subarray(0, n)));
}

/** Decides whether to commit: the flags, else the prompt, else (no terminal) discard. */
async function shouldCommit(changes: number, flags: ExitFlags, output: Output): Promise<boolean> {
  if (flags.discard) return false;
  if (flags.commitOnExit || flags.newImage !== undefined) return true;
  if (Deno.stdin.isTerminal()) {
    const what = `${changes} change${changes === 1 ? "" : "s"}`;
    return await confirm(`commit ${what} to WIM? [y/N]`, output);
  }
  output.err(
    `wimkit: warning: discarding ${changes} uncommitted change(s): stdin is not a terminal ` +
      "(use --commit-on-exit to keep them)",
  );
  return false;
}

/** Stops `server` and settles its uncommitted changes as the flags or the user decide. */
export async function finishServing(
  server: DavServer,
  flags: ExitFlags,
  output: Output,
): Promise<void> {
  const stopped = server.shutdown();
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    stopped,
    new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)),
  ]);
  clearTimeout(timer);
  const service = server.service;
  const changes = service.changes;
  if (!service.writable || changes === 0) {
    output.err("wimkit: stopped; no uncommitted changes");
    return;
  }
  if (await shouldCommit(changes, flags, output)) {
    const report = await service.commit(
      flags.newImage === undefined ? {} : { newImage: flags.newImage },
    );
    output.err(
      `wimkit: committed ${report.changes} change(s) as image ${report.image} (${report.newBytes} new bytes)`,
    );
  } else {
    await service.discard();
    output.err(`wimkit: discarded ${changes} change(s)`);
  }
}
