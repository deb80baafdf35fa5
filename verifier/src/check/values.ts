/**
 * Property values as `pulumi stack export` and `pulumi preview --json` write them.
 *
 * - Secrets in a stack export (pulumi/pulumi pkg/resource/stack/deployment.go, `SerializePropertyValue`) are
 *   `{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "..."}`, or with
 *   `--show-secrets` `"plaintext": "<the value, JSON-encoded>"`.
 * - `pulumi preview --json` (pkg/backend/display/json.go) replaces every secret by the string `"[secret]"` and writes
 *   a value unknown at preview as the engine sentinel `04da6b54-80e4-46f7-96ec-b56ff0331ba9`.
 * - The human display shows unknowns as `[unknown]`, `output<string>` or `computed<string>`: hand-written or
 *   converted inputs may carry those, so they are treated as unknown as well.
 */
import { parseJson } from "./json.js";

/** The key that marks a special (secret, asset, resource reference) value. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** The signature of a secret. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

const DISPLAY_UNKNOWN = /^(?:\[unknown\]|(?:output|computed)<[^<>]*>)$/;
const EMBEDDED_MARKER = /\[unknown\]|\[secret\]|output<|computed<|4dabf18193072939515e22adb298388d/;

/** Why (part of) a value cannot be read. `path` is relative to the value (`""` = the value itself). */
export interface Unreadable {
    path: string;
    reason: "ciphertext" | "redacted-secret" | "display-unknown";
}

/** A value with every readable secret unwrapped, plus what could not be read and whether any secret was seen. */
export interface RevealedValue {
    value: unknown;
    unreadable: Unreadable[];
    hadSecret: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True for `{<SIG_KEY>: <SECRET_SIG>, ...}`. */
export function isSecretWrapper(v: unknown): boolean {
    return isRecord(v) && v[SIG_KEY] === SECRET_SIG;
}

/**
 * Unwraps stack-export secrets (plaintext is JSON-decoded, as the engine encodes it), and records the parts that
 * cannot be read: ciphertext, `[secret]` (preview) and display forms of unknowns. Values without any of these
 * are returned as is (no copy), which keeps the common case cheap.
 */
export function revealValue(value: unknown): RevealedValue {
    const unreadable: Unreadable[] = [];
    let hadSecret = false;
    const walk = (v: unknown, path: string): unknown => {
        if (typeof v === "string") {
            if (v === "[secret]") {
                hadSecret = true;
                unreadable.push({ path, reason: "redacted-secret" });
            } else if (DISPLAY_UNKNOWN.test(v)) {
                unreadable.push({ path, reason: "display-unknown" });
            } else if (EMBEDDED_MARKER.test(v) && v.trimStart().startsWith("{")) {
                // A trust policy given as a JSON string: look inside for the same markers.
                // Not JSON after all (or nested too deep): the analysis reports that.
                const parsed = parseJson(v);
                if (parsed.ok) walk(parsed.value, path);
            }
            return v;
        }
        if (Array.isArray(v)) {
            let copy: unknown[] | undefined;
            v.forEach((e, i) => {
                const r = walk(e, `${path}[${i}]`);
                if (r !== e) (copy ??= v.slice())[i] = r;
            });
            return copy ?? v;
        }
        if (!isRecord(v)) return v;
        if (isSecretWrapper(v)) {
            hadSecret = true;
            if (typeof v.plaintext === "string") {
                // Not JSON: not what the engine writes, but a plain string is the only sensible reading.
                const parsed = parseJson(v.plaintext);
                return walk(parsed.ok ? parsed.value : v.plaintext, path);
            }
            if ("value" in v) return walk(v.value, path); // the gRPC form, in hand-made inputs
            unreadable.push({ path, reason: "ciphertext" });
            return v;
        }
        let copy: Record<string, unknown> | undefined;
        for (const [k, e] of Object.entries(v)) {
            const r = walk(e, path === "" ? k : `${path}.${k}`);
            if (r !== e) (copy ??= { ...v })[k] = r;
        }
        return copy ?? v;
    };
    const revealed = walk(value, "");
    return { value: revealed, unreadable, hadSecret };
}
