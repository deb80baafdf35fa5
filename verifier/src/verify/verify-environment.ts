/**
 * `verifyEnvironment(ref, options)`: opens an ESC environment and proves, without printing any secret, that it
 * returns temporary AWS credentials that work and belong to the expected role, and that the `expectDenied`
 * environments get none. Costs one open, one read and one STS call (plus one open per denied environment).
 */
import type { VerifyCheck } from "../results.js";
import { toolInfo } from "../version.js";
import { escConnectionFromEnv, stsConnectionFromEnv, type StsConnection } from "./config.js";
import { analyzeCredentials, findAwsLogins, type AwsLoginCall } from "./credentials.js";
import { Deadline } from "./deadline.js";
import { classifyDiagnostic, describeFailure, showDiagnostic, showDiagnostics } from "./diagnostics.js";
import { EscClient } from "./esc.js";
import { couldNotVerifyDetail, ServiceError, VerifyConfigError } from "./errors.js";
import { envNameInOrg, formatEnvRef, parseEnvRef, parseGoDuration, type EnvRef } from "./ref.js";
import { Redactor, shortenKeyId } from "../redact.js";
import { getCallerIdentity, parseAssumedRoleArn, parseRoleArn, type StsOutcome } from "./sts.js";
import { CHECK_IDS, type RoleSource, type VerificationResult, type VerifyOptions } from "./types.js";

/** Default overall deadline, seconds. */
export const DEFAULT_TIMEOUT_SECONDS = 60;
/** aws-login's default session duration (Pulumi docs, aws-login provider), the expiry bound when nothing is given. */
const AWS_LOGIN_DEFAULT_DURATION_MS = 2 * 3_600_000;

/** Everything resolved from the options once, shared by the environments of a batch. */
export interface VerifyContext {
    esc: EscClient;
    sts: StsConnection | undefined;
    duration?: { text: string; ms: number };
    roleArn?: { arn: string; source: Exclude<RoleSource, "definition"> };
    expectDenied: EnvRef[];
    requestTimeoutMs: number;
    timeoutMs: number;
    now: () => number;
    signal?: AbortSignal;
    /** Collects every secret value seen, so output can be scrubbed as a last line of defence. */
    redactor: Redactor;
    /** Told each access key id obtained (the CLI masks them in GitHub Actions logs). */
    onAccessKeyId?: (accessKeyId: string) => void;
}

/** Internal options: the public ones plus a redactor shared with the CLI's output. */
export interface InternalVerifyOptions extends VerifyOptions {
    redactor?: Redactor;
    onAccessKeyId?: (accessKeyId: string) => void;
}

/** Validates options and resolves configuration. Throws VerifyConfigError (exit 2) before any request is sent. */
export function createContext(options: InternalVerifyOptions = {}): VerifyContext {
    const env = options.env ?? process.env;
    const redactor = options.redactor ?? new Redactor();
    const escConn = escConnectionFromEnv(env);
    redactor.add(escConn.token);
    const stsEnabled = options.sts !== false;
    const sts = stsEnabled ? stsConnectionFromEnv(env) : undefined;
    let duration: VerifyContext["duration"];
    if (options.duration !== undefined) {
        const ms = parseGoDuration(options.duration);
        if (ms === undefined || ms <= 0) {
            throw new VerifyConfigError(
                `--duration '${options.duration.slice(0, 40)}' is not a positive Go duration`,
                "use e.g. 15m, 1h or 1h30m",
            );
        }
        duration = { text: options.duration, ms };
    }
    let roleArn: VerifyContext["roleArn"];
    if (options.roleArn !== undefined) {
        if (!parseRoleArn(options.roleArn)) {
            throw new VerifyConfigError(
                `${options.roleArnSource === "stack-outputs" ? "the stack output" : "--role-arn"} '${options.roleArn.slice(0, 200)}' is not an IAM role ARN`,
                "expected arn:<partition>:iam::<12-digit account>:role/<optional path/><name>",
            );
        }
        roleArn = { arn: options.roleArn, source: options.roleArnSource ?? "option" };
    }
    const expectDenied = (options.expectDenied ?? []).map((r) => parseEnvRef(r, "--expect-denied"));
    const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
        throw new VerifyConfigError(`--timeout must be a positive number of seconds, got ${String(timeoutSeconds)}`);
    }
    const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    return {
        esc: new EscClient(escConn, { requestTimeoutMs, retry: options.retry }),
        sts,
        duration,
        roleArn,
        expectDenied,
        requestTimeoutMs,
        timeoutMs: timeoutSeconds * 1000,
        now: options.now ?? Date.now,
        signal: options.signal,
        redactor,
        onAccessKeyId: options.onAccessKeyId,
    };
}

