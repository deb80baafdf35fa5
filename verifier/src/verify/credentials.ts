/**
 * Pure checks on an opened environment (the body of `GET .../open/{id}`): where the AWS credentials are, whether the
 * two places agree, whether they are temporary, flagged secret, and unexpired. Reads `properties` (each node a Value
 * with `secret`/`unknown` flags), never the SDK's lossy `values` tree; locates `fn::open::aws-login` through `exprs`.
 * No message built here contains a credential: values are compared, never printed; a key id only shortened.
 */
import type { VerifyCheck } from "../results.js";
import type { EscEnvironment, EscExpr, EscValue } from "./esc-types.js";
import { formatDuration } from "./ref.js";
import { shortenKeyId } from "../redact.js";
import type { AwsCredentials } from "./sts.js";
import { CHECK_IDS } from "./types.js";

/** One credential field as found: its text when known, and its flags. */
interface Field {
    path: string;
    text?: string;
    secret: boolean;
    unknown: boolean;
    /** Present but not a string (e.g. an object or number), or a string no AWS credential looks like. */
    malformed?: boolean;
    /** Why a string was refused (`malformed` strings): never quotes the value. */
    invalid?: string;
    /** The refused string itself: only to register with the redactor, never shown. */
    raw?: string;
}

/**
 * What AWS credentials look like (IAM and STS API references): key ids are upper-case letters and digits, secrets
 * and session tokens base64. Anything else (a newline, an escape sequence, a space) is refused before it is used,
 * printed or sent: a credential with a control character in it could inject a header or a terminal sequence.
 */
const CREDENTIAL_SHAPES: Record<string, { pattern: RegExp; what: string }> = {
    accessKeyId: { pattern: /^[A-Z0-9]{16,128}$/, what: "access key id" },
    secretAccessKey: { pattern: /^[A-Za-z0-9+/=]{16,128}$/, what: "secret access key" },
    sessionToken: { pattern: /^[A-Za-z0-9+/=_-]{16,16384}$/, what: "session token" },
    expiration: { pattern: /^[0-9A-Za-z:.+\- ]{1,64}$/, what: "expiration time" },
};

/** Why `text` is not a credential of `kind`, or undefined when it is one. Never quotes the value. */
export function credentialShapeProblem(kind: keyof typeof CREDENTIAL_SHAPES, text: string): string | undefined {
    const shape = CREDENTIAL_SHAPES[kind];
    if (!shape || shape.pattern.test(text)) return undefined;
    for (const ch of text) {
        const c = ch.codePointAt(0) ?? 0;
        if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) {
            return `not a valid ${shape.what}: it contains a control character (U+${c.toString(16).toUpperCase().padStart(4, "0")})`;
        }
    }
    return `not a valid ${shape.what}: ${text.length} characters, not all of them letters, digits or the few symbols AWS uses`;
}

/** A set of credentials found in one place. */
interface CredentialSet {
    /** Where: `aws.login` or `environmentVariables`. */
    where: string;
    accessKeyId?: Field;
    secretAccessKey?: Field;
    sessionToken?: Field;
    expiration?: Field;
}

/** An `fn::open::aws-login` call found in the definition. */
export interface AwsLoginCall {
    /** Property path of its output, e.g. ["aws", "login"]. */
    path: (string | number)[];
    /** `oidc.roleArn` when it is a literal or resolves through `properties`. */
    roleArn?: string;
    /** `oidc.duration` when literal. */
    duration?: string;
    /** `oidc` or `static` login. */
    mode?: "oidc" | "static";
}

export interface CredentialAnalysis {
    checks: VerifyCheck[];
    /** The credentials to try against STS (environmentVariables first, as consumers use them). */
    credentials?: AwsCredentials;
    /** Every secret value seen, to register with the output redactor. */
    secrets: string[];
    /** The shortened access key id. */
    accessKeyIdShort?: string;
    /** The aws-login calls found in `exprs`. */
    logins: AwsLoginCall[];
}

export interface CredentialCheckOptions {
    /** Now, in ms since the epoch. */
    now: number;
    /** Longest acceptable remaining lifetime of the credentials, in ms (the requested duration). */
    maxLifetimeMs: number;
    /** Where that bound came from, for messages, e.g. "--duration 1h". */
    lifetimeSource: string;
}

