/**
 * `serve WIMFILE [IMAGE]`: serve an image (or every image, read-only) over WebDAV until Ctrl-C;
 * with --rw, changes are staged and committed on request or on exit (see serve_exit.ts).
 */

import type { Command } from "commander";
import {
  type ChunkPool,
  combineImageViews,
  imageFolderNames,
  type ImageView,
  openImageView,
  serveDav,
  Wim,
} from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, withCommonOptions, workerPool } from "./common.ts";
import { finishServing, waitForStopSignal } from "./serve_exit.ts";
import { expandRefs } from "../ui/refs.ts";

/** Flags of `serve`. */
export interface ServeFlags extends CommonOptions {
  port: number;
  host: string;
  rw?: boolean;
  user?: string;
  password?: string;
  commitOnExit?: boolean;
  discard?: boolean;
  newImage?: string;
  json?: boolean;
}

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--port "${value}" is not a port number (0 picks a free one)`);
  }
  return port;
}

/** True for addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === "::1" || host === "localhost";
}

/** Registers `serve`. */
export function registerServe(program: Command, output: Output): void {
  const command = program.command("serve")
    .description(
      "serve an image over WebDAV (read-only, or with --rw staged changes committed on request " +
        "or on exit); POST /.wimkit/commit or /.wimkit/discard to commit or drop changes",
    )
    .argument("<wimfile>", "the WIM")
    .argument("[image]", 'image index or name; "all" serves every image as a folder (read-only)')
    .option("--port <n>", "TCP port (0 picks a free one)", portNumber, 8080)
    .option(
      "--host <address>",
      "address to bind; other than loopback needs --user/--password",
      "127.0.0.1",
    )
    .option("--rw", "allow changes (PUT, MKCOL, DELETE, COPY, MOVE, PROPPATCH, LOCK)")
    .option("--user <name>", "require HTTP Basic authentication with this user")
    .option(
      "--password <password>",
      "the password for --user (or WIMKIT_PASSWORD in the environment, which the process list does not show)",
    )
    .option("--commit-on-exit", "commit changes on Ctrl-C without asking")
    .option("--discard", "drop uncommitted changes on Ctrl-C without asking")
    .option("--new-image <name>", "commit on exit as a new appended image NAME")
    .option("--json", "print {url, ...} as JSON once listening");
  withCommonOptions(command).action(
    async (file: string, image: string | undefined, flags: ServeFlags) => {
      await serve(file, image, flags, output);
    },
  );
}

function checkFlags(image: string | undefined, flags: ServeFlags): void {
  if (flags.user !== undefined && flags.password === undefined) {
    const fromEnvironment = Deno.env.get("WIMKIT_PASSWORD");
    if (fromEnvironment) flags.password = fromEnvironment;
  }
  if ((flags.user === undefined) !== (flags.password === undefined)) {
    throw new UsageError("--user and --password go together");
  }
  if (!isLoopback(flags.host) && flags.user === undefined) {
    throw new UsageError(
      `binding to ${flags.host} exposes the image to the network: give --user and --password`,
    );
  }
  if (flags.discard && (flags.commitOnExit || flags.newImage !== undefined)) {
    throw new UsageError("--discard cannot go with --commit-on-exit or --new-image");
  }
  const exitFlags = flags.commitOnExit || flags.discard || flags.newImage !== undefined;
  if (exitFlags && !flags.rw) {
    throw new UsageError("--commit-on-exit, --discard and --new-image need --rw");
  }
  if (image === "all" && flags.rw) {
    throw new UsageError('"all" images are served read-only: drop --rw');
  }
  if (flags.ref?.length && flags.rw) {
    throw new UsageError("a split WIM is served read-only: drop --rw (or join the parts first)");
  }
}

async function openViews(
  file: string,
  image: string | undefined,
  flags: ServeFlags,
  pool: ChunkPool,
): Promise<{ view: ImageView; label: string }> {
  const refs = flags.ref?.length ? expandRefs(flags.ref) : [];
  let names: string[];
  {
    await using wim = await Wim.open(file, { pool, refs });
    names = wim.images().map((info) => info.name);
    if (image !== "all") {
      const index = image === undefined
        ? names.length === 1 ? 1 : undefined
        : wim.resolveImage(image);
      if (index === undefined) {
        throw new UsageError(
          `"${file}" holds ${names.length} images; name one by index or name, or "all"`,
        );
      }
      const view = await openImageView(file, index, { writable: flags.rw === true, pool, refs });
      return { view, label: `image ${index}` };
    }
  }
  const folders = imageFolderNames(names);
  const views = [];
  try {
    for (let i = 0; i < names.length; i++) {
      views.push({ name: folders[i]!, view: await openImageView(file, i + 1, { pool, refs }) });
    }
  } catch (error) {
    for (const { view } of views) await view[Symbol.asyncDispose]();
    throw error;
  }
  return { view: combineImageViews(views), label: `${names.length} images` };
}

async function serve(
  file: string,
  image: string | undefined,
  flags: ServeFlags,
  output: Output,
): Promise<void> {
  checkFlags(image, flags);
  using pool = workerPool();
  const { view, label } = await openViews(file, image, flags, pool);
  await using _view = view;
  const stop = waitForStopSignal();
  const server = await serveDav(view, {
    hostname: flags.host,
    port: flags.port,
    writable: flags.rw === true,
    ...(flags.user !== undefined
      ? { credentials: { user: flags.user, password: flags.password! } }
      : {}),
    onError: (error) => {
      if (flags.debug) {
        output.err(`wimkit: request failed: ${error instanceof Error ? error.stack : error}`);
      }
    },
  });
  if (!isLoopback(flags.host)) {
    output.err(
      "wimkit: warning: HTTP Basic authentication sends the password in clear text; " +
        "use it only over a connection you secure (VPN, SSH tunnel, TLS proxy)",
    );
  }
  const mode = flags.rw ? "read-write" : "read-only";
  if (flags.json) {
    printJson(output, {
      url: server.url,
      port: server.port,
      host: flags.host,
      wim: file,
      image: image ?? null,
      writable: flags.rw === true,
    });
  } else {
    output.out(`Serving "${file}" ${label} (${mode}) at ${server.url}`);
    if (!flags.quiet) output.err("wimkit: press Ctrl-C to stop");
  }
  await stop.signal;
  await finishServing(server, flags, output);
  stop.dispose();
}
