/** `--cache=DIR` and `--cache-max=SIZE` for the commands that read file contents. */

import type { Command } from "commander";
import { BlobCache, parseByteSize, WimkitError } from "../../mod.ts";
import { UsageError } from "../ui/errors.ts";

/** The parsed cache options. */
export interface CacheOptions {
  cache?: string;
  cacheMax?: number;
}

/** Adds --cache and --cache-max to `command`. */
export function withCacheOptions(command: Command): Command {
  return command
    .option(
      "--cache <dir>",
      "keep the file data read in DIR (by SHA-1) and take it from there next time; " +
        "several processes may share DIR",
    )
    .option(
      "--cache-max <size>",
      "bound of the --cache directory, least recently used data out: bytes or K, M, G, T " +
        "(powers of 1024; KB, MB, GB: of 1000), e.g. 500M (default 10G)",
      cacheSize,
    );
}

/** Opens the cache named by --cache, if any. */
export async function openCache(options: CacheOptions): Promise<BlobCache | undefined> {
  if (options.cacheMax !== undefined && options.cache === undefined) {
    throw new UsageError("--cache-max needs --cache=DIR");
  }
  if (options.cache === undefined) return undefined;
  return await BlobCache.open(
    options.cache,
    options.cacheMax === undefined ? {} : { maxBytes: options.cacheMax },
  );
}

/** One line on what the cache did, for stderr. */
export function cacheSummary(cache: BlobCache): string {
  const { hits, hitBytes, stored, storedBytes, evicted, errors } = cache.stats;
  return `wimkit: cache "${cache.dir}": ${hits} blob(s) (${mib(hitBytes)}) from the cache, ` +
    `${stored} stored (${mib(storedBytes)})` +
    (evicted ? `, ${evicted} evicted` : "") + (errors ? `, ${errors} could not be stored` : "");
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function cacheSize(value: string): number {
  try {
    return parseByteSize(value);
  } catch (error) {
    if (error instanceof WimkitError) throw new UsageError(`--cache-max: ${error.message}`);
    throw error;
  }
}