/** Clock skew tolerated on expiry checks. */
const SKEW_MS = 5 * 60_000;

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asValue(v: unknown): EscValue | undefined {
    return isRecord(v) ? (v) : undefined;
}

/** The Value at `path` below `properties`, walking `value` maps and arrays. */
export function valueAt(properties: Record<string, EscValue> | undefined, path: (string | number)[]): EscValue | undefined {
    if (!properties || path.length === 0) return undefined;
    const [first, ...rest] = path;
    let cur = asValue(properties[String(first)]);
    for (const key of rest) {
        if (!cur) return undefined;
        const inner = cur.value;
        if (typeof key === "number" && Array.isArray(inner)) cur = asValue(inner[key]);
        else if (isRecord(inner)) cur = asValue(inner[String(key)]);
        else return undefined;
    }
    return cur;
}

function pathText(path: (string | number)[]): string {
    return path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");
}

/** Resolves a string-valued expression: a literal, a `${path}` reference into `properties`, or an interpolation. */
function resolveString(expr: EscExpr | undefined, properties: Record<string, EscValue> | undefined): string | undefined {
    if (!expr) return undefined;
    if (typeof expr.literal === "string") return expr.literal;
    const accessorPath = (accessors: unknown): (string | number)[] | undefined => {
        if (!Array.isArray(accessors)) return undefined;
        const out: (string | number)[] = [];
        for (const a of accessors as unknown[]) {
            if (!isRecord(a)) return undefined;
            if (typeof a.key === "string") out.push(a.key);
            else if (typeof a.index === "number") out.push(a.index);
            else return undefined;
        }
        return out;
    };
    if (expr.symbol) {
        const p = accessorPath(expr.symbol);
        const v = p && valueAt(properties, p);
        return v && !v.unknown && typeof v.value === "string" ? v.value : undefined;
    }
    if (expr.interpolate) {
        let s = "";
        for (const part of expr.interpolate) {
            s += part.text ?? "";
            if (part.value !== undefined) {
                const p = accessorPath(part.value);
                const v = p && valueAt(properties, p);
                if (!v || v.unknown || typeof v.value !== "string") return undefined;
                s += v.value;
            }
        }
        return s;
    }
    return undefined;
}

/**
 * Finds every `fn::open::aws-login` (and `fn::open` with `provider: aws-login`) in `exprs`, with the property path
 * of its output and, where readable, its `oidc.roleArn` and `oidc.duration`.
 */
export function findAwsLogins(env: EscEnvironment): AwsLoginCall[] {
    const out: AwsLoginCall[] = [];
    const visit = (expr: EscExpr | undefined, path: (string | number)[], depth: number): void => {
        if (!expr || depth > 64) return;
        const b = expr.builtin;
        if (b) {
            let inputs: EscExpr | undefined;
            if (b.name === "fn::open::aws-login") inputs = b.arg;
            else if (b.name === "fn::open" && b.arg?.object?.provider?.literal === "aws-login") inputs = b.arg.object.inputs;
            if (inputs !== undefined || b.name === "fn::open::aws-login") {
                const oidc = inputs?.object?.oidc?.object;
                const call: AwsLoginCall = { path };
                if (oidc) {
                    call.mode = "oidc";
                    const role = resolveString(oidc.roleArn, env.properties);
                    if (role) call.roleArn = role;
                    const d = resolveString(oidc.duration, env.properties);
                    if (d) call.duration = d;
                } else if (inputs?.object?.static) {
                    call.mode = "static";
                }
                out.push(call);
                return;
            }
            visit(b.arg, path, depth + 1);
            return;
        }
        if (expr.object) for (const [k, e] of Object.entries(expr.object)) visit(e, [...path, k], depth + 1);
        if (expr.list) expr.list.forEach((e, i) => visit(e, [...path, i], depth + 1));
    };
    for (const [k, e] of Object.entries(env.exprs ?? {})) visit(e, [k], 0);
    return out;
}

function field(v: EscValue | undefined, path: string): Field | undefined {
    if (!v) return undefined;
    const f: Field = { path, secret: v.secret === true, unknown: v.unknown === true };
    if (!f.unknown) {
        if (typeof v.value === "string") {
            const kind = /\.(accessKeyId|secretAccessKey|sessionToken|expiration)$/.exec(path)?.[1] ?? ENV_KIND.get(path.split(".").pop() ?? "");
            const invalid = kind !== undefined && v.value !== "" ? credentialShapeProblem(kind, v.value) : undefined;
            if (invalid === undefined) f.text = v.value;
            else {
                f.malformed = true;
                f.invalid = invalid;
                f.raw = v.value;
            }
        } else if (v.value !== undefined && v.value !== null) f.malformed = true;
        else return undefined; // null: treat as absent
    }
    return f;
}

