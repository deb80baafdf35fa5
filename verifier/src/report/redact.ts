/**
 * Defence in depth for reports: result files never should hold credentials, but every string that goes into a
 * report passes through `redactText` first, so that an access key id, a secret key, a session token, a Pulumi
 * access token or a JWT that slipped into a message is shortened to a prefix and a length.
 */

/** AWS access key ids: `AKIA` (long-lived IAM user keys) and `ASIA` (temporary STS keys), 20 characters. */
const ACCESS_KEY_ID = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g;
/** Pulumi access tokens. */
const PULUMI_TOKEN = /\bpul-[0-9a-f]{40}\b/g;
/** JSON Web Tokens (three base64url parts, the first always starting with `{"` = `eyJ`). */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
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

/** Replaces anything credential-shaped in `text` by a short marker that keeps only a prefix and the length. */
export function redactText(text: string): string {
    return text
        .replace(JWT, (m) => `[redacted JWT, ${m.length} chars]`)
        .replace(ACCESS_KEY_ID, (_m, prefix: string) => `${prefix}…[redacted, 20 chars]`)
        .replace(PULUMI_TOKEN, () => "pul-…[redacted, 44 chars]")
        .replace(LONG_BLOB, (m) => `[redacted, ${m.length} chars]`)
        .replace(SECRET_KEY, (m) => (looksLikeSecretKey(m) ? "[redacted, 40 chars]" : m));
}

/** A deep copy of `value` with `redactText` applied to every string, object keys included. */
export function redactDeep<T>(value: T): T {
    return redactValue(value) as T;
}

function redactValue(value: unknown): unknown {
    if (typeof value === "string") return redactText(value);
    if (Array.isArray(value)) return value.map(redactValue);
    if (value !== null && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[redactText(k)] = redactValue(v);
        return out;
    }
    return value;
}
