/**
 * The one redaction module: keeps credentials out of everything the CLI writes (stdout, stderr, report files, the
 * CLI's own error path). Two layers, both applied by {@link Redactor.scrub}:
 *
 * - known secrets: values registered while running (the Pulumi access token, the credentials ESC returned). Any run
 *   of {@link MIN_FRAGMENT} or more characters of one of them is replaced (a run of decimal digits alone excepted:
 *   that is what account ids are made of), so a response cut short, or an STS error that echoes a prefix of the
 *   session token, leaks nothing;
 * - shapes ({@link redactText}): AWS access key ids, any `pul-`-prefixed token (also a cut-off one), JWTs, long
 *   base64 runs, and 40-character secret-key-shaped runs, even when nobody registered them.
 *
 * Every replacement reads `[redacted, <n> chars]` (access key ids keep their 4-letter type: `ASIA…[redacted, 20 chars]`).
 */
import { mapStringsShared } from "./deep.js";

/** The marker for `n` redacted characters. */
export function redactedMarker(n: number): string {
    return `[redacted, ${n} chars]`;
}

/** Runs of a known secret at least this long are redacted wherever they appear (and shorter secrets are not registered). */
export const MIN_FRAGMENT = 8;

/*
 * The shapes match wherever they start, not at a word boundary only: a name such as `deploy_AKIA…`, `ci_eyJ…` or
 * `tok_pul-…` holds the credential all the same (`_`, letters and digits are word characters, so `\b` missed them).
 */
/** AWS access key ids: `AKIA` (long-lived IAM user keys) and `ASIA` (temporary STS keys), 20 characters. */
const ACCESS_KEY_ID = /(AKIA|ASIA)[A-Z0-9]{16}/g;
/** Pulumi access tokens (`pul-` and 40 hex digits), also cut short: `pul-` and 6 or more hex digits. */
const PULUMI_TOKEN = /pul-[0-9a-fA-F]{6,}/g;
/** JSON Web Tokens (three base64url parts, the first always starting with `{"` = `eyJ`). */
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
/** Long base64 runs (session tokens are hundreds of characters). */
const LONG_BLOB = /[A-Za-z0-9+/]{100,}={0,2}/g;
/** Exactly 40 base64 characters standing alone: the shape of an AWS secret access key. */
const SECRET_KEY = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;

/**
 * Whether a 40-character run looks random rather than like a name: it mixes upper case, lower case and digits,
 * neither case dominates, and it has several digits or a `+`/`/`. CamelCase role names have few capitals; hex
 * digests have none.
 */
function looksLikeSecretKey(run: string): boolean {
    const upper = run.replace(/[^A-Z]/g, "").length;
    const lower = run.replace(/[^a-z]/g, "").length;
    const digits = run.replace(/[^0-9]/g, "").length;
    if (upper === 0 || lower === 0 || digits === 0) return false;
    const upperShare = upper / (upper + lower);
    return upperShare >= 0.25 && upperShare <= 0.85 && (digits >= 4 || /[+/]/.test(run));
}

/**
 * Whether `text` has what one of the shapes above needs: `eyJ` (JWT), `pul-` (Pulumi token), `AKIA` or `ASIA` (an
 * access key id), or a run of 40 base64 characters (a secret key is 40, a blob 100 or more); and no shape is shorter
 * than 10 characters. Text without any is left as it is after one scan instead of five regular expressions: almost
 * every string of a report (names, messages, URNs, a quoted statement with its `sts:AssumeRoleWithWebIdentity`) is
 * such text, and a report of 100,000 roles holds millions of them.
 */
export function mayHoldSecret(text: string): boolean {
    if (text.length < 10) return false;
    // A rare letter first (`J`, `IA`): most text has neither, and one search for it costs less than two for the shapes.
    if ((text.includes("J") && text.includes("eyJ")) || text.includes("pul-") || (text.includes("IA") && (text.includes("AKIA") || text.includes("ASIA")))) return true;
    return text.length >= 40 && hasBase64Run(text, 40);
}

function isBase64(c: number): boolean {
    return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2b || c === 0x2f;
}

/**
 * Whether `text` has `min` base64 characters in a row. Reads one character in `min` where the text has none (every
 * such run holds one of them), and around those that are: a report's strings, 190 million characters at 100,000
 * roles, are mostly words and names, which a space or a `:` interrupts. Exported for its test.
 */
export function hasBase64Run(text: string, min: number): boolean {
    const n = text.length;
    // No run of `min` starts before `p - min + 1`: the character at `p - min` is not base64 (or the text starts there).
    let p = min - 1;
    while (p < n) {
        if (!isBase64(text.charCodeAt(p))) {
            p += min;
            continue;
        }
        // The run through `p`: back to its start (at most `min` characters), then on until it is `min` long.
        let start = p;
        while (start > 0 && p - start < min - 1 && isBase64(text.charCodeAt(start - 1))) start--;
        let q = p + 1;
        while (q < start + min && q < n && isBase64(text.charCodeAt(q))) q++;
        if (q >= start + min) return true;
        // The run ends before `q`, shorter than `min`; the next one starts after `q`.
        p = q + min;
    }
    return false;
}

