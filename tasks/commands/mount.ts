/**
 * `mount WIMFILE [IMAGE] MOUNTPOINT [--rw]` and `unmount MOUNTPOINT [--commit|--discard]`.
 *
 * `mount` runs in the foreground and serves the image through FUSE until the mount ends:
 * `wimkit unmount` (which asks it, over its control socket, to commit or discard), `umount` or
 * `fusermount3 -u` by hand (changes are discarded with a warning), or SIGINT/SIGTERM (the mount
 * is detached and changes are discarded with a warning).
 */

import type { Command } from "commander";
import { type ImageMount, mountImageView, openImageView, unmountImage } from "../../mod.ts";
import { ExitCode, ExitWith, UsageError } from "../ui/errors.ts";
import { type Output, printJson } from "../ui/output.ts";
import { type CommonOptions, withCommonOptions } from "./common.ts";

interface MountOptions extends CommonOptions {
  rw?: boolean;
  stagingDir?: string;
}

interface UnmountOptions extends CommonOptions {
  commit?: boolean;
  discard?: boolean;
  newImage?: string;
  json?: boolean;
}

/** Registers `mount` and `unmount`. */
export function registerMount(program: Command, output: Output): void {
  withCommonOptions(
    program.command("mount")
      .description("mount an image on a Linux directory with FUSE (root; runs until unmounted)")
      .argument("<wimfile>", "the WIM")
      .argument("[image]", "image index or name (optional when the WIM has one image)")
      .argument("[mountpoint]", "an existing directory")
      .option("--rw", "allow changes; `wimkit unmount --commit` writes them into the image")
      .option("--staging-dir <dir>", "where changed files wait until commit (default: temp)"),
    false,
  ).action(async (
    file: string,
    image: string | undefined,
    mountpoint: string | undefined,
    options: MountOptions,
  ) => {
    if (mountpoint === undefined) [image, mountpoint] = [undefined, image];
    if (mountpoint === undefined) throw new UsageError("mount needs a MOUNTPOINT");
    await mountAndServe(file, image, mountpoint, options, output);
  });

  withCommonOptions(
    program.command("unmount")
      .description("end a `wimkit mount`, committing (--commit) or discarding (default) changes")
      .argument("<mountpoint>", "the mounted directory")
      .option("--commit", "write the changes into the image (an update)")
      .option("--discard", "drop the changes (the default)")
      .option("--new-image <name>", "with --commit: append the result as a new image instead")
      .option("--json", "print a JSON report"),
    false,
  ).action(async (mountpoint: string, options: UnmountOptions) => {
    if (options.commit && options.discard) {
      throw new UsageError("--commit and --discard exclude each other");
    }
    if (options.newImage !== undefined && !options.commit) {
      throw new UsageError("--new-image needs --commit");
    }
    const report = await unmountImage(mountpoint, {
      action: options.commit ? "commit" : "discard",
      ...(options.newImage !== undefined ? { newImage: options.newImage } : {}),
    });
    if (options.json) return printJson(output, report);
    if (report.stale) {
      output.err(`wimkit: warning: the mount process of "${mountpoint}" was gone; detached it`);
    }
    if (report.action === "commit" && report.changed) {
      output.out(
        `Committed the changes to image ${report.image} (${report.newBytes} bytes of new content)`,
      );
    } else if (report.action === "commit") output.out("Unmounted; there were no changes");
    else output.out(report.changed ? "Unmounted; changes discarded" : "Unmounted");
  });
}

async function mountAndServe(
  file: string,
  image: string | undefined,
  mountpoint: string,
  options: MountOptions,
  output: Output,
): Promise<void> {
  // Our own parent for the staging area, so an exit on Ctrl-C can remove it synchronously.
  const stagingDir = options.rw
    ? await Deno.makeTempDir({
      prefix: "wimkit-staging-",
      ...(options.stagingDir ? { dir: options.stagingDir } : {}),
    })
    : undefined;
  await using _stagingCleanup = {
    async [Symbol.asyncDispose]() {
      if (stagingDir) await Deno.remove(stagingDir, { recursive: true }).catch(() => {});
    },
  };
  await using view = await openImageView(file, image ?? 1, {
    writable: options.rw ?? false,
    ...(stagingDir ? { stagingDir } : {}),
    // Absolute links captured with fix-ups point into the mount, as apply points them into its
    // target.
    linkRoot: await Deno.realPath(mountpoint).catch(() => mountpoint),
  });
  const mount = await mountImageView(view, mountpoint, {
    wimPath: file,
    source: `wimkit:${file}`,
    onError: (error) => {
      if (!options.quiet) output.err(`wimkit: warning: ${describe(error)}`);
    },
  });
  const stopOnSignal = () => void mount.stop();
  const onExit = () => detachOnExit(mount, view.dirty, stagingDir, output);
  Deno.addSignalListener("SIGTERM", stopOnSignal);
  globalThis.addEventListener("unload", onExit);
  if (!options.quiet) {
    output.err(
      `Mounted "${file}" on "${mount.mountpoint}" (${options.rw ? "read-write" : "read-only"}); ` +
        `end with: wimkit unmount ${mount.mountpoint}${options.rw ? " [--commit]" : ""}`,
    );
  }
  try {
    const outcome = await mount.finished;
    if (outcome.discardedChanges && outcome.how !== "discard") {
      output.err("wimkit: warning: the image was unmounted without --commit; changes discarded");
    }
    if (outcome.error !== undefined) {
      output.err(`wimkit: error: ${describe(outcome.error)}`);
      throw new ExitWith(ExitCode.FAILED, describe(outcome.error));
    }
    if (outcome.how === "stopped") throw new ExitWith(ExitCode.INTERRUPTED, "interrupted");
  } finally {
    Deno.removeSignalListener("SIGTERM", stopOnSignal);
    globalThis.removeEventListener("unload", onExit);
  }
}

/** On Deno.exit (e.g. Ctrl-C through the router's SIGINT handler): never leave a dead mount. */
function detachOnExit(
  mount: ImageMount,
  dirty: boolean,
  stagingDir: string | undefined,
  output: Output,
): void {
  mount.detachNow();
  for (const path of [stagingDir, mount.controlPath]) {
    if (!path) continue;
    try {
      Deno.removeSync(path, { recursive: true });
    } catch {
      // Already gone.
    }
  }
  if (dirty) output.err("wimkit: warning: interrupted; the mount's changes were discarded");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
