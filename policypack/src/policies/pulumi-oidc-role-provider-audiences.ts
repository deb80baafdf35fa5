/**
 * pulumi-oidc-role-provider-audiences (stack): for a role whose Pulumi OIDC provider is in the same stack, every
 * audience the role admits must be among the provider's client IDs. https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { analyzeStackAudiences } from "../analysis/index.js";
import { analysisOptions, CONFIG_SCHEMA } from "./support/config.js";
import { metadataFromRules, rulesOfPolicy } from "./support/metadata.js";
import { reportStackFindings, stackInputs } from "./support/stack-inputs.js";
import { notApplicable } from "./support/sdk.js";

const NAME = "pulumi-oidc-role-provider-audiences";

export const roleProviderAudiences: StackValidationPolicy = {
    name: NAME,
    ...metadataFromRules(rulesOfPolicy(NAME)),
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const inputs = stackInputs(args.resources);
        if (inputs.roles.length === 0) return notApplicable(args, "The stack has no IAM roles");
        const options = analysisOptions(NAME, args.getConfig<Record<string, unknown>>());
        const findings = analyzeStackAudiences(inputs.roles, inputs.providers, options);
        // Roles trusting a provider outside the stack are pulumi-oidc-role-provider-outside-stack's (advisory).
        reportStackFindings(findings, inputs, (f) => f.level === "mandatory", reportViolation);
    },
};
