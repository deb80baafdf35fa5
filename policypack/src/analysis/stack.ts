/**
 * Stack-level check: the audiences a role admits must be among its provider's client IDs. STS accepts a web
 * identity token only when its `aud` is in the provider's client ID list, so a role pinned to an audience the
 * provider does not list is unusable, and a role without an `aud` pin admits whatever the list holds.
 * Pure: no @pulumi imports. AWS: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
 */
import { BoundedCache } from "./automata.js";
import { parseProviderArn, normalizeIssuer, type ProviderArn } from "./principal.js";
import { isPulumiIssuer } from "./provider.js";
import { rule } from "./rules.js";
import { analyzeTrustPolicy } from "./trust-policy.js";
import type { AdmittedSet, AnalysisOptions, Finding, PulumiToken, TrustAnalysis } from "./types.js";
import { findUnknowns } from "./unknowns.js";

export interface StackRoleInput {
    urn: string;
    /** The trust policy (string or object). */
    trustPolicy: unknown;
    /**
     * `analyzeTrustPolicy(trustPolicy, options)` when the caller already has it (saves a second analysis). A verdict
     * `pass` or `fail` also says that the trust policy holds no value unknown at preview (the analysis would have
     * been `unknown`), so it is not looked for again.
     */
    analysis?: Pick<TrustAnalysis, "verdict" | "admitted">;
}

export interface StackProviderInput {
    urn: string;
    /** Provider ARN when known (e.g. from state outputs), else null. */
    arn: string | null;
    url: unknown;
    clientIds: unknown;
    /**
     * Set by a caller that could not read the client IDs (a stack export's ciphertext, `[secret]` in
     * `pulumi preview --json`): why, as the rest of a sentence about them ("are stored as an encrypted secret"). Each
     * role that trusts the provider then gets an advisory finding (ruleId `oidc-trust-unreadable`) instead of the
     * comparison, as for client IDs unknown at preview: never a silent pass. The pack never sets it (the engine gives
     * it plaintext).
     */
    clientIdsUnreadable?: string;
}

export interface StackAudienceFinding extends Finding {
    /** URN of the role the finding is about. */
    urn: string;
    /**
     * "advisory" when the role trusts a provider outside the stack, or when the check cannot be made during
     * preview (ruleId `oidc-trust-unknown-at-preview`) or at all (the caller could not read the client IDs: ruleId
     * `oidc-trust-unreadable`); "mandatory" for an audience the provider does not list.
     */
    level: "advisory" | "mandatory";
}

interface PreparedProvider {
    urn: string;
    issuer: string;
    arn: ProviderArn | null;
    /**
     * The client IDs; "unknown" at preview; "invalid" when not a list of strings (the provider policy reports it);
     * `{unreadable}` when the caller could not read them, with why.
     */
    clientIds: string[] | "unknown" | "invalid" | { unreadable: string };
}

/**
 * For each role that admits Pulumi tokens through a `Federated` provider ARN: when the provider is in `providers`
 * (matched by its ARN when known, else by its URL), every admitted audience must be among its client IDs
 * (level `mandatory`); when it is not, an `advisory` finding says so. Values unknown at preview give `advisory`
 * findings with ruleId `oidc-trust-unknown-at-preview`, and client IDs the caller could not read
 * ({@link StackProviderInput.clientIdsUnreadable}) ones with ruleId `oidc-trust-unreadable`, never a pass. Roles whose trust policy is malformed are
 * skipped here: `analyzeTrustPolicy` fails them closed on its own.
 */
export function analyzeStackAudiences(
    roles: readonly StackRoleInput[],
    providers: readonly StackProviderInput[],
    options: AnalysisOptions = {},
): StackAudienceFinding[] {
    const check = stackAudienceCheck(providers, options);
    const findings: StackAudienceFinding[] = [];
    for (const role of roles) for (const f of check(role)) findings.push(f);
    return findings;
}

/**
 * {@link analyzeStackAudiences} one role at a time: the providers are prepared once, and each call gives the findings
 * of one role (the same, in the same order, as the whole list gives for it). A caller that checks a stack role by
 * role keeps no role's trust policy alive after its call (`check` over 100,000 roles held every parsed policy until
 * the end).
 */