/**
 * Verifies one ESC environment. Never throws for what happens on the wire: a service that cannot be used gives
 * verdict `error` (exit 3), a check that fails gives `failed` (exit 1). Throws VerifyConfigError for bad options.
 *
 * @example
 * const r = await verifyEnvironment("acme/platform/aws-prod", { roleArn: "arn:aws:iam::123456789012:role/esc-prod" });
 * if (r.verdict !== "verified") throw new Error(r.checks.filter((c) => c.status === "fail").map((c) => c.detail).join("\n"));
 */
export async function verifyEnvironment(ref: string | EnvRef, options: VerifyOptions = {}): Promise<VerificationResult> {
    const envRef = typeof ref === "string" ? parseEnvRef(ref) : parseEnvRef(formatEnvRef(ref));
    const ctx = createContext(options);
    return verifyWithContext(ctx, envRef, new Deadline(ctx.timeoutMs, ctx.signal));
}

/** Tracks checks and the first error that stopped a verification. */
class Outcome {
    readonly checks: VerifyCheck[] = [];
    private readonly errorChecks = new Set<VerifyCheck>();
    error: ServiceError | undefined;

    pass(id: string, detail: string): void {
        this.checks.push({ id, status: "pass", detail });
    }
    fail(id: string, detail: string): void {
        this.checks.push({ id, status: "fail", detail });
    }
    skip(id: string, detail: string): void {
        this.checks.push({ id, status: "skip", detail });
    }
    /** Adds an expect-denied outcome. */
    add(d: DeniedOutcome): void {
        this.checks.push(d.check);
        if (d.error) {
            this.errorChecks.add(d.check);
            this.error ??= d.error;
        }
    }
    /** A check that could not be completed because a service could not be used. */
    errored(id: string, e: ServiceError): void {
        const c: VerifyCheck = { id, status: "fail", detail: couldNotVerifyDetail(e) };
        this.checks.push(c);
        this.errorChecks.add(c);
        this.error ??= e;
    }
    verdict(): VerificationResult["verdict"] {
        if (this.checks.some((c) => c.status === "fail" && !this.errorChecks.has(c))) return "failed";
        return this.error ? "error" : "verified";
    }
}

/** Verifies `ref` with a prepared context under `deadline` (shared across a batch). */
export async function verifyWithContext(ctx: VerifyContext, ref: EnvRef, deadline: Deadline): Promise<VerificationResult> {
    const started = Date.now();
    const out = new Outcome();
    const result: VerificationResult = {
        tool: toolInfo(),
        environment: formatEnvRef(ref),
        verdict: "error",
        checks: out.checks,
        callerIdentity: null,
        expectedRole: ctx.roleArn ? { arn: ctx.roleArn.arn, source: ctx.roleArn.source } : null,
        accessKeyId: null,
        sts: "skipped",
        error: null,
    };
    const [, denied] = await Promise.all([
        verifyMain(ctx, ref, deadline, out, result),
        Promise.all(ctx.expectDenied.map((d) => checkDenied(ctx, ref, d, deadline))),
    ]);
    for (const d of denied) out.add(d);
    result.verdict = out.verdict();
    result.error = out.error ? { kind: out.error.kind, message: out.error.message } : null;
    result.durationMs = Date.now() - started;
    return scrubResult(result, ctx.redactor);
}

const SKIP_NOT_OPENED = "the environment did not open";

/**
 * Messages are built without secrets; this is the second line of defence for the library's result, which callers
 * may print: every text that came from a service is scrubbed of the token and of every credential seen.
 */
function scrubResult(r: VerificationResult, redactor: Redactor): VerificationResult {
    for (const c of r.checks) c.detail = redactor.scrub(c.detail);
    if (r.diagnostics) r.diagnostics = r.diagnostics.map((d) => (d.hint ? { message: redactor.scrub(d.message), hint: d.hint } : { message: redactor.scrub(d.message) }));
    if (r.error) r.error = { kind: r.error.kind, message: redactor.scrub(r.error.message) };
    return r;
}

