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
}
