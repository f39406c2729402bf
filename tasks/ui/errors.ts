/** Turns errors into one stderr line and an exit code (style.md §6). */

import { WimkitError } from "../../mod.ts";

/** Exit codes of the command line. */
export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  INVALID_INPUT: 3,
  REFUSED: 4,
  INTERRUPTED: 130,
} as const;

/**
 * Thrown by a command that finished and printed its result but must end with a particular exit
 * code (e.g. sysprep-check's verdicts); the router returns the code and prints nothing more.
 */
export class ExitWith extends Error {
  /** The exit code to return. */
  readonly exitCode: number;

  constructor(exitCode: number, message: string) {
    super(message);
    this.name = "ExitWith";
    this.exitCode = exitCode;
  }
}

/** A usage error found by a command (bad argument combination). */
export class UsageError extends Error {}

/**
 * Maps an error to its exit code.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(exitCodeFor(new Error("x")) === 1);
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return ExitCode.USAGE;
  if (error instanceof WimkitError) {
    switch (error.code) {
      case "format":
      case "integrity":
      case "codec":
        return ExitCode.INVALID_INPUT;
      case "unsafe-path":
      case "compression-mismatch":
      case "refused":
        return ExitCode.REFUSED;
      case "usage":
      case "not-found":
        return ExitCode.USAGE;
      default:
        return ExitCode.FAILED;
    }
  }
  if (error instanceof DOMException && error.name === "AbortError") return ExitCode.INTERRUPTED;
  return ExitCode.FAILED;
}

/** The one line printed for an error; with `debug`, the stack and the chain of causes follow. */
export function renderError(error: unknown, debug: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  let text = `wimkit: error: ${message.split("\n")[0]}`;
  if (error instanceof UsageError) text += " (see --help)";
  if (debug) {
    let current: unknown = error;
    while (current instanceof Error) {
      text += `\n${current.stack ?? current.message}`;
      current = current.cause;
      if (current !== undefined) text += "\nCaused by:";
    }
  }
  return text;
}
