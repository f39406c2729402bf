/** Where commands write: stdout for results, stderr for warnings; injectable for tests. */

const encoder = new TextEncoder();

/** The streams a command writes to. */
export interface Output {
  /** Writes a line of results. */
  out(line: string): void;
  /** Writes a line of diagnostics. */
  err(line: string): void;
}

/** The process's stdout and stderr. */
export const processOutput: Output = {
  out(line) {
    Deno.stdout.writeSync(encoder.encode(line + "\n"));
  },
  err(line) {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  },
};

/** Prints `value` as JSON on one line of stdout. */
export function printJson(output: Output, value: unknown): void {
  output.out(JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v)));
}