/** Replaces anything credential-shaped in `text` by a marker that keeps at most a type prefix and the length. */
export function redactText(text: string): string {
    return mayHoldSecret(text) ? redactShapes(text) : text;
}

/** {@link redactText} without the first scan (exported for the test that the scan never lets a shape through). */
export function redactShapes(text: string): string {
    return text
        .replace(JWT, (m) => `[redacted JWT, ${m.length} chars]`)
        .replace(ACCESS_KEY_ID, (_m, prefix: string) => `${prefix}…${redactedMarker(20)}`)
        .replace(PULUMI_TOKEN, (m) => `pul-…${redactedMarker(m.length)}`)
        .replace(LONG_BLOB, (m) => redactedMarker(m.length))
        .replace(SECRET_KEY, (m) => (looksLikeSecretKey(m) ? redactedMarker(40) : m));
}

/**
 * `value` with `redactText` applied to every string, object keys included; `value` itself is not changed. What holds
 * nothing to redact is shared with `value`, not copied (deep.ts, `mapStringsShared`), so a report of 100,000 results
 * without a secret is not held twice: read the result, do not change it. Iterative: the depth of `value` does not
 * matter.
 */
export function redactDeep<T>(value: T): T {
    return mapStringsShared(value, (s) => redactText(s));
}

/**
 * Shortens an AWS access key id for display: its 4-letter type prefix and its last 4 characters (`ASIA…WXYZ`).
 * The middle identifies the key; the prefix and suffix are what the AWS console itself shows.
 */
export function shortenKeyId(keyId: string): string {
    if (keyId.length <= 10) return `${keyId.slice(0, 2)}…`;
    return `${keyId.slice(0, 4)}…${keyId.slice(-4)}`;
}

/** The secrets seen in this process, and the scrubber for everything written. */
export class Redactor {
    private readonly secrets = new Set<string>();
    /**
     * Every {@link MIN_FRAGMENT}-character substring of every secret: true when it is made of decimal digits alone
     * (such a gram redacts only as part of a run that also holds one that is not).
     */
    private readonly grams = new Map<string, boolean>();

    /** Registers values (undefined and values shorter than {@link MIN_FRAGMENT} are ignored). */
    add(...values: (string | undefined | null)[]): void {
        for (const v of values) {
            if (typeof v !== "string" || v.length < MIN_FRAGMENT || this.secrets.has(v)) continue;
            this.secrets.add(v);
            for (let i = 0; i + MIN_FRAGMENT <= v.length; i++) {
                const gram = v.slice(i, i + MIN_FRAGMENT);
                // Eight decimal digits alone are what account ids, timestamps and counts are made of: such a run is
                // left alone unless it continues into other characters of the secret (a token's digits at its end
                // or in its middle are its characters all the same).
                this.grams.set(gram, /^[0-9]+$/.test(gram));
            }
        }
    }

    /**
     * Replaces every run of {@link MIN_FRAGMENT} or more characters of a registered secret, then everything
     * credential-shaped ({@link redactText}).
     */
    scrub(text: string): string {
        return redactText(this.scrubKnown(text));
    }

    private scrubKnown(text: string): string {
        if (this.grams.size === 0 || text.length < MIN_FRAGMENT) return text;
        // Mark every position covered by a gram of a secret; overlapping grams join into one run, which is replaced
        // when one of its grams is not decimal digits alone.
        let out = "";
        let last = 0;
        let runStart = -1;
        let runEnd = -1;
        let runHasOther = false;
        for (let i = 0; i + MIN_FRAGMENT <= text.length; i++) {
            const digits = this.grams.get(text.slice(i, i + MIN_FRAGMENT));
            if (digits === undefined) continue;
            if (runStart >= 0 && i <= runEnd) {
                runEnd = i + MIN_FRAGMENT;
                runHasOther ||= !digits;
                continue;
            }
            if (runStart >= 0 && runHasOther) {
                out += text.slice(last, runStart) + redactedMarker(runEnd - runStart);
                last = runEnd;
            }
            runStart = i;
            runEnd = i + MIN_FRAGMENT;
            runHasOther = !digits;
        }
        if (runStart >= 0 && runHasOther) {
            out += text.slice(last, runStart) + redactedMarker(runEnd - runStart);
            last = runEnd;
        }
        return last === 0 ? text : out + text.slice(last);
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
 * Text from a service (an API `message`, an AWS error), made safe to show on one line: control characters
 * (C0, DEL, C1, line and paragraph separators) become spaces, runs of spaces collapse, and it is cut at `max`
 * characters.
 */
export function oneLine(text: string, max = 300): string {
    let out = "";
    for (const ch of text) {
        const c = ch.codePointAt(0) ?? 0;
        out += c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 ? " " : ch;
    }
    out = out.replace(/ {2,}/g, " ").trim();
    return out.length > max ? `${out.slice(0, max - 3)}...` : out;
}
