/**
 * pulumi-oidc-role-trust-pinned: an IAM role whose trust policy lets in Pulumi Cloud's OIDC tokens must pin both
 * `api.pulumi.com/oidc:aud` and `api.pulumi.com/oidc:sub`. https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ROLE_TYPES, trustPolicyProperty, type TrustAnalysis } from "../analysis/index.js";
import { analysisOptions, CONFIG_SCHEMA } from "./support/config.js";
import { forPulumiDisplay } from "./support/display.js";
import { formatFinding } from "./support/messages.js";
import { metadataFromRules, rulesOfPolicy } from "./support/metadata.js";
import { notApplicable, readDeep, throwUnknown } from "./support/sdk.js";
import { analyzeRoleTrust } from "./support/trust-analysis.js";

const NAME = "pulumi-oidc-role-trust-pinned";


export const roleTrustPinned: ResourceValidationPolicy = {
    name: NAME,
    ...metadataFromRules(rulesOfPolicy(NAME), {
        displayName: "IAM roles trusting Pulumi OIDC pin aud and sub",
        description:
            "An IAM role that trusts Pulumi's OIDC issuer must pin `aud` to the organization and `sub` to exact ESC environments or Deployments stacks; a trust policy that cannot be read, or is not known yet, never passes.",
    }),
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const property = trustPolicyProperty(args.type);
        if (property === undefined) {
            return notApplicable(
                args,
                `Policy only applies to resources of type ${Object.keys(ROLE_TYPES).map((t) => `'${t}'`).join(" or ")}`,
            );
        }
        const options = analysisOptions(NAME, args.getConfig<Record<string, unknown>>());

        // Read the whole document through the SDK's proxy: an unknown anywhere (a new provider's ARN, an
        // interpolated string) means the document cannot be judged now. It is never passed: the SDK reports an
        // advisory "can't run policy ... during preview" and the policy is enforced at update.
        const read = readDeep(args.props, property);
        if (read.unknownPaths.length > 0) {
            throwUnknown(
                `${property} cannot be verified during preview; enforced at update (unknown: ${read.unknownPaths.join(", ")})`,
                read.sentinel,
                [property],
            );
        }
        if (read.value === undefined || read.value === null) {
            reportViolation(
                `${property}: the role has no trust policy, so the pack cannot tell who may assume it; failing closed.\nFix: set ${property} to the role's trust policy document.`,
            );
            return;
        }

        let analysis: TrustAnalysis;
        try {
            analysis = analyzeRoleTrust(read.value, options);
        } catch (e) {
            // A defect in the analysis must not let the role through, nor crash the whole deployment.
            reportViolation(
                `${property}: the trust policy could not be analyzed (${forPulumiDisplay(e instanceof Error ? e.message : String(e))}); failing closed.\nFix: report this with the trust policy document to the pack's maintainers.`,
            );
            return;
        }
        // Advisory findings (likely mistakes, project-wide scope) are reported by pulumi-oidc-role-trust-advisories.
        const mandatory = analysis.findings.filter((f) => !f.advisory);
        switch (analysis.verdict) {
            case "pass":
                return;
            case "unknown":
                // A principal that may be Pulumi's provider once a template placeholder is resolved is known text:
                // it stays undecidable at update too, so it is a violation (never a pass), not a preview unknown.
                if (!analysis.unknownPaths) {
                    for (const finding of mandatory) reportViolation(formatFinding(finding, property));
                    if (mandatory.length === 0) reportViolation(`${property}: the trust policy cannot be judged; failing closed.`);
                    return;
                }
                return throwUnknown(
                    `${property} cannot be verified during preview; enforced at update (unknown: ${(analysis.unknownPaths ?? [""]).map((p) => (p ? `${property}.${p}` : property)).join(", ")})`,
                    read.sentinel,
                    [property],
                );
            case "fail":
            case "error":
                if (mandatory.length === 0) {
                    reportViolation(
                        `${property}: the analysis returned verdict '${analysis.verdict}' without a finding; failing closed.\nFix: report this with the trust policy document to the pack's maintainers.`,
                    );
                }
                for (const finding of mandatory) reportViolation(formatFinding(finding, property));
                return;
            default:
                analysis.verdict satisfies never;
                reportViolation(`${property}: unexpected verdict '${String(analysis.verdict)}'; failing closed.`);
        }
    },
};
