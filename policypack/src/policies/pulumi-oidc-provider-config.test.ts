import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PACK_VERSION, runResourcePolicy, secret, UNKNOWN } from "../testing/policy-harness.js";
import { providerConfig } from "./pulumi-oidc-provider-config.js";

const PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
const NATIVE_PROVIDER = "aws-native:iam:OidcProvider";
const acme = { "pulumi-oidc-provider-config": { organizations: ["acme"] } };

describe("pulumi-oidc-provider-config", () => {
    it("passes the example's provider (https, client ID aws:<org>)", async () => {
        const r = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"], thumbprintLists: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] },
            config: acme,
        });
        assert.deepEqual(r, { violations: [], notApplicable: null, previewDiagnostic: null });
    });

    it("flags another organization's audience and an http URL, each with where, why and the fix (mandatory)", async () => {
        const r = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "http://api.pulumi.com/oidc", clientIdLists: ["aws:acme", "aws:evil"] },
            config: acme,
        });
        assert.equal(r.violations.length, 2);
        assert.ok(r.violations.every((v) => v.enforcementLevel === "mandatory"));
        assert.match(r.violations[0]!.message, /^url: .*must use https/);
        assert.match(r.violations[1]!.message, /^clientIdLists\[1\]: Client ID 'aws:evil'/);
        assert.match(r.violations[1]!.message, /A token that gets in: issuer api\.pulumi\.com\/oidc, aud "aws:evil"/);
        assert.match(r.violations[1]!.message, /\nFix: Set `url` to `https:\/\/api\.pulumi\.com\/oidc`/);
    });

    it("checks aws-native OidcProvider's clientIdList", async () => {
        const r = await runResourcePolicy(providerConfig, {
            type: NATIVE_PROVIDER,
            props: { url: "https://api.pulumi.com/oidc", clientIdList: ["sts.amazonaws.com"] },
            config: acme,
        });
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!.message, /^clientIdList\[0\]: Client ID 'sts\.amazonaws\.com'/);
    });

    it("reads secret-wrapped client IDs", async () => {
        const r = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://api.pulumi.com/oidc", clientIdLists: secret(["aws:evil"]) },
            config: acme,
        });
        assert.equal(r.violations.length, 1);
    });

    it("is not applicable to other issuers and other types", async () => {
        const gh = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] },
            config: acme,
        });
        assert.equal(gh.notApplicable, "The provider's url 'https://token.actions.githubusercontent.com' is not a Pulumi issuer");
        const role = await runResourcePolicy(providerConfig, { type: "aws:iam/role:Role", props: {} });
        assert.match(role.notApplicable ?? "", /only applies to resources of type 'aws:iam\/openIdConnectProvider:OpenIdConnectProvider' or 'aws-native:iam:OidcProvider'/);
    });

    it("reports unknown url or client IDs at preview instead of passing", async () => {
        const url = await runResourcePolicy(providerConfig, { type: PROVIDER, props: { url: UNKNOWN, clientIdLists: ["aws:acme"] } });
        assert.equal(
            url.previewDiagnostic,
            `can't run policy 'pulumi-oidc-provider-config' from policy pack 'pulumi-oidc-guard@v${PACK_VERSION}' during preview: url cannot be verified during preview; enforced at update (unknown: url)`,
        );
        const ids = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme", UNKNOWN] },
        });
        assert.match(ids.previewDiagnostic ?? "", /clientIdLists cannot be verified during preview; enforced at update \(unknown: clientIdLists\[1\]\)$/);
        assert.deepEqual([...url.violations, ...ids.violations], []);
    });

    it("uses configured issuers for self-hosted Pulumi Cloud", async () => {
        const config = { "pulumi-oidc-provider-config": { organizations: ["acme"], issuers: ["https://pulumi.example.com/oidc"] } };
        const r = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://pulumi.example.com/oidc", clientIdLists: ["aws:other"] },
            config,
        });
        assert.equal(r.violations.length, 1);
    });

    it("falls back to the stack's organization from the environment", async () => {
        const props = { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] };
        const same = await runResourcePolicy(providerConfig, { type: PROVIDER, props, env: { PULUMI_ORGANIZATION: "acme" } });
        assert.deepEqual(same.violations, []);
        const other = await runResourcePolicy(providerConfig, { type: PROVIDER, props, env: { PULUMI_ORGANIZATION: "other" } });
        assert.equal(other.violations.length, 1);
    });

    it("fails closed on a malformed client ID list", async () => {
        const r = await runResourcePolicy(providerConfig, {
            type: PROVIDER,
            props: { url: "https://api.pulumi.com/oidc", clientIdLists: "aws:acme" },
            config: acme,
        });
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!.message, /must be a list of strings/);
    });
});
