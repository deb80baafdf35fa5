import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runResourcePolicy, UNKNOWN } from "../testing/policy-harness.js";
import { PINNED, trustPolicy } from "../testing/stack-resources.js";
import { roleTrustAdvisories } from "./pulumi-oidc-role-trust-advisories.js";
import { roleTrustPinned } from "./pulumi-oidc-role-trust-pinned.js";

const ROLE = "aws:iam/role:Role";
const AUD = "api.pulumi.com/oidc:aud";
const SUB = "api.pulumi.com/oidc:sub";
const config = (scope?: string): Record<string, unknown> => {
    const settings = { organizations: ["acme"], ...(scope ? { subjectScope: scope } : {}) };
    return { "pulumi-oidc-role-trust-pinned": settings, "pulumi-oidc-role-trust-advisories": settings };
};
const projectWide = trustPolicy({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:environments:org:acme:env:payments/*" } });

function ruleIds(messages: string[]): string[] {
    return messages.map((m) => /\((oidc-[a-z-]+), severity \w+\)$/.exec(m)?.[1] ?? m);
}

describe("pulumi-oidc-role-trust-advisories", () => {
    it("reports a project-wide subject as advisory, and the mandatory policy lets it pass (subjectScope project)", async () => {
        const adv = await runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: projectWide }, config: config() });
        assert.deepEqual(ruleIds(adv.violations.map((v) => v.message)), ["oidc-trust-sub-project-wide"]);
        assert.equal(adv.violations[0]!.enforcementLevel, "advisory");
        assert.match(adv.violations[0]!.message, /every environment of project acme\/payments/);
        const pinned = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: projectWide }, config: config() });
        assert.deepEqual(pinned.violations, []);
    });

    it("with subjectScope environment, project-wide is the mandatory policy's violation and no advisory", async () => {
        const pinned = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: projectWide }, config: config("environment") });
        assert.deepEqual(ruleIds(pinned.violations.map((v) => v.message)), ["oidc-trust-sub-pinned"]);
        assert.equal(pinned.violations[0]!.enforcementLevel, "mandatory");
        const adv = await runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: projectWide }, config: config("environment") });
        assert.deepEqual(adv.violations, []);
    });

    it("reports a role no Pulumi token can use (aws:<org> audience with a Deployments subject)", async () => {
        const doc = trustPolicy({ StringEquals: { [AUD]: "aws:acme" }, StringLike: { [SUB]: "pulumi:deploy:org:acme:*" } });
        const adv = await runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: doc }, config: config() });
        assert.deepEqual(ruleIds(adv.violations.map((v) => v.message)), ["oidc-trust-unusable"]);
    });

    it("reports nothing for a pinned role, and leaves unknown documents to the mandatory policy", async () => {
        const ok = await runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: PINNED }, config: config() });
        assert.deepEqual(ok.violations, []);
        const unknown = await runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: UNKNOWN }, config: config() });
        assert.deepEqual(unknown.violations, []);
    });

    it("refuses a subjectScope outside the enum", async () => {
        await assert.rejects(
            runResourcePolicy(roleTrustAdvisories, { type: ROLE, props: { assumeRolePolicy: PINNED }, config: config("org") }),
        );
    });
});
