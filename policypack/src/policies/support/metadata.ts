/** Policy metadata from the rule catalog (analysis/rules.ts), the single source of truth for texts and severities. */
import type { Policy } from "@pulumi/policy";
import { RULES, type RuleMeta, type Severity } from "../../analysis/index.js";

const SEVERITY_ORDER: readonly Severity[] = ["low", "medium", "high", "critical"];

type Metadata = Required<Pick<Policy, "description" | "displayName" | "severity" | "remediationSteps" | "url" | "tags">>;

/**
 * Metadata of a policy that reports the given catalog rules: descriptions and remediation steps of all of them,
 * the highest severity, the first rule's URL and title (unless `displayName` is given: the catalog has no
 * per-policy title for a policy reporting several rules), and the union of their tags.
 */
export function metadataFromRules(rules: readonly RuleMeta[], displayName?: string): Metadata {
    const first = rules[0];
    if (!first) throw new Error("metadataFromRules: no rules");
    const severity = rules
        .map((r) => r.severity)
        .reduce((a, b) => (SEVERITY_ORDER.indexOf(b) > SEVERITY_ORDER.indexOf(a) ? b : a));
    return {
        description: rules.map((r) => r.description).join(" "),
        displayName: displayName ?? first.title,
        severity,
        remediationSteps:
            rules.length === 1 ? first.remediation : rules.map((r) => `- ${r.title}: ${r.remediation}`).join("\n"),
        url: first.url,
        tags: [...new Set(rules.flatMap((r) => r.tags))],
    };
}

/** The catalog rules a policy reports (those whose `policy` is its name). */
export function rulesOfPolicy(policyName: string): RuleMeta[] {
    const rules = RULES.filter((r) => r.policy === policyName);
    if (rules.length === 0) throw new Error(`no rule in the catalog names policy '${policyName}'`);
    return rules;
}