/** The credential each AWS_* environment variable holds (a Map: a key like `constructor` holds none). */
const ENV_KIND: ReadonlyMap<string, string> = new Map([
    ["AWS_ACCESS_KEY_ID", "accessKeyId"],
    ["AWS_SECRET_ACCESS_KEY", "secretAccessKey"],
    ["AWS_SESSION_TOKEN", "sessionToken"],
]);

function setFromObject(v: EscValue | undefined, where: string): CredentialSet | undefined {
    if (!v) return undefined;
    if (v.unknown) {
        return { where, accessKeyId: { path: `${where}.accessKeyId`, secret: false, unknown: true } };
    }
    if (!isRecord(v.value)) return undefined;
    const o = v.value;
    const set: CredentialSet = {
        where,
        accessKeyId: field(asValue(o.accessKeyId), `${where}.accessKeyId`),
        secretAccessKey: field(asValue(o.secretAccessKey), `${where}.secretAccessKey`),
        sessionToken: field(asValue(o.sessionToken), `${where}.sessionToken`),
        expiration: field(asValue(o.expiration), `${where}.expiration`),
    };
    return set.accessKeyId || set.secretAccessKey || set.sessionToken ? set : undefined;
}

function setFromEnvVars(properties: Record<string, EscValue> | undefined): CredentialSet | undefined {
    const ev = asValue(properties?.environmentVariables);
    if (!ev || !isRecord(ev.value)) return undefined;
    const o = ev.value;
    const p = "environmentVariables";
    const set: CredentialSet = {
        where: p,
        accessKeyId: field(asValue(o.AWS_ACCESS_KEY_ID), `${p}.AWS_ACCESS_KEY_ID`),
        secretAccessKey: field(asValue(o.AWS_SECRET_ACCESS_KEY), `${p}.AWS_SECRET_ACCESS_KEY`),
        sessionToken: field(asValue(o.AWS_SESSION_TOKEN), `${p}.AWS_SESSION_TOKEN`),
        expiration:
            field(asValue(o.AWS_CREDENTIAL_EXPIRATION), `${p}.AWS_CREDENTIAL_EXPIRATION`) ??
            field(asValue(o.AWS_SESSION_EXPIRATION), `${p}.AWS_SESSION_EXPIRATION`),
    };
    return set.accessKeyId || set.secretAccessKey || set.sessionToken ? set : undefined;
}

/** Objects under `properties` that look like credentials (accessKeyId + secretAccessKey), for imported aws-logins. */
function findCredentialShapes(properties: Record<string, EscValue> | undefined): (string | number)[][] {
    const out: (string | number)[][] = [];
    const visit = (v: EscValue | undefined, path: (string | number)[], depth: number): void => {
        if (!v || depth > 32 || out.length >= 8) return;
        if (isRecord(v.value)) {
            const o = v.value;
            if ("accessKeyId" in o && "secretAccessKey" in o) {
                out.push(path);
                return;
            }
            for (const [k, c] of Object.entries(o)) if (k !== "environmentVariables" || depth > 0) visit(asValue(c), [...path, k], depth + 1);
        } else if (Array.isArray(v.value)) {
            v.value.forEach((c, i) => visit(asValue(c), [...path, i], depth + 1));
        }
    };
    for (const [k, v] of Object.entries(properties ?? {})) if (k !== "environmentVariables") visit(v, [k], 0);
    return out;
}

/** A set usable for a call: key id and secret known strings. */
function complete(set: CredentialSet | undefined): set is CredentialSet & { accessKeyId: Field & { text: string }; secretAccessKey: Field & { text: string } } {
    return !!set?.accessKeyId?.text && !!set.secretAccessKey?.text;
}

function problems(set: CredentialSet): string[] {
    const out: string[] = [];
    for (const f of [set.accessKeyId, set.secretAccessKey, set.sessionToken]) {
        if (f?.unknown) out.push(`${f.path} is unknown (not yet resolved), so it cannot be checked`);
        else if (f?.malformed) out.push(`${f.path} is ${f.invalid ?? "not a string"}`);
    }
    if (!set.accessKeyId) out.push(`${set.where} has no access key id`);
    if (!set.secretAccessKey) out.push(`${set.where} has no secret access key`);
    return out;
}

