/**
 * pulumi-oidc-role-provider-outside-stack (stack, advisory): a role trusting a Pulumi OIDC provider that this stack
 * does not manage, whose client IDs the pack therefore cannot compare with the role's audiences. A separate policy
 * because a stack policy reports at one enforcement level: this one stays advisory while the audience check is
 * mandatory, and each can be configured on its own. https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { analyzeStackAudiences, rule } from "../analysis/index.js";
import { analysisOptions, CONFIG_SCHEMA } from "./support/config.js";
import { metadataFromRules } from "./support/metadata.js";
import { reportStackFindings, stackInputs } from "./support/stack-inputs.js";
import { notApplicable } from "./support/sdk.js";

const NAME = "pulumi-oidc-role-provider-outside-stack";

export const roleProviderOutsideStack: StackValidationPolicy = {
    name: NAME,
    ...metadataFromRules([rule("oidc-provider-outside-stack")]),
    enforcementLevel: "advisory",
    configSchema: CONFIG_SCHEMA,
    validateStack: (args, reportViolation) => {
        const inputs = stackInputs(args.resources);
        if (inputs.roles.length === 0) return notApplicable(args, "The stack has no IAM roles");
        const options = analysisOptions(NAME, args.getConfig<Record<string, unknown>>());
        const findings = analyzeStackAudiences(inputs.roles, inputs.providers, options);
        reportStackFindings(
            findings,
            inputs,
            (f) => f.ruleId === "oidc-provider-outside-stack",
            reportViolation,
        );
    },
};
