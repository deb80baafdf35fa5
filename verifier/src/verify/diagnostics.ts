/**
 * ESC diagnostics from a failed open (HTTP 400), shown as the esc CLI shows them: `<env>:<line>:<col>: <summary>`,
 * with a hint for the AWS failures that have a known fix.
 */
import type { EscDiagnostic } from "./esc-types.js";
import { oneLine } from "../redact.js";

export interface ShownDiagnostic {
    message: string;
    hint?: string;
}

/** What kind of aws-login failure a diagnostic reports. */
export type AwsLoginFailure = "web-identity-denied" | "max-session-duration" | "missing-provider" | "audience" | "other";

/** Classifies a diagnostic summary (from AWS's error text as ESC relays it, pulumi/esc#256). */
export function classifyDiagnostic(summary: string): AwsLoginFailure {
    const s = summary;
    if (/MaxSessionDuration/i.test(s) || /DurationSeconds exceeds/i.test(s)) return "max-session-duration";
    if (/No OpenIDConnect provider found/i.test(s)) return "missing-provider";
    if (/Incorrect token audience/i.test(s)) return "audience";
    if (/AssumeRoleWithWebIdentity/.test(s) && /AccessDenied|Not authorized/i.test(s)) return "web-identity-denied";
    return "other";
}

function hintFor(kind: AwsLoginFailure, envName: string, org: string): string | undefined {
    switch (kind) {
        case "web-identity-denied":
            return `the role's trust policy does not admit this environment's token: it must allow sts:AssumeRoleWithWebIdentity for the provider api.pulumi.com/oidc with api.pulumi.com/oidc:aud = aws:${org} and api.pulumi.com/oidc:sub = pulumi:environments:org:${org}:env:${envName} (check also that roleArn names the right role)`;
        case "max-session-duration":
            return "the requested session is longer than the role's MaxSessionDuration (1 h unless raised): lower oidc.duration in the environment (aws-login defaults to 2h) or raise the role's MaxSessionDuration";
        case "missing-provider":
            return `the AWS account has no IAM OIDC provider for https://api.pulumi.com/oidc: create it with client ID aws:${org} (one provider per URL per account; add audiences to its client ID list)`;
        case "audience":
            return `the OIDC provider's client ID list does not contain the token's audience: add aws:${org} to it`;
        case "other":
            return undefined;
        default:
            return kind satisfies never;
    }
}

/** A short statement of what a classified failure means, for a check's one-line detail. */
export function describeFailure(kind: AwsLoginFailure): string | undefined {
    switch (kind) {
        case "web-identity-denied":
            return "AWS refused AssumeRoleWithWebIdentity for this environment's token";
        case "max-session-duration":
            return "the requested session is longer than the role's MaxSessionDuration";
        case "missing-provider":
            return "the AWS account has no OIDC provider for api.pulumi.com/oidc";
        case "audience":
            return "the OIDC provider does not list the token's audience";
        case "other":
            return undefined;
        default:
            return kind satisfies never;
    }
}

/** `<env>:<line>:<col>: <summary>` (or `<env>: <summary>` without a range), with a hint when one is known. */
export function showDiagnostic(d: EscDiagnostic, fallbackEnv: string, org: string): ShownDiagnostic {
    const env = d.range?.environment || fallbackEnv;
    const where = d.range ? `${env}:${d.range.begin.line}:${d.range.begin.column}` : env;
    // Keep ESC's multi-line summaries on one line each so output stays line-oriented.
    const summary = oneLine(d.summary.replace(/\r?\n\t?/g, " | "), 1000);
    const hint = hintFor(classifyDiagnostic(d.summary), fallbackEnv, org);
    return hint ? { message: `${where}: ${summary}`, hint } : { message: `${where}: ${summary}` };
}

/** Most diagnostics shown for one failed open (a provider's failure gives one to three). */
export const MAX_SHOWN_DIAGNOSTICS = 20;

/**
 * Each diagnostic shown, up to {@link MAX_SHOWN_DIAGNOSTICS}; the rest are counted in a last line. A body of thousands
 * (ESC's answers are bounded only by their size) would bury the first, which names the cause, in the report.
 */
export function showDiagnostics(ds: readonly EscDiagnostic[], fallbackEnv: string, org: string): ShownDiagnostic[] {
    const shown = ds.slice(0, MAX_SHOWN_DIAGNOSTICS).map((d) => showDiagnostic(d, fallbackEnv, org));
    const more = ds.length - shown.length;
    if (more > 0) shown.push({ message: `${fallbackEnv}: ${more.toLocaleString("en-US")} more diagnostic${more > 1 ? "s" : ""} not shown` });
    return shown;
}
