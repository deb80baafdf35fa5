import type { OutputChunk } from "./chunks.js";
import type { Redactor } from "./redact.js";

/** What a command needs from the process, injectable so tests can run commands in-process. */
export interface CliIO {
    /** Takes text, and bytes (UTF-8, escaped for output) from the JSON report `check` writes as it checks. */
    stdout: { write: (chunk: OutputChunk) => unknown; isTTY?: boolean };
    stderr: { write(chunk: string): unknown; isTTY?: boolean };
    env: NodeJS.ProcessEnv;
    cwd: string;
    /** Standard input, for `check -`; absent means nothing can be read from it. */
    stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
    /**
     * The process's redactor (redact.ts): secrets seen so far. The dispatcher sets it (with the Pulumi access
     * token registered) and scrubs its own error path with it; `verify` registers credentials as it meets them.
     */
    redactor?: Redactor;
    /**
     * Set by a real process (cli.ts `main`): the command calls it once it knows its overall deadline, and the
     * process ends by then (plus a short grace) whatever is still open. Absent in-process (tests).
     */
    setProcessDeadline?: (ms: number, what: string) => void;
    /**
     * The unescaped stderr (the dispatcher makes `stderr` escape every control character and guard `::` lines):
     * only for the tool's own workflow commands (`::add-mask::`) and its TTY progress line, never for a value.
     */
    rawStderr?: { write(chunk: string): unknown; isTTY?: boolean };
}

/** Exit codes shared by every command. */
export const EXIT = {
    ok: 0,
    /** check: a violation or an undecidable target; verify: verification failed. */
    failed: 1,
    /** Usage or configuration error, unreadable or unparseable input. */
    usage: 2,
    /**
     * verify: could not verify (network, timeout, 401/403, 404, 429, 5xx, an answer that is not the service's);
     * scan: an account could not be read.
     */
    couldNotVerify: 3,
    /**
     * An internal error: an exception the command did not expect (a bug). 70 is EX_SOFTWARE of BSD sysexits.h,
     * distinct from usage (2) and from the verdicts 0, 1 and 3.
     */
    internal: 70,
} as const;

/** Set to 1 to print the stack of an internal error (never printed otherwise). */
export const DEBUG_ENV = "OIDC_GUARD_DEBUG";

/** An error whose message is fit to show a user as is; `exitCode` says how the process ends. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.usage,
    ) {
        super(message);
        this.name = "CliError";
    }
}

export function processIO(): CliIO {
    return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), stdin: process.stdin };
}

/** A stream that says when it has room again (Node's writable streams). */
interface Drainable {
    once(event: "drain" | "error" | "close", listener: () => void): unknown;
    removeListener(event: "drain" | "error" | "close", listener: () => void): unknown;
}

function isDrainable(x: unknown): x is Drainable {
    return typeof (x as Partial<Drainable>).once === "function" && typeof (x as Partial<Drainable>).removeListener === "function";
}

/**
 * Writes long output (a check report of 100,000 roles is about 300 MB of JSON) chunk by chunk, waiting whenever the
 * stream's buffer is full, so at most one chunk and the stream's buffer are held at a time. A stream that fails or
 * closes ends the writing (its error surfaces where the stream reports errors).
 */
export async function writeChunked(out: CliIO["stdout"], chunks: Iterable<OutputChunk>): Promise<void> {
    const gone = (): boolean => (out as { destroyed?: boolean }).destroyed === true;
    for (const chunk of chunks) {
        // A stream that failed (EPIPE: the reader went away) takes nothing more and will never drain.
        if (gone()) return;
        if (out.write(chunk) !== false || !isDrainable(out) || gone()) continue;
        await new Promise<void>((resolve) => {
            const done = (): void => {
                out.removeListener("drain", done);
                out.removeListener("error", done);
                out.removeListener("close", done);
                resolve();
            };
            out.once("drain", done);
            out.once("error", done);
            out.once("close", done);
        });
    }
}