/** Runs the credential checks on an opened environment. */
export function analyzeCredentials(env: EscEnvironment, options: CredentialCheckOptions): CredentialAnalysis {
    const props = env.properties;
    const logins = findAwsLogins(env);
    const loginSets: CredentialSet[] = [];
    for (const l of logins) {
        const s = setFromObject(valueAt(props, l.path), pathText(l.path));
        if (s) loginSets.push(s);
    }
    // An aws-login in an imported environment has no expr here: fall back to credential-shaped outputs.
    if (logins.length === 0) {
        for (const p of findCredentialShapes(props)) {
            const s = setFromObject(valueAt(props, p), pathText(p));
            if (s) loginSets.push(s);
        }
    }
    const envSet = setFromEnvVars(props);
    const secrets: string[] = [];
    for (const s of [...loginSets, envSet]) {
        if (!s) continue;
        for (const f of [s.accessKeyId, s.secretAccessKey, s.sessionToken]) {
            if (f?.text) secrets.push(f.text);
            if (f?.raw) secrets.push(f.raw);
        }
    }

    const checks: VerifyCheck[] = [];
    const all = [...loginSets, ...(envSet ? [envSet] : [])];
    const used = complete(envSet) ? envSet : loginSets.find(complete);
    const loginWhere = loginSets.map((s) => s.where).join(", ");

    // credentials-present
    if (all.length === 0) {
        checks.push({
            id: CHECK_IDS.present,
            status: "fail",
            detail:
                logins.length > 0
                    ? `fn::open::aws-login at ${logins.map((l) => pathText(l.path)).join(", ")} produced no credentials, and environmentVariables has no AWS_ACCESS_KEY_ID`
                    : "no AWS credentials: the environment has no fn::open::aws-login output and no environmentVariables.AWS_ACCESS_KEY_ID; add an aws-login (oidc) and export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
        });
    } else {
        const issues = all.flatMap(problems);
        if (!used || issues.length > 0) {
            checks.push({ id: CHECK_IDS.present, status: "fail", detail: (issues.length ? issues : ["no complete set of credentials"]).join("; ") });
        } else {
            const places = [loginWhere ? `${loginWhere} (fn::open::aws-login)` : "", envSet ? "environmentVariables.AWS_*" : ""].filter(Boolean).join(" and ");
            const note = envSet ? "" : "; environmentVariables has no AWS_* entries, so `esc run`/`pulumi env run` will not see them";
            checks.push({ id: CHECK_IDS.present, status: "pass", detail: `found in ${places}${note}` });
        }
    }

    // credentials-agree
    if (envSet && loginSets.length > 0) {
        const names = ["accessKeyId", "secretAccessKey", "sessionToken"] as const;
        const matches = loginSets.filter((l) => names.every((n) => (l[n]?.text ?? "") === (envSet[n]?.text ?? "") && !l[n]?.unknown && !envSet[n]?.unknown));
        if (matches.length > 0) {
            checks.push({ id: CHECK_IDS.agree, status: "pass", detail: `environmentVariables.AWS_* hold the same credentials as ${matches[0]?.where}` });
        } else {
            const ref = loginSets[0] as CredentialSet;
            const differing = names.filter((n) => (ref[n]?.text ?? "") !== (envSet[n]?.text ?? "") || ref[n]?.unknown || envSet[n]?.unknown);
            const envName = { accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY", sessionToken: "AWS_SESSION_TOKEN" };
            checks.push({
                id: CHECK_IDS.agree,
                status: "fail",
                detail: `environmentVariables and ${ref.where} disagree on ${differing.map((n) => `${envName[n]}/${n}`).join(", ")}: point the variables at the aws-login output, e.g. ${envName[differing[0] ?? "sessionToken"]}: \${${ref.where}.${differing[0] ?? "sessionToken"}}`,
            });
        }
    } else {
        checks.push({
            id: CHECK_IDS.agree,
            status: "skip",
            detail: all.length === 0 ? "no credentials" : `credentials found only in ${all.map((s) => s.where).join(", ")}`,
        });
    }

    // credentials-temporary
    const keyId = used?.accessKeyId.text;
    const short = keyId ? shortenKeyId(keyId) : undefined;
    if (!used || !keyId) {
        checks.push({ id: CHECK_IDS.temporary, status: "skip", detail: "no complete set of credentials" });
    } else if (keyId.startsWith("AKIA")) {
        checks.push({
            id: CHECK_IDS.temporary,
            status: "fail",
            detail: `${used.accessKeyId.path} is a long-lived IAM user access key (${short}), not temporary STS credentials: replace the static keys with fn::open::aws-login oidc and a role, and deactivate the key`,
        });
    } else if (!keyId.startsWith("ASIA")) {
        checks.push({
            id: CHECK_IDS.temporary,
            status: "fail",
            detail: `${used.accessKeyId.path} (${short}) is not an STS temporary key id (ASIA…)`,
        });
    } else if (used.sessionToken?.invalid) {
        checks.push({ id: CHECK_IDS.temporary, status: "fail", detail: `${used.sessionToken.path} is ${used.sessionToken.invalid}` });
    } else if (!used.sessionToken?.text) {
        checks.push({
            id: CHECK_IDS.temporary,
            status: "fail",
            detail: `${used.accessKeyId.path} is temporary (${short}) but ${used.where === "environmentVariables" ? "AWS_SESSION_TOKEN" : "sessionToken"} is missing: temporary credentials do not work without their session token; export AWS_SESSION_TOKEN: \${<aws-login path>.sessionToken}`,
        });
    } else {
        checks.push({ id: CHECK_IDS.temporary, status: "pass", detail: `${short} with a session token: temporary STS credentials` });
    }

    // credentials-secret
    if (all.length === 0) {
        checks.push({ id: CHECK_IDS.secret, status: "skip", detail: "no credentials" });
    } else {
        const notSecret = all.flatMap((s) => [s.secretAccessKey, s.sessionToken]).filter((f): f is Field => !!f && !f.unknown && !f.secret);
        checks.push(
            notSecret.length === 0
                ? { id: CHECK_IDS.secret, status: "pass", detail: "secret access key and session token are flagged secret" }
                : {
                      id: CHECK_IDS.secret,
                      status: "fail",
                      detail: `not flagged secret: ${notSecret.map((f) => f.path).join(", ")}; reference the aws-login output (which is secret) or wrap the value in fn::secret`,
                  },
        );
    }

    // credentials-expiry
    const exp = used?.expiration ?? all.map((s) => s.expiration).find((f) => f);
    if (!exp) {
        checks.push({ id: CHECK_IDS.expiry, status: "skip", detail: "the environment does not expose an expiry (aws-login outputs none)" });
    } else if (exp.unknown || exp.text === undefined) {
        checks.push({ id: CHECK_IDS.expiry, status: "fail", detail: `${exp.path} is ${exp.unknown ? "unknown" : "not a string"}` });
    } else {
        const at = Date.parse(exp.text);
        if (Number.isNaN(at)) {
            checks.push({ id: CHECK_IDS.expiry, status: "fail", detail: `${exp.path} is not a date: '${exp.text.slice(0, 40)}'` });
        } else if (at <= options.now) {
            checks.push({ id: CHECK_IDS.expiry, status: "fail", detail: `${exp.path} ${new Date(at).toISOString()} is in the past: the credentials have expired` });
        } else if (at > options.now + options.maxLifetimeMs + SKEW_MS) {
            checks.push({
                id: CHECK_IDS.expiry,
                status: "fail",
                detail: `${exp.path} ${new Date(at).toISOString()} is ${formatDuration(at - options.now)} away, beyond the requested ${formatDuration(options.maxLifetimeMs)} (${options.lifetimeSource})`,
            });
        } else {
            checks.push({
                id: CHECK_IDS.expiry,
                status: "pass",
                detail: `expires ${new Date(at).toISOString()}, in ${formatDuration(at - options.now)} (within ${formatDuration(options.maxLifetimeMs)}, ${options.lifetimeSource})`,
            });
        }
    }

    const credentials: AwsCredentials | undefined = used
        ? {
              accessKeyId: used.accessKeyId.text,
              secretAccessKey: used.secretAccessKey.text,
              ...(used.sessionToken?.text ? { sessionToken: used.sessionToken.text } : {}),
          }
        : undefined;
    return { checks, credentials, secrets, accessKeyIdShort: short, logins };
}
