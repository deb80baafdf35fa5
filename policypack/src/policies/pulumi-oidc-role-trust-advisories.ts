/**
 * pulumi-oidc-role-trust-advisories: advisory findings on IAM role trust policies that trust Pulumi's OIDC issuer:
 * a project-wide subject (allowed by subjectScope "project"), a provider URL typo, an organization name that is not
 * lowercase, a role no Pulumi token can use. https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { trustPolicyProperty } from "../analysis/index.js";
import { analysisOptions, CONFIG_SCHEMA } from "./support/config.js";
import { formatFinding } from "./support/messages.js";
import { metadataFromRules, rulesOfPolicy } from "./support/metadata.js";
import { notApplicable, readDeep } from "./support/sdk.js";
import { analyzeRoleTrust } from "./support/trust-analysis.js";

const NAME = "pulumi-oidc-role-trust-advisories";

export const roleTrustAdvisories: ResourceValidationPolicy = {
    name: NAME,
    ...metadataFromRules(rulesOfPolicy(NAME), {
        displayName: "IAM roles trusting Pulumi OIDC: advisories",
        description:
            "What an auditor should see in a trust policy that lets Pulumi tokens in, or means to: a project-wide subject wildcard, a provider URL typo, an organization name not in lowercase, or conditions no Pulumi token meets.",
    }),
    enforcementLevel: "advisory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const property = trustPolicyProperty(args.type);
        if (property === undefined) return notApplicable(args, "Policy only applies to IAM roles");
        const options = analysisOptions(NAME, args.getConfig<Record<string, unknown>>());
        // Unknown or missing documents are pulumi-oidc-role-trust-pinned's to report; advisories need the text.
        const read = readDeep(args.props, property);
        if (read.unknownPaths.length > 0 || read.value === undefined || read.value === null) return;
        const analysis = analyzeRoleTrust(read.value, options);
        for (const finding of analysis.findings.filter((f) => f.advisory)) reportViolation(formatFinding(finding, property));
    },
};
