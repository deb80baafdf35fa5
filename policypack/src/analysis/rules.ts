/**
 * The rule catalog: one source of truth for ids, titles, severities, remediation and doc URLs.
 * The pack's policies, the CLI's findings and the reports all read their metadata from here. Each rule's `url` is
 * its page, docs/rules/<id>.md (a test fails when a rule has no page or a page has no rule). The checks of
 * `oidc-guard verify` are rules too, but they live with the verifier (verifier/src/verify/rules.ts).
 */
import type { Severity } from "./types.js";
import { ruleDocsUrl } from "./constants.js";

export interface RuleMeta {
    id: string;
    /** The pack policy that reports this rule. */
    policy: string;
    title: string;
    description: string;
    severity: Severity;
    remediation: string;
    url: string;
    tags: string[];
}

const RULE_LIST = [
    {
        id: "oidc-trust-aud-pinned",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy pins the Pulumi audience",
        description:
            "Every Pulumi token a role admits must carry an allowed audience (`<org>` or `aws:<org>`), matched with StringEquals.",
        severity: "critical",
        remediation:
            'Add `"StringEquals": {"api.pulumi.com/oidc:aud": "aws:<org>"}` (or `<org>` for Deployments and the legacy `default` project) to every Allow statement that trusts the Pulumi provider.',
        url: ruleDocsUrl("oidc-trust-aud-pinned"),
        tags: ["iam", "oidc", "pulumi", "trust-policy"],
    },
    {
        id: "oidc-trust-sub-pinned",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy pins the Pulumi subject",
        description:
            "Every Pulumi token a role admits must carry a subject inside the allowed scope: exact ESC environments or Deployments stacks, or a wildcard confined to the last segment under a literal organization and project (or stack).",
        severity: "high",
        remediation:
            'Add `"StringEquals": {"api.pulumi.com/oidc:sub": "pulumi:environments:org:<org>:env:<project>/<environment>"}` (or the Deployments form `pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:<op>:scope:write`) to every Allow statement that trusts the Pulumi provider.',
        url: ruleDocsUrl("oidc-trust-sub-pinned"),
        tags: ["iam", "oidc", "pulumi", "trust-policy"],
    },
    {
        id: "oidc-trust-document-valid",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy is a well-formed IAM policy",
        description:
            "A trust policy the analysis cannot read unambiguously (invalid JSON, unknown condition operator, a key repeated in different case, wrong types) fails closed.",
        severity: "high",
        remediation: "Fix the document so that it is valid IAM policy grammar.",
        url: ruleDocsUrl("oidc-trust-document-valid"),
        tags: ["iam", "trust-policy"],
    },
    {
        id: "oidc-trust-unknown-at-preview",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy cannot be verified during preview",
        description: "Values unknown at preview are reported, never passed; the policy is enforced at update.",
        severity: "medium",
        remediation: "Nothing to do now: the trust policy is checked when `pulumi up` knows its value.",
        url: ruleDocsUrl("oidc-trust-unknown-at-preview"),
        tags: ["preview"],
    },
    {
        id: "oidc-trust-unreadable",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy is stored encrypted and cannot be checked",
        description:
            "A trust policy held as a secret (ciphertext in a stack export, `[secret]` in preview JSON) cannot be analyzed; it is reported, never passed.",
        severity: "medium",
        remediation:
            "Check `pulumi stack export --show-secrets` output (keep it private), check the role in AWS with `aws iam get-role`, or let the policy pack check it during `pulumi up`.",
        url: ruleDocsUrl("oidc-trust-unreadable"),
        tags: ["secrets"],
    },
    {
        id: "oidc-trust-principal-unresolved",
        policy: "pulumi-oidc-role-trust-pinned",
        title: "Trust policy principal cannot be told apart from a Pulumi provider",
        description:
            "A Federated principal that is a placeholder (`${oidc_provider_arn}`, a template variable in the provider path) with no condition naming any issuer's keys may be Pulumi's provider once resolved: the verdict is unknown, never pass.",
        severity: "medium",
        remediation:
            "Check the rendered trust policy (after the template is resolved), or name the provider ARN literally and pin `api.pulumi.com/oidc:aud` and `:sub`.",
        url: ruleDocsUrl("oidc-trust-principal-unresolved"),
        tags: ["iam", "oidc", "pulumi", "trust-policy", "ambiguity"],
    },
    {
        id: "oidc-trust-sub-project-wide",
        policy: "pulumi-oidc-role-trust-advisories",
        title: "Trust policy admits every environment or stack of a project",
        description:
            "With subjectScope \"project\" (the default) a subject wildcard over the environments or stacks of one named project is allowed; it is reported so an auditor sees it (advisory).",
        severity: "low",
        remediation:
            "Name the environments (`pulumi:environments:org:<org>:env:<project>/<environment>`) or stacks (`pulumi:deploy:org:<org>:project:<project>:stack:<stack>:operation:*:scope:write`) the role is for, or accept the project-wide scope.",
        url: ruleDocsUrl("oidc-trust-sub-project-wide"),
        tags: ["iam", "oidc", "pulumi", "trust-policy", "scope"],
    },
    {
        id: "oidc-trust-issuer-mismatch",
        policy: "pulumi-oidc-role-trust-advisories",
        title: "Condition keys name a Pulumi issuer while the principal is another provider",
        description:
            "A statement trusting some other OIDC provider but conditioning on `api.pulumi.com/oidc:*` keys is most likely a provider URL typo; no Pulumi token gets in through it (advisory).",
        severity: "low",
        remediation:
            "Point `Principal.Federated` at `arn:aws:iam::<account>:oidc-provider/api.pulumi.com/oidc`, or condition on the keys of the provider the statement trusts.",
        url: ruleDocsUrl("oidc-trust-issuer-mismatch"),
        tags: ["iam", "oidc", "pulumi", "trust-policy", "mistake"],
    },
    {
        id: "oidc-trust-org-not-lowercase",
        policy: "pulumi-oidc-role-trust-advisories",
        title: "Organization name in a condition is not lowercase",
        description:
            "Pulumi organization names are lowercase, so an `aud` or `sub` value naming `Acme` matches no token Pulumi issues (advisory).",
        severity: "low",
        remediation: "Write the organization name in lowercase, as Pulumi Cloud shows it in URLs.",
        url: ruleDocsUrl("oidc-trust-org-not-lowercase"),
        tags: ["iam", "oidc", "pulumi", "trust-policy", "mistake"],
    },
    {
        id: "oidc-trust-unusable",
        policy: "pulumi-oidc-role-trust-advisories",
        title: "No Pulumi token can use the role",
        description:
            "The role trusts Pulumi's issuer but no token Pulumi issues (each kind with its paired audience) satisfies its conditions, e.g. `aud` `aws:<org>` with a Deployments subject (advisory).",
        severity: "low",
        remediation:
            "Pair the audience with the token kind: `aws:<org>` for ESC environments and Customer Managed Keys, `<org>` for Deployments and the legacy `default` project; and spell each condition key as the claim it tests (`api.pulumi.com/oidc:aud`, `api.pulumi.com/oidc:sub`).",
        url: ruleDocsUrl("oidc-trust-unusable"),
        tags: ["iam", "oidc", "pulumi", "trust-policy", "mistake"],
    },
    {
        id: "oidc-provider-config",
        policy: "pulumi-oidc-provider-config",
        title: "Pulumi OIDC provider uses https and allowed client IDs only",
        description:
            "An IAM OIDC provider for a Pulumi issuer must use an https URL and list only the allowed audiences as client IDs.",
        severity: "high",
        remediation:
            "Set `url` to `https://api.pulumi.com/oidc` and `clientIdLists` to the organization's audiences (`aws:<org>`, and `<org>` for Deployments).",
        url: ruleDocsUrl("oidc-provider-config"),
        tags: ["iam", "oidc", "pulumi", "provider"],
    },
    {
        id: "oidc-provider-audiences-match",
        policy: "pulumi-oidc-role-provider-audiences",
        title: "Roles admit only audiences their provider lists",
        description:
            "For a role whose OIDC provider is in the same stack, every audience the role admits must be among the provider's client IDs.",
        severity: "medium",
        remediation: "Add the audience to the provider's client ID list, or remove it from the role's trust policy.",
        url: ruleDocsUrl("oidc-provider-audiences-match"),
        tags: ["iam", "oidc", "pulumi", "stack"],
    },
    {
        id: "oidc-provider-outside-stack",
        policy: "pulumi-oidc-role-provider-outside-stack",
        title: "Roles trust an OIDC provider managed in another stack",
        description:
            "A role trusts a Pulumi OIDC provider this stack does not manage, so its client IDs cannot be compared with the audiences the role admits (advisory).",
        severity: "low",
        remediation:
            "Confirm that the provider lists the role's audiences as client IDs (`aws iam get-open-id-connect-provider`), or manage the provider in this stack.",
        url: ruleDocsUrl("oidc-provider-outside-stack"),
        tags: ["iam", "oidc", "pulumi", "stack"],
    },
] as const satisfies readonly RuleMeta[];

export type RuleId = (typeof RULE_LIST)[number]["id"];
export const RULES: readonly RuleMeta[] = RULE_LIST;

export function rule(id: RuleId): RuleMeta {
    const found = RULES.find((r) => r.id === id);
    if (!found) throw new Error(`unknown rule ${id}`);
    return found;
}
