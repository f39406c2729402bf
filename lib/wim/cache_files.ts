/**
 * The files of a blob cache directory (see `blob_cache.ts` for the layout and the rules): listing
 * entries, marking them used, removing them, and reading and writing through descriptors. Failures
 * that only mean "another process got there first" are quiet.
 */

import { WimkitError } from "../errors.ts";

/** Age after which a temporary file is a killed writer's left-over. */
export const STALE_TEMP_MS = 60 * 60 * 1000;
/** Name prefix of entries being written. */
export const TEMP_PREFIX = ".tmp-";
/** Piece size for reading and writing large entries. */
export const PIECE_BYTES = 1 << 20;
const SUBDIR_NAME = /^[0-9a-f]{2}$/;
const ENTRY_NAME = /^[0-9a-f]{38}$/;

/** An entry found by a scan. */
export interface ScannedEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Lists the entries (and removes stale temporaries) of a cache directory. */
export function scanEntries(dir: string): ScannedEntry[] {
  const entries: ScannedEntry[] = [];
  const now = Date.now();
  for (const sub of readDirQuietly(dir)) {
    if (!SUBDIR_NAME.test(sub.name) || !sub.isDirectory) continue;
    const subPath = `${dir}/${sub.name}`;
    for (const item of readDirQuietly(subPath)) {
      const isEntry = ENTRY_NAME.test(item.name);
      if (!isEntry && !item.name.startsWith(TEMP_PREFIX)) continue;
      const path = `${subPath}/${item.name}`;
      const info = lstatQuietly(path);
      if (!info?.isFile) continue;
      const mtimeMs = info.mtime?.getTime() ?? 0;
      if (isEntry) entries.push({ path, size: info.size, mtimeMs });
      else if (now - mtimeMs > STALE_TEMP_MS) removeQuietly(path);
    }
  }
  return entries;
}

/** True when `path` is an entry of `size` bytes; sets its mtime to now when it can. */
export function touchEntry(path: string, size: number): boolean {
  if (entrySize(path) !== size) return false;
  try {
    const now = new Date();
    Deno.utimeSync(path, now, now);
    return true;
  } catch (error) {
    // Gone since the lstat (evicted): a miss. Not ours to touch (a read-only cache): still a hit.
    return !(error instanceof Deno.errors.NotFound);
  }
}

/** Size of the regular file at `path`, null when there is none. */
export function entrySize(path: string): number | null {
  const info = lstatQuietly(path);
  return info?.isFile ? info.size : null;
}

function readDirQuietly(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch {
    return [];
  }
}

function lstatQuietly(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/** Removes `path`; a file already gone is fine. */
export function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already gone (another process evicted it), or not ours to remove: either way not an entry.
  }
}

/** Reads `file` from its current position to the end, at most `limit + 1` bytes; returns the count. */
export async function readAll(
  file: Deno.FsFile,
  limit: number,
  onPiece: (piece: Uint8Array) => void,
): Promise<number> {
  const buffer = new Uint8Array(Math.min(PIECE_BYTES, limit + 1));
  let total = 0;
  while (total <= limit) {
    const n = await file.read(buffer);
    if (n === null) break;
    onPiece(buffer.subarray(0, n));
    total += n;
  }
  return total;
}

/** Writes all of `data` to `file`. */
export async function writeFully(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
}

/** Fills `into` from `file`. */
export async function readFull(file: Deno.FsFile, into: Uint8Array): Promise<Uint8Array> {
  let done = 0;
  while (done < into.length) {
    const n = await file.read(into.subarray(done));
    if (n === null) {
      throw new WimkitError("Cannot read a cache entry: it shrank while being read", "io");
    }
    done += n;
  }
  return into;
}
