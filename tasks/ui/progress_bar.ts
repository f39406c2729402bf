/**
 * A one-line progress bar on stderr: bytes, percent, rate and ETA (and files when known),
 * redrawn at most 10 times a second, and only when the output is a terminal.
 */

/** Where the bar writes and how it tells time; injected by tests. */
export interface ProgressBarOptions {
  /** Writes text (default: stderr). */
  write?: (text: string) => void;
  /** Milliseconds since some origin (default: performance.now). */
  now?: () => number;
  /** Whether to draw at all (default: stderr is a terminal). */
  enabled?: boolean;
  /** Columns available (default: the terminal's width, else 80). */
  columns?: number;
}

const MIN_REDRAW_MS = 100;
const encoder = new TextEncoder();

/**
 * A throttled progress bar.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress_bar.ts";
 * import assert from "node:assert/strict";
 * const frames: string[] = [];
 * const bar = new ProgressBar("Applying", { write: (t) => frames.push(t), now: () => 0, enabled: true });
 * bar.update(50, 100);
 * bar.finish();
 * assert.ok(frames[0]!.includes("50%"));
 * ```
 */
export class ProgressBar {
  readonly #label: string;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #enabled: boolean;
  readonly #columns: number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #drawn = false;

  constructor(label: string, options: ProgressBarOptions = {}) {
    this.#label = label;
    this.#write = options.write ?? ((text) => Deno.stderr.writeSync(encoder.encode(text)));
    this.#now = options.now ?? (() => performance.now());
    this.#enabled = options.enabled ?? Deno.stderr.isTerminal();
    this.#columns = options.columns ?? terminalColumns();
    this.#start = this.#now();
  }

  /** Records progress; draws if enough time has passed since the last frame. */
  update(done: number, total: number, files?: { done: number; total: number }): void {
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#lastDraw < MIN_REDRAW_MS && done < total) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#write(`\r${this.render(done, total, now - this.#start, files)}\x1b[K`);
  }

  /** Shows free text instead of a bar (e.g. counts while scanning), throttled like update(). */
  status(text: string): void {
    if (!this.#enabled) return;
    const now = this.#now();
    if (now - this.#lastDraw < MIN_REDRAW_MS) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#write(
      `\r${this.#label} ${
        text.slice(0, Math.max(0, this.#columns - this.#label.length - 2))
      }\x1b[K`,
    );
  }

  /** Ends the line if anything was drawn. */
  finish(): void {
    if (this.#enabled && this.#drawn) this.#write("\n");
    this.#drawn = false;
  }

  /** The text of one frame (without control codes). */
  render(
    done: number,
    total: number,
    elapsedMs: number,
    files?: { done: number; total: number },
  ): string {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
    const eta = rate > 0 && total > done ? (total - done) / rate : 0;
    const tail =
      ` ${Math.floor(fraction * 100)}% ${mib(done)}/${mib(total)} MiB ${mib(rate)} MiB/s ETA ${
        clock(eta)
      }` + (files ? ` ${files.done}/${files.total} files` : "");
    const barWidth = Math.max(
      10,
      Math.min(30, this.#columns - this.#label.length - tail.length - 4),
    );
    const filled = Math.round(fraction * barWidth);
    return `${this.#label} [${"#".repeat(filled)}${".".repeat(barWidth - filled)}]${tail}`;
  }
}

function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

function clock(seconds: number): string {
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 80;
  }
}
