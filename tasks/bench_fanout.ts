/**
 * The `fanout` section of `deno task bench`: 8 concurrent `wimkit apply` processes reading one
 * WIM from one nginx on loopback, against one local apply of the same WIM; bytes served per
 * client from nginx's access log.
 */

import { startNginx, sumBytesSent } from "../tests/support/nginx.ts";

/** Concurrent clients. */
export const FANOUT_CLIENTS = 8;

const CLI = new URL("./cli.ts", import.meta.url).pathname;

async function wimkitApply(source: string, target: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", CLI, "apply", source, target, "--quiet"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`wimkit apply ${source}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/**
 * Runs the fan-out measurement on `wim` (a file in `workDir`); returns Markdown table rows.
 *
 * @example
 * ```ts ignore
 * const rows = await benchFanout("/tmp/bench/wimlib-lzx.wim", "/tmp/bench/");
 * ```
 */
export async function benchFanout(wim: string, workDir: string): Promise<string[]> {
  const name = wim.slice(wim.lastIndexOf("/") + 1);
  const root = wim.slice(0, wim.lastIndexOf("/"));
  const size = (await Deno.stat(wim)).size;
  const targets = Array.from({ length: FANOUT_CLIENTS }, (_, i) => `${workDir}fanout-${i}`);
  const clean = () =>
    Promise.all(
      [`${workDir}fanout-local`, ...targets].map((t) =>
        Deno.remove(t, { recursive: true }).catch(() => {})
      ),
    );
  await clean();
  let started = performance.now();
  await wimkitApply(wim, `${workDir}fanout-local`);
  const local = (performance.now() - started) / 1000;
  await using server = await startNginx({ root });
  started = performance.now();
  await Promise.all(targets.map((target) => wimkitApply(server.url(name), target)));
  const fanout = (performance.now() - started) / 1000;
  const log = await server.accessLog();
  const sent = sumBytesSent(log);
  await clean();
  const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
  return [
    "",
    `| fan-out (${FANOUT_CLIENTS} concurrent applies from nginx on loopback) | value |`,
    "| --- | --- |",
    `| one local apply | ${local.toFixed(2)} s |`,
    `| ${FANOUT_CLIENTS} applies over HTTP, total wall time | ${fanout.toFixed(2)} s (${
      (fanout / local).toFixed(2)
    }x one local apply) |`,
    `| bytes served per client | ${mib(sent / FANOUT_CLIENTS)} MiB (WIM ${mib(size)} MiB; ${
      (log.length / FANOUT_CLIENTS).toFixed(0)
    } requests each) |`,
  ];
}
