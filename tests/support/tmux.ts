/**
 * A program in a real terminal for tests: a detached tmux session whose screen the test reads
 * (capture-pane) and types into (send-keys). Needs `hasTmux` (tools.ts).
 */

function tmux(...args: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
}

/** A running tmux session; disposing it kills the session. */
export interface TerminalSession extends AsyncDisposable {
  /** The screen and up to 200 lines of scroll-back. */
  screen(): Promise<string>;
  /** Waits (30 s at most) until the screen shows `pattern`; returns the screen or the match. */
  waitFor(pattern: string): Promise<string>;
  waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Sends keys ("Enter", "C-c", ...) or, with `literal`, text as typed. */
  send(keys: string[], options?: { literal?: boolean }): Promise<void>;
}

/**
 * Starts `shellCommand` in a new detached tmux session of 160 x `rows` characters.
 *
 * @example
 * ```ts ignore
 * await using term = await startInTerminal("wimkit-test", "echo hello; sleep 5");
 * await term.waitFor("hello");
 * ```
 */
export async function startInTerminal(
  name: string,
  shellCommand: string,
  rows = 50,
): Promise<TerminalSession> {
  const session = `${name}-${Date.now()}`;
  await tmux("new-session", "-d", "-s", session, "-x", "160", "-y", String(rows), shellCommand);
  const screen = async () =>
    new TextDecoder().decode(
      (await tmux("capture-pane", "-p", "-t", session, "-S", "-200")).stdout,
    );
  async function waitFor(pattern: string): Promise<string>;
  async function waitFor(pattern: RegExp): Promise<RegExpMatchArray>;
  async function waitFor(pattern: string | RegExp): Promise<string | RegExpMatchArray> {
    const deadline = Date.now() + 30_000;
    let content = "";
    while (Date.now() < deadline) {
      content = await screen();
      if (typeof pattern === "string") {
        if (content.includes(pattern)) return content;
      } else {
        const match = content.match(pattern);
        if (match) return match;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${String(pattern)}; screen:\n${content}`);
  }
  return {
    screen,
    waitFor,
    async send(keys, options = {}) {
      for (const key of keys) {
        await tmux("send-keys", "-t", session, ...(options.literal ? ["-l", key] : [key]));
      }
    },
    async [Symbol.asyncDispose]() {
      await tmux("kill-session", "-t", session);
    },
  };
}