export function stackAudienceCheck(
    providers: readonly StackProviderInput[],
    options: AnalysisOptions = {},
): (role: StackRoleInput) => StackAudienceFinding[] {
    const meta = rule("oidc-provider-audiences-match");
    const outsideMeta = rule("oidc-provider-outside-stack");
    const unknownMeta = rule("oidc-trust-unknown-at-preview");
    const unreadableMeta = rule("oidc-trust-unreadable");
    const prepared: PreparedProvider[] = [];
    // Providers whose URL is unknown at preview might be the one a role trusts.
    let unresolvedProviders = 0;
    for (const p of providers) {
        if (findUnknowns(p.url).length > 0) {
            unresolvedProviders++;
            continue;
        }
        if (typeof p.url !== "string" || !isPulumiIssuer(p.url, options)) continue;
        const arn = p.arn !== null && findUnknowns(p.arn).length === 0 ? parseProviderArn(p.arn) : null;
        const ids = p.clientIds ?? [];
        const clientIds =
            p.clientIdsUnreadable !== undefined
                ? { unreadable: p.clientIdsUnreadable }
                : findUnknowns(ids).length > 0
                  ? "unknown"
                  : Array.isArray(ids) && ids.every((v): v is string => typeof v === "string")
                    ? ids
                    : "invalid";
        prepared.push({ urn: p.urn, issuer: normalizeIssuer(p.url), arn, clientIds });
    }

    const unknown = (urn: string, message: string, path = ""): StackAudienceFinding => ({
        ruleId: unknownMeta.id,
        severity: unknownMeta.severity,
        message,
        path,
        location: {},
        remediation: unknownMeta.remediation,
        counterexample: null,
        urn,
        level: "advisory",
    });

    // Made only for a finding (most roles have none).
    const pathOf = (statementIndex: number): string => `Statement[${statementIndex}].Principal.Federated`;
    const baseOf = (urn: string, statementIndex: number) => ({
        ruleId: meta.id,
        severity: meta.severity,
        path: pathOf(statementIndex),
        location: { statementIndex },
        urn,
    });

    return (role) => {
        const findings: StackAudienceFinding[] = [];
        const decided = role.analysis !== undefined && (role.analysis.verdict === "pass" || role.analysis.verdict === "fail");
        const unknownPaths = decided ? [] : findUnknowns(role.trustPolicy);
        if (unknownPaths.length > 0) {
            findings.push(
                unknown(
                    role.urn,
                    `The role's trust policy is unknown during preview (${unknownPaths.map((p) => p || "the whole value").join(", ")}); its audiences are checked against the provider at update.`,
                ),
            );
            return findings;
        }
        const analysis = role.analysis ?? analyzeTrustPolicy(role.trustPolicy, options);
        if (analysis.verdict === "unknown") {
            findings.push(unknown(role.urn, "The role's trust policy is unknown during preview; checked at update."));
            return findings;
        }
        if (analysis.verdict === "error") return findings;
        const statements = statementsOf(role.trustPolicy);
        if (!statements) return findings;

        for (const set of analysis.admitted) {
            for (const { arn, text, statementIndex } of federatedArns(statements, set)) {
                const provider = matchProvider(prepared, arn);
                if (!provider) {
                    if (unresolvedProviders > 0) {
                        findings.push(
                            unknown(
                                role.urn,
                                `The role trusts provider ${text}; a provider in this stack has a URL unknown during preview, so whether it is that provider is decided at update.`,
                                pathOf(statementIndex),
                            ),
                        );
                        continue;
                    }
                    findings.push({
                        ...baseOf(role.urn, statementIndex),
                        ruleId: outsideMeta.id,
                        severity: outsideMeta.severity,
                        message: `The role trusts Pulumi OIDC provider ${text}, which is not managed in this stack, so the pack cannot check that its client IDs include the audiences the role admits (${describeAudiences(set.audiences)}). Check it with 'aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${text}', or manage the provider in this stack.`,
                        remediation: `Confirm that provider ${text} lists the role's audiences as client IDs, or manage it in this stack.`,
                        counterexample: null,
                        level: "advisory",
                    });
                    continue;
                }
                if (provider.clientIds === "unknown") {
                    findings.push(
                        unknown(
                            role.urn,
                            `The client IDs of provider ${provider.urn} are unknown during preview; the role's audiences are checked against them at update.`,
                            pathOf(statementIndex),
                        ),
                    );
                    continue;
                }
                if (typeof provider.clientIds === "object" && !Array.isArray(provider.clientIds)) {
                    findings.push({
                        ...baseOf(role.urn, statementIndex),
                        ruleId: unreadableMeta.id,
                        severity: unreadableMeta.severity,
                        message: `The client IDs of provider ${provider.urn} ${provider.clientIds.unreadable}, so the role's audiences cannot be checked against them.`,
                        remediation: `Check the stack exported with \`pulumi stack export --show-secrets\` (keep that file private), or compare the role's audiences with the client IDs \`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${text}\` lists.`,
                        counterexample: null,
                        level: "advisory",
                    });
                    continue;
                }
                // A malformed client ID list is the provider policy's finding; nothing can be compared here.
                if (provider.clientIds === "invalid") continue;
                const listed = provider.clientIds;
                if (set.audiences === null) {
                    findings.push({
                        ...baseOf(role.urn, statementIndex),
                        message: `The role trusts provider ${text} (${provider.urn}) without pinning aud, so it admits every audience the provider lists (${listed.map((a) => `'${a}'`).join(", ") || "none"}). Pin 'api.pulumi.com/oidc:aud' with StringEquals to the one audience the role is for.`,
                        remediation: meta.remediation,
                        counterexample: listed.length > 0 ? tokenFor(set, listed[0]!) : null,
                        level: "mandatory",
                    });
                    continue;
                }
                if (set.audiences.every((a) => listed.includes(a))) continue;
                const missing = set.audiences.filter((a) => !listed.includes(a));
                findings.push({
                    ...baseOf(role.urn, statementIndex),
                    message: `The role admits aud ${missing.map((a) => `'${a}'`).join(", ")} from provider ${text} (${provider.urn}), but the provider's client IDs are ${listed.map((a) => `'${a}'`).join(", ") || "empty"}: STS rejects such tokens, so the role's pin and the provider disagree. Add ${missing.map((a) => `'${a}'`).join(", ")} to the provider's client IDs, or change the role's aud condition to a listed audience.`,
                    remediation: meta.remediation,
                    counterexample: null,
                    level: "mandatory",
                });
            }
        }
        return findings;
    };
}

