import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UNKNOWN_SENTINELS } from "./constants.js";
import { allowedAudiences, analyzeOidcProvider, isPulumiIssuer } from "./provider.js";

const UNKNOWN = UNKNOWN_SENTINELS[0]!;
const acme = { organizations: ["acme"] };

function project(input: Parameters<typeof analyzeOidcProvider>[0], options = {}) {
    const r = analyzeOidcProvider(input, options);
    return {
        verdict: r.verdict,
        isPulumiIssuer: r.isPulumiIssuer,
        issuer: r.issuer,
        findings: r.findings.map((f) => ({ ruleId: f.ruleId, path: f.path })),
    };
}

describe("analyzeOidcProvider", () => {
    it("passes the example's provider: https URL, client ID aws:<org>", () => {
        assert.deepEqual(project({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme"] }, acme), {
            verdict: "pass",
            isPulumiIssuer: true,
            issuer: "api.pulumi.com/oidc",
            findings: [],
        });
    });

    it("passes both audiences of a configured org (ESC aws:<org> and Deployments <org>)", () => {
        assert.equal(analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["acme", "aws:acme"] }, acme).verdict, "pass");
    });

    it("flags a client ID of another organization with a token that gets in", () => {
        const r = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme", "aws:evil"] }, acme);
        assert.equal(r.verdict, "fail");
        assert.equal(r.findings.length, 1);
        const f = r.findings[0]!;
        assert.equal(f.ruleId, "oidc-provider-config");
        assert.equal(f.path, "clientIdLists[1]");
        assert.match(f.message, /'aws:evil'/);
        assert.match(f.message, /allowed: 'aws:acme', 'acme'/);
        assert.deepEqual(f.counterexample, {
            issuer: "api.pulumi.com/oidc",
            aud: "aws:evil",
            sub: "pulumi:environments:org:evil:env:any-project/any-environment",
        });
        assert.equal(f.severity, "high");
        assert.ok(f.remediation.length > 0);
    });

    it("uses the caller's property name in paths (aws-native clientIdList)", () => {
        const r = analyzeOidcProvider(
            { url: "https://api.pulumi.com/oidc", clientIds: ["sts.amazonaws.com"], clientIdsProperty: "clientIdList" },
            acme,
        );
        assert.deepEqual(r.findings.map((f) => f.path), ["clientIdList[0]"]);
    });

    it("flags an http URL and a URL without scheme", () => {
        for (const url of ["http://api.pulumi.com/oidc", "api.pulumi.com/oidc"]) {
            const r = analyzeOidcProvider({ url, clientIds: ["aws:acme"] }, acme);
            assert.equal(r.verdict, "fail", url);
            assert.deepEqual(r.findings.map((f) => f.path), ["url"]);
            assert.match(r.findings[0]!.message, /must use https/);
            assert.match(r.findings[0]!.message, /https:\/\/api\.pulumi\.com\/oidc/);
        }
    });

    it("treats the host case-insensitively and ignores a trailing slash", () => {
        const r = analyzeOidcProvider({ url: "HTTPS://API.Pulumi.com/oidc/", clientIds: ["aws:acme"] }, acme);
        assert.equal(r.isPulumiIssuer, true);
        assert.equal(r.issuer, "api.pulumi.com/oidc");
        assert.equal(r.verdict, "pass");
    });

    it("is not applicable to other issuers (GitHub Actions), whatever their client IDs", () => {
        assert.deepEqual(project({ url: "https://token.actions.githubusercontent.com", clientIds: ["sts.amazonaws.com"] }, acme), {
            verdict: "pass",
            isPulumiIssuer: false,
            issuer: "token.actions.githubusercontent.com",
            findings: [],
        });
    });

    it("honours configured issuers (self-hosted Pulumi Cloud) and no longer treats the default one as Pulumi's", () => {
        const options = { organizations: ["acme"], issuers: ["pulumi.example.com/oidc"] };
        assert.equal(analyzeOidcProvider({ url: "https://pulumi.example.com/oidc", clientIds: ["aws:other"] }, options).verdict, "fail");
        assert.equal(analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:other"] }, options).isPulumiIssuer, false);
    });

    it("explicit audiences replace the organization-derived ones", () => {
        const options = { organizations: ["acme"], audiences: ["aws:acme"] };
        const r = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme", "acme"] }, options);
        assert.deepEqual(r.findings.map((f) => f.path), ["clientIdLists[1]"]);
    });

    it("without configured organizations checks the shape of each client ID", () => {
        const r = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme", "acme", "*", "sts.amazonaws.com:x"] });
        assert.equal(r.verdict, "fail");
        assert.deepEqual(r.findings.map((f) => f.path), ["clientIdLists[2]", "clientIdLists[3]"]);
        assert.match(r.findings[0]!.message, /configure 'organizations'/);
    });

    it("checks the oidc/v2 issuer's author-chosen audiences only against explicit audiences", () => {
        const url = "https://api.pulumi.com/oidc/v2";
        assert.equal(analyzeOidcProvider({ url, clientIds: ["my-custom-audience"] }, acme).verdict, "pass");
        assert.equal(analyzeOidcProvider({ url, clientIds: ["my-custom-audience"] }, { audiences: ["other"] }).verdict, "fail");
    });

    it("reports unknown values at preview as unknown, never pass", () => {
        const a = analyzeOidcProvider({ url: UNKNOWN, clientIds: ["aws:acme"] }, acme);
        assert.equal(a.verdict, "unknown");
        assert.match(a.findings[0]!.message, /unknown during preview/);
        const b = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: ["aws:acme", UNKNOWN] }, acme);
        assert.equal(b.verdict, "unknown");
        assert.match(b.findings[0]!.message, /clientIdLists\[1\]/);
        const c = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: UNKNOWN_SENTINELS[3] }, acme);
        assert.equal(c.verdict, "unknown");
    });

    it("fails closed on malformed input", () => {
        const missingUrl = analyzeOidcProvider({ url: undefined, clientIds: ["aws:acme"] }, acme);
        assert.equal(missingUrl.verdict, "error");
        assert.match(missingUrl.findings[0]!.message, /url must be a non-empty string, got nothing/);
        const badIds = analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: "aws:acme" }, acme);
        assert.equal(badIds.verdict, "error");
        assert.match(badIds.findings[0]!.message, /clientIdLists must be a list of strings, got a string/);
        assert.equal(analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: [1] }, acme).verdict, "error");
    });

    it("an absent client ID list admits no audience and passes", () => {
        assert.equal(analyzeOidcProvider({ url: "https://api.pulumi.com/oidc", clientIds: undefined }, acme).verdict, "pass");
    });
});

describe("allowedAudiences / isPulumiIssuer", () => {
    it("derives aws:<org> and <org> per organization; explicit audiences win; null when unconfigured", () => {
        assert.deepEqual(allowedAudiences({ organizations: ["a", "b"] }), ["aws:a", "a", "aws:b", "b"]);
        assert.deepEqual(allowedAudiences({ organizations: ["a"], audiences: ["x"] }), ["x"]);
        assert.equal(allowedAudiences({}), null);
    });

    it("recognises both default Pulumi issuers in URL or path form", () => {
        assert.equal(isPulumiIssuer("https://api.pulumi.com/oidc"), true);
        assert.equal(isPulumiIssuer("api.pulumi.com/oidc/v2"), true);
        assert.equal(isPulumiIssuer("https://api.pulumi.com/oidc/v3"), false);
        assert.equal(isPulumiIssuer("https://api.pulumi.com.evil.com/oidc"), false);
    });
});
