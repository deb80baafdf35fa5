import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PACK_VERSION, runStackPolicy, UNKNOWN, urnOf } from "../testing/policy-harness.js";
import { AUD_ONLY, PINNED, PROVIDER_TYPE, providerOutputs, ROLE_TYPE, roleOutputs } from "../testing/stack-resources.js";
import { roleProviderAudiences } from "./pulumi-oidc-role-provider-audiences.js";

const config = { "pulumi-oidc-role-provider-audiences": { organizations: ["acme"] } };
const roleUrn = urnOf(ROLE_TYPE, "esc-role");

function stack(roles: Record<string, unknown>[], providers: Record<string, unknown>[]) {
    return [
        ...providers.map((props, i) => ({ type: PROVIDER_TYPE, name: `pulumi-oidc-${i}`, props })),
        ...roles.map((props, i) => ({ type: ROLE_TYPE, name: i === 0 ? "esc-role" : `role-${i}`, props })),
    ];
}

describe("pulumi-oidc-role-provider-audiences", () => {
    it("passes a role whose audience the in-stack provider lists", async () => {
        const r = await runStackPolicy(roleProviderAudiences, { resources: stack([roleOutputs(PINNED)], [providerOutputs(["aws:acme"])]), config });
        assert.deepEqual(r, { violations: [], notApplicable: null, previewDiagnostic: null });
    });

    it("flags, against the role, an audience the provider does not list (the removed Python example's bug)", async () => {
        const r = await runStackPolicy(roleProviderAudiences, { resources: stack([roleOutputs(PINNED)], [providerOutputs(["acme"])]), config });
        assert.equal(r.violations.length, 1);
        const v = r.violations[0]!;
        assert.equal(v.urn, roleUrn);
        assert.equal(v.enforcementLevel, "mandatory");
        assert.match(v.message, /^assumeRolePolicy\.Statement\[0\]\.Principal\.Federated: The role admits aud 'aws:acme'/);
        assert.match(v.message, /\nFix: Add the audience to the provider's client ID list/);
    });

    it("flags a role without an aud pin: it admits every listed audience", async () => {
        const noAud = {
            ...AUD_ONLY,
            Statement: [{ ...(AUD_ONLY["Statement"] as Record<string, unknown>[])[0], Condition: { StringEquals: { "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/dev" } } }],
        };
        const r = await runStackPolicy(roleProviderAudiences, {
            resources: stack([roleOutputs(noAud)], [providerOutputs(["aws:acme", "acme"])]),
            config,
        });
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!.message, /without pinning aud/);
    });

    it("leaves roles trusting a provider outside the stack to the advisory policy", async () => {
        const r = await runStackPolicy(roleProviderAudiences, { resources: stack([roleOutputs(PINNED)], []), config });
        assert.deepEqual(r.violations, []);
        assert.equal(r.previewDiagnostic, null);
    });

    it("at preview, reports the violations it can decide and an advisory for what it cannot", async () => {
        const resources = stack(
            [roleOutputs(PINNED), { arn: UNKNOWN, assumeRolePolicy: UNKNOWN }],
            [providerOutputs(["acme"], UNKNOWN)],
        );
        const r = await runStackPolicy(roleProviderAudiences, { resources, config });
        assert.equal(r.violations.length, 1, "the known role is still checked (provider matched by URL)");
        assert.match(
            r.previewDiagnostic ?? "",
            new RegExp(
                `^can't run policy 'pulumi-oidc-role-provider-audiences' from policy pack 'pulumi-oidc-guard@v${PACK_VERSION.replace(/\./g, "\\.")}' during preview: the audiences of 1 role\\(s\\) cannot be verified during preview; enforced at update`,
            ),
        );
        assert.ok(r.previewDiagnostic?.includes(urnOf(ROLE_TYPE, "role-1")));
    });

    it("is not applicable to a stack without roles", async () => {
        const r = await runStackPolicy(roleProviderAudiences, { resources: stack([], [providerOutputs(["aws:acme"])]) });
        assert.equal(r.notApplicable, "The stack has no IAM roles");
    });
});
