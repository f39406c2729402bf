/** Writes one blob cache entry under a temporary name and renames it into place when complete. */

import { createHash, type Hash } from "node:crypto";
import { PIECE_BYTES, removeQuietly, TEMP_PREFIX, writeFully } from "./cache_files.ts";

/**
 * Writes one entry: pieces go to a unique temporary file while their SHA-1 is computed;
 * `commit()` renames it into place only when size and SHA-1 match. Write errors are not thrown:
 * the entry is dropped and the cache's `errors` count grows.
 */
export class CacheEntryWriter {
  readonly #hashHex: string;
  readonly #size: number;
  readonly #final: string;
  readonly #admit: (temp: string) => Promise<boolean>;
  readonly #onError: () => void;
  readonly #hash: Hash = createHash("sha1");
  #file: Deno.FsFile | null = null;
  #temp = "";
  #written = 0;
  /** Small pieces are gathered here so that the file sees writes of about a MiB. */
  #buffer: Uint8Array | null = null;
  #buffered = 0;
  #state: "open" | "failed" | "done" = "open";

  constructor(
    hashHex: string,
    size: number,
    final: string,
    admit: (temp: string) => Promise<boolean>,
    onError: () => void,
  ) {
    this.#hashHex = hashHex;
    this.#size = size;
    this.#final = final;
    this.#admit = admit;
    this.#onError = onError;
  }

  /** Appends `data` (the blob's next bytes). */
  async write(data: Uint8Array): Promise<void> {
    if (this.#state !== "open") return;
    try {
      if (!this.#file) {
        const dir = this.#final.slice(0, this.#final.lastIndexOf("/"));
        await Deno.mkdir(dir, { recursive: true });
        this.#temp = `${dir}/${TEMP_PREFIX}${this.#hashHex.slice(2)}-${Deno.pid}-${
          crypto.randomUUID().slice(0, 8)
        }`;
        this.#file = await Deno.open(this.#temp, { write: true, createNew: true });
      }
      this.#hash.update(data);
      this.#written += data.length;
      this.#buffer ??= new Uint8Array(Math.min(PIECE_BYTES, this.#size));
      if (this.#buffered + data.length > this.#buffer.length) await this.#flush();
      if (data.length >= this.#buffer.length) await writeFully(this.#file, data);
      else {
        this.#buffer.set(data, this.#buffered);
        this.#buffered += data.length;
      }
    } catch {
      await this.#fail();
    }
  }

  async #flush(): Promise<void> {
    if (this.#buffered === 0 || !this.#file || !this.#buffer) return;
    await writeFully(this.#file, this.#buffer.subarray(0, this.#buffered));
    this.#buffered = 0;
  }

  /** Puts the entry in place if it is complete and its SHA-1 matches; true when stored. */
  async commit(): Promise<boolean> {
    if (this.#state !== "open") return false;
    if (!this.#file || this.#written !== this.#size) {
      await this.abort();
      return false;
    }
    try {
      await this.#flush();
    } catch {
      await this.#fail();
      return false;
    }
    this.#file.close();
    this.#file = null;
    if (this.#hash.digest("hex") !== this.#hashHex) {
      await this.abort();
      return false;
    }
    try {
      const stored = await this.#admit(this.#temp);
      this.#state = "done";
      if (!stored) removeQuietly(this.#temp);
      return stored;
    } catch {
      await this.#fail();
      return false;
    }
  }

  /** Drops the entry and its temporary file. */
  abort(): Promise<void> {
    if (this.#state === "open") this.#state = "done";
    this.#file?.close();
    this.#file = null;
    if (this.#temp) removeQuietly(this.#temp);
    return Promise.resolve();
  }

  async #fail(): Promise<void> {
    this.#onError();
    await this.abort();
    this.#state = "failed";
  }
}