function describeAudiences(audiences: string[] | null): string {
    return audiences === null ? "any audience: aud is not pinned" : audiences.map((a) => `'${a}'`).join(", ");
}

/** A token the role and provider both let in: the first listed audience with the first admitted subject. */
function tokenFor(set: AdmittedSet, aud: string): PulumiToken {
    const sub = set.subjects[0] ?? "*";
    // Globs stand for any run of characters; show a concrete subject.
    return { issuer: set.issuer, aud, sub: sub.replace(/\*/g, "any").replace(/\?/g, "x") };
}

/** The `Statement` list of a trust policy given as JSON text or an object; null when it cannot be read. */
function statementsOf(doc: unknown): unknown[] | null {
    let value = doc;
    if (typeof value === "string") {
        try {
            value = JSON.parse(value) as unknown;
        } catch {
            return null;
        }
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
    const statement = (value as Record<string, unknown>)["Statement"];
    if (Array.isArray(statement)) return statement as unknown[];
    return statement !== null && typeof statement === "object" ? [statement] : null;
}

/** The `Federated` provider ARNs of the statements that admit `set`, for its issuer. */
function federatedArns(
    statements: unknown[],
    set: AdmittedSet,
): { arn: ProviderArn; text: string; statementIndex: number }[] {
    const issuer = normalizedIssuer(set.issuer);
    const out: { arn: ProviderArn; text: string; statementIndex: number }[] = [];
    for (const statementIndex of set.statements) {
        const statement = statements[statementIndex];
        if (statement === null || typeof statement !== "object") continue;
        const principal = (statement as Record<string, unknown>)["Principal"];
        if (principal === null || typeof principal !== "object") continue;
        // Principal keys are case-sensitive in IAM (`Federated`), but be lenient about the key's case: the first key
        // that reads `federated` in any case.
        let federated: unknown;
        let found = false;
        for (const k of Object.keys(principal)) {
            if (k === "Federated" || k.toLowerCase() === "federated") {
                federated = (principal as Record<string, unknown>)[k];
                found = true;
                break;
            }
        }
        if (!found) continue;
        const values: readonly unknown[] = Array.isArray(federated) ? (federated as unknown[]) : [federated];
        for (const v of values) {
            if (typeof v !== "string") continue;
            const arn = providerArnOf(v);
            if (!arn || arn.normalizedIssuer !== issuer || out.some((o) => o.text === v)) continue;
            out.push({ arn, text: v, statementIndex });
        }
    }
    return out;
}

/** {@link normalizeIssuer} of the last issuer asked for, kept (a stack's roles admit one or two issuers). */
let lastIssuer: { issuer: string; normalized: string } | undefined;
function normalizedIssuer(issuer: string): string {
    if (lastIssuer === undefined || lastIssuer.issuer !== issuer) lastIssuer = { issuer, normalized: normalizeIssuer(issuer) };
    return lastIssuer.normalized;
}

/** Parsed provider ARNs by text (the roles of a stack name the same few providers). */
const ARN_MEMO_ENTRIES = 1024;
const arnMemo = new BoundedCache<string, (ProviderArn & { normalizedIssuer: string }) | null>(ARN_MEMO_ENTRIES);

function providerArnOf(text: string): (ProviderArn & { normalizedIssuer: string }) | null {
    let known = arnMemo.get(text);
    if (known === undefined) {
        const arn = parseProviderArn(text);
        known = arn ? { ...arn, normalizedIssuer: normalizeIssuer(arn.issuer) } : null;
        arnMemo.set(text, known);
    }
    return known;
}

/** The stack's provider for a role's ARN: by ARN when the provider's is known, else by issuer URL. */
function matchProvider(providers: PreparedProvider[], arn: ProviderArn): PreparedProvider | undefined {
    const byArn = providers.find(
        (p) =>
            p.arn !== null &&
            p.arn.issuer === arn.issuer &&
            p.arn.partition === arn.partition &&
            (p.arn.account === arn.account || arn.account === "*"),
    );
    if (byArn) return byArn;
    return providers.find((p) => p.arn === null && p.issuer === arn.issuer);
}
