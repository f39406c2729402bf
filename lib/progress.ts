/** Progress events and warnings: plain data that only the face turns into bars and lines. */

/** What a warning is about; one event per kind, with a count. */
export type WarningCode =
  | "unsafe-name"
  | "dropped-name"
  | "named-streams"
  | "security-descriptors"
  | "special-file"
  | "unsupported-reparse"
  | "encrypted-file"
  | "ownership"
  | "low-precision-times"
  | "write-in-progress"
  | "unreadable";

/** A progress event of a long operation. */
export type ProgressEvent =
  | { type: "scan"; files: number; directories: number; bytes: number; path: string }
  | { type: "write-blobs"; doneBytes: number; totalBytes: number; workers: number }
  | {
    type: "apply-blobs";
    doneBytes: number;
    totalBytes: number;
    doneFiles: number;
    totalFiles: number;
  }
  | { type: "verify"; doneBytes: number; totalBytes: number }
  | { type: "warning"; code: WarningCode; count: number; message: string };

/** Options every long operation takes. */
export interface OperationOptions {
  /** Called synchronously at natural boundaries; an exception it throws fails the operation. */
  onProgress?: (event: ProgressEvent) => void;
  /** Cancels the operation. */
  signal?: AbortSignal;
}

/** A warning as it appears in reports. */
export interface Warning {
  /** What kind. */
  readonly code: WarningCode;
  /** How many items it concerns. */
  readonly count: number;
  /** One line for people, e.g. "Ignoring named data streams of 12 files". */
  readonly message: string;
}

/**
 * Counts warnings by kind and turns them into one event each.
 *
 * @example
 * ```ts
 * import { WarningTally } from "./progress.ts";
 * import assert from "node:assert/strict";
 * const tally = new WarningTally();
 * tally.add("named-streams", "/a.txt");
 * tally.add("named-streams", "/b.txt");
 * assert.ok(tally.warnings((n) => `${n} files`)[0]?.count === 2);
 * ```
 */
export class WarningTally {
  readonly #counts = new Map<WarningCode, { count: number; example: string }>();

  /** Counts one occurrence; `example` names the first item for the message. */
  add(code: WarningCode, example: string): void {
    const entry = this.#counts.get(code);
    if (entry) entry.count++;
    else this.#counts.set(code, { count: 1, example });
  }

  /** The tallied warnings, each with a message built by `describe(count, code, example)`. */
  warnings(describe: (count: number, code: WarningCode, example: string) => string): Warning[] {
    return [...this.#counts].map(([code, { count, example }]) => ({
      code,
      count,
      message: describe(count, code, example),
    }));
  }
}