async function verifyMain(ctx: VerifyContext, ref: EnvRef, deadline: Deadline, out: Outcome, result: VerificationResult): Promise<void> {
    const later = [CHECK_IDS.present, CHECK_IDS.agree, CHECK_IDS.temporary, CHECK_IDS.secret, CHECK_IDS.expiry, CHECK_IDS.works, CHECK_IDS.role];
    const skipRest = (ids: string[], why: string): void => ids.forEach((id) => out.skip(id, why));

    // 1. Open.
    let sessionId: string;
    try {
        const opened = await ctx.esc.open(ref, ctx.duration?.text, deadline);
        if (opened.kind === "rejected") {
            const shown = showDiagnostics(opened.diagnostics, envNameInOrg(ref), ref.org);
            result.diagnostics = shown;
            const first = opened.diagnostics[0];
            const what = first ? (describeFailure(classifyDiagnostic(first.summary)) ?? shown[0]?.message) : undefined;
            const count = opened.diagnostics.length;
            out.fail(
                CHECK_IDS.opens,
                `HTTP 400: ${opened.message}` +
                    (what ? `: ${what}` : "") +
                    (count > 0 ? ` (${count.toLocaleString("en-US")} diagnostic${count > 1 ? "s" : ""}, with hints where known)` : ""),
            );
            skipRest(later, SKIP_NOT_OPENED);
            return;
        }
        sessionId = opened.id;
    } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        out.errored(CHECK_IDS.opens, e);
        skipRest(later, SKIP_NOT_OPENED);
        return;
    }

    // 2. Read.
    let env;
    try {
        env = await ctx.esc.read(ref, sessionId, deadline);
    } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        out.errored(CHECK_IDS.opens, e);
        skipRest(later, "the opened environment could not be read");
        return;
    }
    out.pass(CHECK_IDS.opens, `opened and read (${ctx.duration ? `duration ${ctx.duration.text}` : "default duration"})`);

    // 3. Credentials, pure.
    const logins = findAwsLogins(env);
    const bound = lifetimeBound(ctx, logins);
    const creds = analyzeCredentials(env, { now: ctx.now(), maxLifetimeMs: bound.ms, lifetimeSource: bound.source });
    for (const s of creds.secrets) ctx.redactor.add(s);
    if (creds.credentials) ctx.onAccessKeyId?.(creds.credentials.accessKeyId);
    for (const c of creds.checks) out.checks.push(c);
    result.accessKeyId = creds.accessKeyIdShort ?? null;

    // Expected role: the option, else the definition's literal roleArn when there is exactly one.
    const defRoles = [...new Set(creds.logins.map((l) => l.roleArn).filter((r): r is string => !!r))];
    let expected = ctx.roleArn ? { arn: ctx.roleArn.arn, source: ctx.roleArn.source as RoleSource } : undefined;
    if (!expected && defRoles.length === 1 && parseRoleArn(defRoles[0] as string)) {
        expected = { arn: defRoles[0] as string, source: "definition" };
    }
    result.expectedRole = expected ?? null;

    // 4. STS.
    if (!ctx.sts) {
        out.skip(CHECK_IDS.works, "--no-sts: the credentials were not tried against STS");
        out.skip(CHECK_IDS.role, "--no-sts: the caller identity is unknown");
        return;
    }
    if (!creds.credentials) {
        out.skip(CHECK_IDS.works, "no complete set of credentials to try");
        out.skip(CHECK_IDS.role, "no caller identity");
        return;
    }
    let sts: StsOutcome;
    try {
        result.sts = "called";
        sts = await getCallerIdentity(creds.credentials, ctx.sts, deadline, ctx.requestTimeoutMs);
    } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        out.errored(CHECK_IDS.works, e);
        out.skip(CHECK_IDS.role, "no caller identity");
        return;
    }
    if (sts.kind === "rejected") {
        const r = sts.rejection;
        out.fail(CHECK_IDS.works, `STS refused the credentials (${creds.accessKeyIdShort ?? "?"}): ${r.code}${r.message ? `: ${r.message}` : ""}`);
        out.skip(CHECK_IDS.role, "no caller identity");
        return;
    }
    const id = sts.identity;
    result.callerIdentity = { account: id.account, arn: id.arn };
    const assumed = parseAssumedRoleArn(id.arn);
    if (!assumed) {
        out.fail(CHECK_IDS.works, `the credentials work but belong to ${id.arn}, not an assumed role: they are not role credentials from aws-login oidc`);
    } else {
        out.pass(CHECK_IDS.works, `the credentials work: ${id.arn} (account ${id.account})`);
    }

    // 5. Expected role.
    if (!expected) {
        out.skip(
            CHECK_IDS.role,
            defRoles.length > 1
                ? `the definition logs in to several roles (${defRoles.join(", ")}): give --role-arn`
                : "no expected role: give --role-arn (or --stack-outputs), or use a literal oidc.roleArn in the definition",
        );
        return;
    }
    const want = parseRoleArn(expected.arn);
    const from = expected.source === "option" ? "--role-arn" : expected.source === "stack-outputs" ? "the stack outputs" : "the environment definition";
    if (!assumed || !want) {
        out.fail(CHECK_IDS.role, `expected role ${expected.arn} (from ${from}), got ${id.arn}`);
    } else if (assumed.account === want.account && assumed.roleName === want.roleName && assumed.partition === want.partition) {
        out.pass(CHECK_IDS.role, `assumed-role/${assumed.roleName} in account ${assumed.account} is ${expected.arn} (from ${from})`);
    } else {
        out.fail(
            CHECK_IDS.role,
            `expected role ${expected.arn} (from ${from}), but the credentials belong to ${id.arn}: check oidc.roleArn in the environment`,
        );
    }
}

