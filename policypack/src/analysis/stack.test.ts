import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UNKNOWN_SENTINELS } from "./constants.js";
import { PINNED, PULUMI_PROVIDER_ARN, trustPolicy } from "../testing/stack-resources.js";
import { analyzeStackAudiences, stackAudienceCheck, type StackProviderInput, type StackRoleInput } from "./stack.js";
import { analyzeTrustPolicy } from "./trust-policy.js";

const UNKNOWN = UNKNOWN_SENTINELS[0]!;
const ROLE_URN = "urn:pulumi:dev::infra::aws:iam/role:Role::esc";
const PROVIDER_URN = "urn:pulumi:dev::infra::aws:iam/openIdConnectProvider:OpenIdConnectProvider::pulumi";
const options = { organizations: ["acme"] };
const PROVIDER_ARN = PULUMI_PROVIDER_ARN;
const trust = trustPolicy;
const pinned = PINNED;
const audOnly = trust({ StringEquals: { "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/dev" } });

function role(trustPolicy: unknown, urn = ROLE_URN): StackRoleInput {
    return { urn, trustPolicy };
}
function provider(over: Partial<StackProviderInput> = {}): StackProviderInput {
    return { urn: PROVIDER_URN, arn: PROVIDER_ARN, url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme"], ...over };
}
function project(findings: ReturnType<typeof analyzeStackAudiences>) {
    return findings.map((f) => ({ ruleId: f.ruleId, level: f.level, urn: f.urn, path: f.path }));
}

describe("analyzeStackAudiences", () => {
    it("passes a pinned role whose audience the in-stack provider lists", () => {
        assert.deepEqual(analyzeStackAudiences([role(pinned)], [provider()], options), []);
    });

    it("accepts the JSON-string form of the trust policy", () => {
        assert.deepEqual(analyzeStackAudiences([role(JSON.stringify(pinned))], [provider()], options), []);
    });

    it("flags an admitted audience the provider does not list (mandatory), naming both", () => {
        const findings = analyzeStackAudiences([role(pinned)], [provider({ clientIds: ["acme"] })], options);
        assert.deepEqual(project(findings), [
            {
                ruleId: "oidc-provider-audiences-match",
                level: "mandatory",
                urn: ROLE_URN,
                path: "Statement[0].Principal.Federated",
            },
        ]);
        assert.match(findings[0]!.message, /admits aud 'aws:acme'/);
        assert.match(findings[0]!.message, /client IDs are 'acme'/);
        assert.match(findings[0]!.message, new RegExp(PROVIDER_URN.replace(/[/:]/g, ".")));
        assert.equal(findings[0]!.location.statementIndex, 0);
    });

    it("matches the provider by URL when its ARN is not known yet", () => {
        const findings = analyzeStackAudiences([role(pinned)], [provider({ arn: null, clientIds: ["acme"] })], options);
        assert.deepEqual(project(findings).map((f) => f.level), ["mandatory"]);
        assert.deepEqual(analyzeStackAudiences([role(pinned)], [provider({ arn: UNKNOWN })], options), []);
    });

    it("a role without an aud pin admits every listed audience: mandatory, with a token that gets in", () => {
        const findings = analyzeStackAudiences([role(audOnly)], [provider({ clientIds: ["aws:acme", "acme"] })], options);
        assert.deepEqual(project(findings).map((f) => f.level), ["mandatory"]);
        assert.match(findings[0]!.message, /without pinning aud/);
        assert.equal(findings[0]!.counterexample?.aud, "aws:acme");
        assert.equal(findings[0]!.counterexample?.issuer, "api.pulumi.com/oidc");
    });

    it("reports a role trusting a provider outside the stack as advisory, with the ARN", () => {
        for (const providers of [[], [provider({ arn: `arn:aws:iam::999999999999:oidc-provider/api.pulumi.com/oidc` })]]) {
            const findings = analyzeStackAudiences([role(pinned)], providers, options);
            assert.deepEqual(project(findings), [
                {
                    ruleId: "oidc-provider-outside-stack",
                    level: "advisory",
                    urn: ROLE_URN,
                    path: "Statement[0].Principal.Federated",
                },
            ]);
            assert.match(findings[0]!.message, /not managed in this stack/);
            assert.ok(findings[0]!.message.includes(PROVIDER_ARN));
        }
    });

    it("ignores providers and roles of other issuers", () => {
        const github = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        const ghRole = trust({ StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" } }, github);
        const ghProvider = provider({ arn: github, url: "https://token.actions.githubusercontent.com", clientIds: ["sts.amazonaws.com"] });
        assert.deepEqual(analyzeStackAudiences([role(ghRole)], [ghProvider], options), []);
    });

    it("never passes what is unknown at preview: advisory unknown-at-preview findings", () => {
        const unknownRole = analyzeStackAudiences([role(UNKNOWN)], [provider()], options);
        assert.deepEqual(project(unknownRole), [
            { ruleId: "oidc-trust-unknown-at-preview", level: "advisory", urn: ROLE_URN, path: "" },
        ]);
        const nested = trust({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } }, UNKNOWN);
        assert.match(analyzeStackAudiences([role(nested)], [provider()], options)[0]!.message, /Statement\[0\]\.Principal\.Federated/);

        const unknownUrl = analyzeStackAudiences([role(pinned)], [provider({ url: UNKNOWN, arn: null })], options);
        assert.deepEqual(project(unknownUrl).map((f) => [f.ruleId, f.level]), [["oidc-trust-unknown-at-preview", "advisory"]]);

        const unknownIds = analyzeStackAudiences([role(pinned)], [provider({ clientIds: UNKNOWN_SENTINELS[3] })], options);
        assert.deepEqual(project(unknownIds).map((f) => [f.ruleId, f.level]), [["oidc-trust-unknown-at-preview", "advisory"]]);
    });

    it("never passes a role whose provider's client IDs the caller could not read: an advisory unreadable finding", () => {
        const cipher = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:x" };
        const unreadable = provider({ clientIds: cipher, clientIdsUnreadable: "are stored as an encrypted secret (ciphertext)" });
        const findings = analyzeStackAudiences([role(pinned)], [unreadable], options);
        assert.deepEqual(project(findings), [{ ruleId: "oidc-trust-unreadable", level: "advisory", urn: ROLE_URN, path: "Statement[0].Principal.Federated" }]);
        assert.equal(
            findings[0]!.message,
            `The client IDs of provider ${PROVIDER_URN} are stored as an encrypted secret (ciphertext), so the role's audiences cannot be checked against them.`,
        );
        assert.match(findings[0]!.remediation, /pulumi stack export --show-secrets/);
        // Without the caller's word, a list that is not strings is the provider policy's finding: nothing here.
        assert.deepEqual(analyzeStackAudiences([role(pinned)], [provider({ clientIds: cipher })], options), []);
    });

    it("checks each role separately and reports them by URN", () => {
        const other = "urn:pulumi:dev::infra::aws:iam/role:Role::deploy";
        const findings = analyzeStackAudiences([role(pinned), role(pinned, other)], [provider({ clientIds: ["acme"] })], options);
        assert.deepEqual(findings.map((f) => f.urn), [ROLE_URN, other]);
    });

    it("role by role (stackAudienceCheck), each role gets what the whole list gives it, whatever was checked before", () => {
        const outside = "arn:aws:iam::999999999999:oidc-provider/api.pulumi.com/oidc";
        const urns = ["a", "b", "c", "d", "e"].map((n) => `urn:pulumi:dev::infra::aws:iam/role:Role::${n}`);
        const roles = [
            role(pinned, urns[0]),
            role(audOnly, urns[1]),
            role(JSON.stringify(pinned).replace(PROVIDER_ARN, outside), urns[2]),
            role(UNKNOWN, urns[3]),
            role(pinned, urns[4]),
        ];
        const providers = [provider({ clientIds: ["acme", "aws:other"] })];
        const whole = analyzeStackAudiences(roles, providers, options);
        // Every kind of finding is in the list, so each call below has something to get right.
        assert.deepEqual([...new Set(whole.map((f) => f.level))].sort(), ["advisory", "mandatory"]);
        const check = stackAudienceCheck(providers, options);
        for (const r of [...roles].reverse().concat(roles)) {
            assert.deepEqual(check(r), whole.filter((f) => f.urn === r.urn), r.urn);
        }
    });

    it("a caller's own analysis gives the same findings; only a decided one (pass, fail) rules out unknowns", () => {
        const outside = "arn:aws:iam::999999999999:oidc-provider/api.pulumi.com/oidc";
        const roles = [
            role(pinned),
            role(JSON.stringify(audOnly), "urn:pulumi:dev::infra::aws:iam/role:Role::aud-only"),
            role(trust({ StringEquals: { "api.pulumi.com/oidc:aud": "acme" } }, outside), "urn:pulumi:dev::infra::aws:iam/role:Role::outside"),
            role(UNKNOWN, "urn:pulumi:dev::infra::aws:iam/role:Role::unknown"),
        ];
        const providers = [provider({ clientIds: ["acme"] })];
        const withAnalysis = roles.map((r) => ({ ...r, analysis: analyzeTrustPolicy(r.trustPolicy, options) }));
        assert.deepEqual(withAnalysis.map((r) => r.analysis.verdict), ["pass", "fail", "fail", "unknown"]);
        const expected = analyzeStackAudiences(roles, providers, options);
        assert.deepEqual(
            project(expected).map((f) => [f.ruleId, f.level]),
            [
                ["oidc-provider-audiences-match", "mandatory"],
                ["oidc-provider-audiences-match", "mandatory"],
                ["oidc-provider-outside-stack", "advisory"],
                ["oidc-trust-unknown-at-preview", "advisory"],
            ],
        );
        assert.deepEqual(analyzeStackAudiences(withAnalysis, providers, options), expected);
        // A policy that holds an unknown with an analysis that is not decided (here: error) still reports the unknown.
        const undecided = { ...roles[3]!, analysis: { ...withAnalysis[3]!.analysis, verdict: "error" as const } };
        assert.deepEqual(project(analyzeStackAudiences([undecided], providers, options)).map((f) => f.ruleId), ["oidc-trust-unknown-at-preview"]);
    });

    it("skips roles no Pulumi token can use and malformed trust policies (the trust policy check fails those)", () => {
        const service = { Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };
        assert.deepEqual(analyzeStackAudiences([role(service), role("{not json")], [provider({ clientIds: [] })], options), []);
    });
});
