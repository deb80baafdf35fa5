/** Gathers the roles and OIDC providers of a stack (AnalyzeStack outputs) for `analyzeStackAudiences`. */
import type { PolicyResource, ReportViolation } from "@pulumi/policy";
import { clientIdsProperty, trustPolicyProperty, type StackAudienceFinding, type StackProviderInput, type StackRoleInput } from "../../analysis/index.js";
import { formatFinding } from "./messages.js";
import { readDeep, throwUnknown } from "./sdk.js";

export interface StackInputs {
    roles: StackRoleInput[];
    providers: StackProviderInput[];
    /** Trust policy property of each role, by URN (for message paths). */
    propertyOf: Map<string, string>;
}

/**
 * Reads every role's trust policy and every provider's `arn`, `url` and client IDs through the SDK's proxy. Unknown
 * parts stay in place as engine sentinels, so the analysis reports them per resource instead of one unknown
 * stopping the check of the whole stack.
 */
export function stackInputs(resources: readonly PolicyResource[]): StackInputs {
    const out: StackInputs = { roles: [], providers: [], propertyOf: new Map() };
    for (const r of resources) {
        const property = trustPolicyProperty(r.type);
        if (property !== undefined) {
            out.roles.push({ urn: r.urn, trustPolicy: readDeep(r.props, property).value });
            out.propertyOf.set(r.urn, property);
            continue;
        }
        const idsProperty = clientIdsProperty(r.type);
        if (idsProperty !== undefined) {
            const arn = readDeep(r.props, "arn");
            out.providers.push({
                urn: r.urn,
                // An ARN unknown at preview (a provider being created) is matched by URL instead.
                arn: typeof arn.value === "string" && arn.unknownPaths.length === 0 ? arn.value : null,
                url: readDeep(r.props, "url").value,
                clientIds: readDeep(r.props, idsProperty).value,
            });
        }
    }
    return out;
}

/**
 * Reports the findings this policy owns (chosen by `select`) against their roles, then, when any role could not be
 * checked because of values unknown at preview, throws the SDK's UnknownValueError so the preview shows an advisory
 * "can't run policy ... during preview" naming those roles (the violations reported before it are kept).
 */
export function reportStackFindings(
    findings: readonly StackAudienceFinding[],
    inputs: StackInputs,
    select: (f: StackAudienceFinding) => boolean,
    reportViolation: ReportViolation,
): void {
    const undecided: StackAudienceFinding[] = [];
    for (const f of findings) {
        if (f.ruleId === "oidc-trust-unknown-at-preview") undecided.push(f);
        else if (select(f)) reportViolation(formatFinding(f, inputs.propertyOf.get(f.urn) ?? ""), f.urn);
    }
    if (undecided.length > 0) {
        const roles = [...new Set(undecided.map((f) => f.urn))];
        throwUnknown(
            `the audiences of ${roles.length} role(s) cannot be verified during preview; enforced at update (${undecided.map((f) => `${f.urn}: ${f.message}`).join("; ")})`,
            null,
            [],
        );
    }
}