function lifetimeBound(ctx: VerifyContext, logins: AwsLoginCall[]): { ms: number; source: string } {
    if (ctx.duration) return { ms: ctx.duration.ms, source: `--duration ${ctx.duration.text}` };
    for (const l of logins) {
        const ms = l.duration ? parseGoDuration(l.duration) : undefined;
        if (ms) return { ms, source: `oidc.duration ${l.duration as string} in the definition` };
    }
    return { ms: AWS_LOGIN_DEFAULT_DURATION_MS, source: "aws-login's default of 2h" };
}

/** The check for one `--expect-denied` environment; `error` set when a service could not be used. */
export interface DeniedOutcome {
    id: string;
    check: VerifyCheck;
    error?: ServiceError;
}

/**
 * Opens an environment that must not get in, and reports whether it did. `main` is the environment that should get
 * in (for the fix in the message), when there is one.
 */
export async function checkDenied(ctx: VerifyContext, main: EnvRef | undefined, denied: EnvRef, deadline: Deadline): Promise<DeniedOutcome> {
    const id = `${CHECK_IDS.expectDenied}:${formatEnvRef(denied)}`;
    const pin = main ? `pulumi:environments:org:${main.org}:env:${envNameInOrg(main)}` : "the subject of the environment that should get in";
    const fail = (detail: string): DeniedOutcome => ({ id, check: { id, status: "fail", detail } });
    try {
        const opened = await ctx.esc.open(denied, ctx.duration?.text, deadline);
        if (opened.kind === "rejected") {
            const kinds = opened.diagnostics.map((d) => classifyDiagnostic(d.summary));
            const first = opened.diagnostics[0] ? showDiagnostic(opened.diagnostics[0], envNameInOrg(denied), denied.org).message : opened.message;
            if (kinds.includes("web-identity-denied")) {
                return { id, check: { id, status: "pass", detail: `refused as expected: ${first}` } };
            }
            return fail(
                `refused, but not by the role's trust policy (${first}): this does not prove that sub is pinned; make it differ from the verified environment only in its name`,
            );
        }
        const env = await ctx.esc.read(denied, opened.id, deadline);
        const creds = analyzeCredentials(env, { now: ctx.now(), maxLifetimeMs: Number.MAX_SAFE_INTEGER, lifetimeSource: "" });
        for (const s of creds.secrets) ctx.redactor.add(s);
        if (creds.credentials) ctx.onAccessKeyId?.(creds.credentials.accessKeyId);
        if (!creds.credentials) {
            return fail(
                `opened without an AWS login error but returned no credentials: it proves nothing about the trust policy; point --expect-denied at an environment that opens aws-login with the same role`,
            );
        }
        let who = "";
        if (ctx.sts) {
            try {
                const r = await getCallerIdentity(creds.credentials, ctx.sts, deadline, ctx.requestTimeoutMs);
                who = r.kind === "identity" ? ` as ${r.identity.arn}` : ` (STS refused them: ${r.rejection.code})`;
            } catch (e) {
                if (!(e instanceof ServiceError)) throw e;
                who = "";
            }
        }
        return fail(
            `got in: it received credentials (${shortenKeyId(creds.credentials.accessKeyId)})${who}; pin api.pulumi.com/oidc:sub with StringEquals to ${pin} in the role's trust policy`,
        );
    } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        return { id, check: { id, status: "fail", detail: couldNotVerifyDetail(e) }, error: e };
    }
}
