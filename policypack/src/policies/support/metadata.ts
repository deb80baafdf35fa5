/** Policy metadata from the rule catalog (analysis/rules.ts), the single source of truth for texts and severities. */
import type { Policy } from "@pulumi/policy";
import { RULES, type RuleMeta, type Severity } from "../../analysis/index.js";

const SEVERITY_ORDER: readonly Severity[] = ["low", "medium", "high", "critical"];

type Metadata = Required<Pick<Policy, "description" | "displayName" | "severity" | "remediationSteps" | "url" | "tags">>;

/** What a policy reporting several rules says of itself: the catalog's texts are per rule. */
export interface OwnTexts {
    displayName: string;
    /**
     * One sentence. The SDK puts the description in front of every violation's message and sends it again as the
     * diagnostic's description, so the rules' descriptions joined (955 characters for the trust policy's six) would
     * open each finding with text about the other five, and make every diagnostic 2 KB longer.
     */
    description: string;
}

/**
 * Metadata of a policy that reports the given catalog rules: the rule's own description and title when it is one,
 * else `own` (required then); the remediation steps of all of them, the highest severity, the first rule's URL,
 * and the union of their tags.
 */
export function metadataFromRules(rules: readonly RuleMeta[], own?: OwnTexts): Metadata {
    const first = rules[0];
    if (!first) throw new Error("metadataFromRules: no rules");
    if (rules.length > 1 && own === undefined) {
        throw new Error(`metadataFromRules: a policy reporting ${rules.length} rules needs a display name and description of its own`);
    }
    const severity = rules
        .map((r) => r.severity)
        .reduce((a, b) => (SEVERITY_ORDER.indexOf(b) > SEVERITY_ORDER.indexOf(a) ? b : a));
    return {
        description: own?.description ?? first.description,
        displayName: own?.displayName ?? first.title,
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
