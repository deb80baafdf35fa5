/**
 * Public types of the analysis core. Pure: nothing here imports @pulumi/*.
 * The pack, the `oidc-guard` CLI, the reports and the tests all speak these types.
 */

import type { BlastClass, TokenKind } from "./grammar.js";
export type { BlastClass, TokenKind } from "./grammar.js";

/** A web-identity token as IAM sees it. `issuer` is the IAM provider path, e.g. `api.pulumi.com/oidc`. */
export interface PulumiToken {
    issuer: string;
    aud: string;
    sub: string;
}

export type Severity = "low" | "medium" | "high" | "critical";

/** pass: compliant (or unusable from Pulumi); fail: a violation; unknown: cannot be decided yet (preview); error: malformed, fail closed. */
export type Verdict = "pass" | "fail" | "unknown" | "error";

/** Where in a trust policy document a finding points. All fields optional: a document-level problem has none. */
export interface FindingLocation {
    /** Index into the `Statement` array (0 when `Statement` is a single object). */
    statementIndex?: number;
    /** Condition operator as written, e.g. `StringLike` or `ForAnyValue:StringEquals`. */
    operator?: string;
    /** Condition key as written in the document, e.g. `api.pulumi.com/oidc:sub`. */
    conditionKey?: string;
}

export interface Finding {
    /** One of the ids in `RULES` (rules.ts). */
    ruleId: string;
    severity: Severity;
    /** What is wrong, in one or two sentences. Never contains credentials. */
    message: string;
    /**
     * Where, as a path into the document: `Statement[1]`, `Statement[0].Condition.StringLike["api.pulumi.com/oidc:sub"]`,
     * `Statement[2].Principal`, or `""` for the document as a whole. Prefixed by the caller with the property name
     * (e.g. `assumeRolePolicy.`) where useful.
     */
    path: string;
    location: FindingLocation;
    /** How to fix it. */
    remediation: string;
    /** A token the document admits and the pin forbids, where one exists: one token Pulumi can issue. */
    counterexample: PulumiToken | null;
    /** The kind of the counterexample token. */
    tokenKind?: TokenKind;
    /** The counterexample in words, e.g. "a Deployments token for stack acme/core/dev (operation update)". */
    tokenDescription?: string;
    /**
     * Every class of unintended token the statement admits, worst first, each with its own counterexample
     * (set on the mandatory findings of a failing statement).
     */
    blastRadius?: BlastEntry[];
    /** Readings taken where IAM's behaviour is unclear, that this finding rests on (DOMAIN.md §5). */
    readings?: string[];
    /** True for advisory findings (likely mistakes, project-wide scope): they never make the verdict `fail`. */
    advisory?: boolean;
}

/** One class of unintended tokens a statement admits. */
export interface BlastEntry {
    class: BlastClass;
    /** What gets in, in an auditor's words. */
    description: string;
    counterexample: PulumiToken;
    tokenKind: TokenKind;
    tokenDescription: string;
}

/** What gets in of one token kind, in an auditor's words. */
export interface AdmittedKind {
    kind: TokenKind;
    description: string;
}

/** Positive evidence: what a document lets in, per issuer. */
export interface AdmittedSet {
    /** IAM provider path of the issuer, e.g. `api.pulumi.com/oidc`. */
    issuer: string;
    /** The audiences admitted, when finitely many (literal values); null when unbounded (a wildcard or no pin). */
    audiences: string[] | null;
    /** The subject patterns admitted, as written (globs under StringLike are shown with `*`/`?`). */
    subjects: string[];
    /** Indices of the statements that admit these tokens. */
    statements: number[];
    /** Per token kind, what gets in, in words an auditor reads. */
    kinds?: AdmittedKind[];
}

export interface AnalysisOptions {
    /**
     * Pulumi organizations whose tokens may get in. Allowed audiences are then `<org>` and `aws:<org>`,
     * and subjects must name one of them. Empty or absent: `aud` must be pinned to literal values and each
     * admitted `sub` must name the organization of its `aud`.
     */
    organizations?: readonly string[];
    /** Explicit allowed audiences; replaces the ones derived from `organizations`. */
    audiences?: readonly string[];
    /** Globs (StringLike syntax) for allowed subjects; when set, replaces the default subject scope (admitted ⊆ allowed). */
    allowedSubjects?: readonly string[];
    /** Issuer host/paths treated as Pulumi issuers. Default: DEFAULT_ISSUERS. */
    issuers?: readonly string[];
    /** Budget of automaton states explored per document before failing closed with verdict `error`. */
    maxStates?: number;
    /**
     * Time budget per document in ms (default DEFAULT_TIME_BUDGET_MS, 2000), counted from the call (reading the
     * document and building its automata included), before failing closed with verdict `error`.
     */
    timeBudgetMs?: number;
    /**
     * How far a subject may reach inside one organization. "project" (default): every environment or stack of one
     * named project is allowed and reported by the advisory rule `oidc-trust-sub-project-wide`; "environment":
     * only named environments or stacks (any operation) pass.
     */
    subjectScope?: SubjectScope;
}

export type SubjectScope = "project" | "environment";
export const SUBJECT_SCOPES: readonly SubjectScope[] = ["project", "environment"];

export interface TrustAnalysis {
    verdict: Verdict;
    findings: Finding[];
    /** Informational notes (e.g. "no Pulumi token can assume this role"). */
    notes: string[];
    /** What the document admits from Pulumi issuers (empty when nothing). */
    admitted: AdmittedSet[];
    /** True when at least one Pulumi token can assume the role. */
    usableFromPulumi: boolean;
    /** When verdict is `unknown`: the paths of the values unknown at preview. */
    unknownPaths?: string[];
    /** Readings taken where IAM's behaviour is unclear (empty when none was needed). */
    readings?: string[];
}
