/**
 * The result shapes `oidc-guard check` and `oidc-guard verify` print with `--format json`, and that
 * `oidc-guard report` reads back. JSON Schemas for both live in verifier/schemas/.
 */
import type { AdmittedSet, Finding, Verdict } from "oidc-guard-policypack/analysis";

export interface ToolInfo {
    name: string;
    version: string;
}

export interface CheckTarget {
    /** The input file, relative to the working directory when it lies below it. */
    file: string;
    /** Set when the target is a resource inside a stack export, preview or AWS listing. */
    resource?: { urn: string; type: string; name: string };
    /** The 1-based line the resource is declared on, when the input says (CloudFormation: the logical id's line). */
    line?: number;
}

export interface CheckResult {
    target: CheckTarget;
    verdict: Verdict;
    findings: Finding[];
    /** Positive evidence: what the document admits from Pulumi issuers. */
    admitted?: AdmittedSet[];
    notes?: string[];
}

export interface CheckReport {
    tool: ToolInfo;
    results: CheckResult[];
    summary: Record<Verdict, number>;
}

export type VerifyCheckStatus = "pass" | "fail" | "skip";

export interface VerifyCheck {
    id: string;
    status: VerifyCheckStatus;
    detail: string;
}

export interface VerifyReport {
    tool: ToolInfo;
    /** `<org>/<project>/<env>` */
    environment: string;
    verdict: "verified" | "failed" | "error";
    checks: VerifyCheck[];
    callerIdentity: { account: string; arn: string } | null;
    /** The role the credentials must belong to and where that came from; null when none was known. */
    expectedRole?: { arn: string; source: "option" | "stack-outputs" | "definition" } | null;
    /** The access key id, shortened (`ASIA…WXYZ`); null when no credentials came back. */
    accessKeyId?: string | null;
    /** Whether STS GetCallerIdentity was called; `--no-sts` skips it. */
    sts?: "called" | "skipped";
    /** ESC diagnostics from a failed open, each as `<env>:<line>:<col>: <summary>`, with a hint when one is known. */
    diagnostics?: { message: string; hint?: string }[];
    /** Set when verdict is `error`: why the environment could not be verified. */
    error?: { kind: string; message: string } | null;
    /** Wall-clock time of this verification in milliseconds. */
    durationMs?: number;
}

/** `oidc-guard verify` over several environments (several refs or `--all <org>`). */
export interface VerifyBatchReport {
    tool: ToolInfo;
    /** Worst verdict over the results and batch checks: failed, then error, then verified. */
    verdict: "verified" | "failed" | "error";
    results: VerifyReport[];
    /** Checks about the batch as a whole: one per `--expect-denied` environment. */
    checks: VerifyCheck[];
    /** With `--all`: environments listed but not verified, and why (e.g. their definition opens no aws-login). */
    skipped?: { environment: string; reason: string }[];
    summary: { verified: number; failed: number; error: number };
}
