import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runStackPolicy, UNKNOWN, urnOf } from "../testing/policy-harness.js";
import { PINNED, PROVIDER_TYPE, providerOutputs, PULUMI_PROVIDER_ARN, ROLE_TYPE, roleOutputs } from "../testing/stack-resources.js";
import { roleProviderOutsideStack } from "./pulumi-oidc-role-provider-outside-stack.js";

const config = { "pulumi-oidc-role-provider-outside-stack": { organizations: ["acme"] } };

describe("pulumi-oidc-role-provider-outside-stack", () => {
    it("reports, as advisory, a role trusting a Pulumi provider this stack does not manage", async () => {
        const r = await runStackPolicy(roleProviderOutsideStack, {
            resources: [{ type: ROLE_TYPE, name: "esc-role", props: roleOutputs(PINNED) }],
            config,
        });
        assert.equal(r.violations.length, 1);
        const v = r.violations[0]!;
        assert.equal(v.enforcementLevel, "advisory");
        assert.equal(v.urn, urnOf(ROLE_TYPE, "esc-role"));
        assert.ok(v.message.includes(`not managed in this stack`));
        assert.ok(v.message.includes(`aws iam get-open-id-connect-provider --open-id-connect-provider-arn ${PULUMI_PROVIDER_ARN}`));
    });

    it("stays quiet when the provider is in the stack, whatever its client IDs (the mandatory policy judges those)", async () => {
        for (const ids of [["aws:acme"], ["acme"]]) {
            const r = await runStackPolicy(roleProviderOutsideStack, {
                resources: [
                    { type: PROVIDER_TYPE, props: providerOutputs(ids) },
                    { type: ROLE_TYPE, props: roleOutputs(PINNED) },
                ],
                config,
            });
            assert.deepEqual(r.violations, []);
        }
    });

    it("can be made mandatory by configuration", async () => {
        const r = await runStackPolicy(roleProviderOutsideStack, {
            resources: [{ type: ROLE_TYPE, props: roleOutputs(PINNED) }],
            config: { "pulumi-oidc-role-provider-outside-stack": "mandatory" },
        });
        assert.equal(r.violations[0]?.enforcementLevel, "mandatory");
    });

    it("does not call a provider outside the stack while an in-stack provider's URL is unknown", async () => {
        const r = await runStackPolicy(roleProviderOutsideStack, {
            resources: [
                { type: PROVIDER_TYPE, props: { arn: UNKNOWN, url: UNKNOWN, clientIdLists: ["aws:acme"] } },
                { type: ROLE_TYPE, props: roleOutputs(PINNED) },
            ],
            config,
        });
        assert.deepEqual(r.violations, []);
        assert.match(r.previewDiagnostic ?? "", /cannot be verified during preview; enforced at update/);
    });
});
