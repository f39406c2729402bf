/**
 * Splits a WIM into a .swm set (wim-format.md §12): part 1 holds every metadata resource and the
 * first file blobs, later parts the rest; no blob is cut, so a part may exceed the limit by one
 * blob larger than it. Resources are copied byte for byte. Every part repeats the XML and has its
 * own blob table (and integrity table when the source had one); boot index 0 in every part, as
 * wimlib writes. Parts are written under temporary names and renamed when all are complete.
 */

import { WimkitError } from "../errors.ts";
import { HeaderFlag, ResourceFlag, WIM_HEADER_SIZE } from "../format/constants.ts";
import { type BlobTableEntry, parseBlobTable } from "../format/blob_table.ts";
import { serializeHeader } from "../format/header.ts";
import { EMPTY_RESOURCE } from "../format/resource_header.ts";
import { FileSink } from "../io/file_sink.ts";
import { openFileSource } from "../io/file_source.ts";
import { writeTables } from "./tables_writer.ts";
import { Wim } from "./wim.ts";

const PIECE_BYTES = 1 << 20;

/** The name of part `n` of a set whose first part is `first` ("a.swm" → "a2.swm"). */
export function partName(first: string, n: number): string {
  if (n === 1) return first;
  const slash = first.lastIndexOf("/");
  const dot = first.lastIndexOf(".");
  return dot > slash ? `${first.slice(0, dot)}${n}${first.slice(dot)}` : `${first}${n}`;
}

/**
 * Splits the WIM at `source` into parts of at most `partBytes` each, named after `first`.
 *
 * @returns the part paths.
 * @throws {WimkitError} If the WIM has solid resources (they cannot be split) or is split already.
 *
 * @example
 * ```ts ignore
 * const parts = await splitWim("install.wim", "install.swm", 3800 * 1048576);
 * ```
 */
export async function splitWim(
  source: string,
  first: string,
  partBytes: number,
): Promise<string[]> {
  await using wim = await Wim.open(source);
  if (wim.header.totalParts > 1) {
    throw new WimkitError(`Cannot split "${source}": it is split already`, "usage", {
      file: source,
    });
  }
  const entries = parseBlobTable(await wim.readBlobTableBytes());
  if (entries.some((e) => e.resource.flags & ResourceFlag.SOLID)) {
    throw new WimkitError(
      `Cannot split "${source}": it has solid resources (export it without --solid first)`,
      "usage",
      {
        file: source,
      },
    );
  }
  const metadata = entries.filter((e) =>
    e.resource.flags & ResourceFlag.METADATA && e.refCount > 0
  );
  const files = entries.filter((e) =>
    !(e.resource.flags & ResourceFlag.METADATA) && e.resource.originalSize > 0
  )
    .sort((a, b) => a.resource.offset - b.resource.offset);
  // Plan the parts: metadata first, then blobs in file order.
  const plans: BlobTableEntry[][] = [[...metadata]];
  let used = metadata.reduce((n, e) => n + e.resource.sizeInWim, WIM_HEADER_SIZE);
  for (const entry of files) {
    if (used + entry.resource.sizeInWim > partBytes && plans.at(-1)!.length > 0) {
      plans.push([]);
      used = WIM_HEADER_SIZE;
    }
    plans.at(-1)!.push(entry);
    used += entry.resource.sizeInWim;
  }
  const xmlBytes = wim.xml.serialize();
  const reader = openFileSource(source);
  const temps: string[] = [];
  try {
    for (const [i, plan] of plans.entries()) {
      const temp = `${partName(first, i + 1)}.wimkit-${crypto.randomUUID().slice(0, 8)}.tmp`;
      temps.push(temp);
      using sink = FileSink.create(temp);
      let pos = WIM_HEADER_SIZE;
      const table: BlobTableEntry[] = [];
      for (const entry of plan) {
        const resource = entry.resource;
        for (let done = 0; done < resource.sizeInWim; done += PIECE_BYTES) {
          const length = Math.min(PIECE_BYTES, resource.sizeInWim - done);
          sink.write(pos + done, await reader.read(resource.offset + done, length));
        }
        table.push({ ...entry, partNumber: i + 1, resource: { ...resource, offset: pos } });
        pos += resource.sizeInWim;
      }
      const tables = writeTables(
        sink,
        pos,
        table,
        () => xmlBytes,
        wim.header.integrity.sizeInWim > 0,
      );
      sink.write(
        0,
        serializeHeader({
          ...wim.header,
          flags: (wim.header.flags | HeaderFlag.SPANNED) & ~HeaderFlag.WRITE_IN_PROGRESS,
          partNumber: i + 1,
          totalParts: plans.length,
          blobTable: tables.blobTable,
          xml: tables.xml,
          bootIndex: 0,
          bootMetadata: EMPTY_RESOURCE,
          integrity: tables.integrity,
        }),
      );
      sink.sync();
    }
    const parts = temps.map((_, i) => partName(first, i + 1));
    for (const [i, temp] of temps.entries()) await Deno.rename(temp, parts[i]!);
    return parts;
  } catch (error) {
    for (const temp of temps) await Deno.remove(temp).catch(() => {});
    throw error;
  } finally {
    reader.close();
  }
}
