/**
 * Keeping credentials out of output. The verifier never formats a secret into a message; this module is the second
 * line: a registry of the secret values seen in this process and a writer that replaces any of them before a byte
 * reaches stdout or stderr.
 */

/** What replaces a secret that somehow reached an output stream. */
export const REDACTED = "[REDACTED]";

/**
 * Shortens an AWS access key id for display: its 4-letter type prefix and its last 4 characters (`ASIA…WXYZ`).
 * The middle identifies the key; the prefix and suffix are what the AWS console itself shows.
 */
export function shortenKeyId(keyId: string): string {
    if (keyId.length <= 10) return `${keyId.slice(0, 2)}…`;
    return `${keyId.slice(0, 4)}…${keyId.slice(-4)}`;
}

/** Values shorter than this are not registered: replacing them would garble ordinary text, and no credential is this short. */
const MIN_SECRET_LENGTH = 8;

/** A set of secret strings to scrub from text. */
export class Redactor {
    private readonly secrets = new Set<string>();

    /** Registers values (undefined/short ones are ignored). */
    add(...values: (string | undefined | null)[]): void {
        for (const v of values) {
            if (typeof v === "string" && v.length >= MIN_SECRET_LENGTH) this.secrets.add(v);
        }
    }

    /** Replaces every registered secret in `text`. Longest first, so a secret containing another is fully replaced. */
    scrub(text: string): string {
        if (this.secrets.size === 0) return text;
        let out = text;
        for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) {
            if (out.includes(s)) out = out.split(s).join(REDACTED);
        }
        return out;
    }

    get size(): number {
        return this.secrets.size;
    }
}

/** A `write(chunk)` sink, as CliIO's stdout/stderr. */
export interface Sink {
    write(chunk: string): unknown;
    isTTY?: boolean;
}

/** Wraps a sink so that every chunk is scrubbed by `redactor` first. Keeps `isTTY`. */
export function redactingSink(sink: Sink, redactor: Redactor): Sink {
    return {
        write: (chunk: string) => sink.write(redactor.scrub(chunk)),
        isTTY: sink.isTTY,
    };
}

/**
 * Text from a service (an API `message`, an AWS error), made safe to show on one line: control characters become
 * spaces, runs of spaces collapse, and it is cut at `max` characters.
 */
export function oneLine(text: string, max = 300): string {
    let out = "";
    for (const ch of text) {
        const c = ch.codePointAt(0) ?? 0;
        out += c < 0x20 || c === 0x7f ? " " : ch;
    }
    out = out.replace(/ {2,}/g, " ").trim();
    return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}
