/**
 * pulumi-oidc-provider-config: an IAM OIDC provider for a Pulumi issuer must use https and list only the allowed
 * audiences as client IDs. https://www.pulumi.com/docs/esc/guides/configuring-oidc/aws/
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { analyzeOidcProvider, clientIdsProperty, PROVIDER_TYPES } from "../analysis/index.js";
import { isPulumiIssuer } from "../analysis/provider.js";
import { analysisOptions, CONFIG_SCHEMA } from "./support/config.js";
import { formatFinding } from "./support/messages.js";
import { metadataFromRules, rulesOfPolicy } from "./support/metadata.js";
import { notApplicable, readDeep, throwUnknown } from "./support/sdk.js";

const NAME = "pulumi-oidc-provider-config";


export const providerConfig: ResourceValidationPolicy = {
    name: NAME,
    ...metadataFromRules(rulesOfPolicy(NAME)),
    enforcementLevel: "mandatory",
    configSchema: CONFIG_SCHEMA,
    validateResource: (args, reportViolation) => {
        const idsProperty = clientIdsProperty(args.type);
        if (idsProperty === undefined) {
            return notApplicable(
                args,
                `Policy only applies to resources of type ${PROVIDER_TYPES.map((t) => `'${t}'`).join(" or ")}`,
            );
        }
        const options = analysisOptions(NAME, args.getConfig<Record<string, unknown>>());

        const url = readDeep(args.props, "url");
        if (url.unknownPaths.length > 0) {
            // Whether this is a Pulumi provider at all cannot be told yet: never assume it is not.
            throwUnknown("url cannot be verified during preview; enforced at update (unknown: url)", url.sentinel, ["url"]);
        }
        if (typeof url.value === "string" && !isPulumiIssuer(url.value, options)) {
            return notApplicable(args, `The provider's url '${url.value}' is not a Pulumi issuer`);
        }
        const ids = readDeep(args.props, idsProperty);
        if (ids.unknownPaths.length > 0) {
            throwUnknown(
                `${idsProperty} cannot be verified during preview; enforced at update (unknown: ${ids.unknownPaths.join(", ")})`,
                ids.sentinel,
                [idsProperty],
            );
        }
        const result = analyzeOidcProvider(
            { url: url.value, clientIds: ids.value, clientIdsProperty: idsProperty },
            options,
        );
        for (const finding of result.findings) reportViolation(formatFinding(finding, ""));
        if (result.verdict !== "pass" && result.findings.length === 0) {
            reportViolation(`The provider analysis returned verdict '${result.verdict}' without a finding; failing closed.`);
        }
    },
};
