import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { issuerMatches, normalizeIssuer, parseProviderArn } from "./principal.js";
import { findUnknowns } from "./unknowns.js";
import { UNKNOWN_SENTINELS } from "./constants.js";

describe("provider ARNs and issuers", () => {
    it("parses provider ARNs in every partition", () => {
        assert.deepEqual(parseProviderArn("arn:aws-us-gov:iam::123456789012:oidc-provider/API.pulumi.com/oidc"), {
            partition: "aws-us-gov",
            account: "123456789012",
            issuer: "api.pulumi.com/oidc",
        });
        assert.equal(parseProviderArn("arn:aws:iam::123456789012:role/x"), null);
        assert.equal(parseProviderArn("api.pulumi.com/oidc"), null);
    });

    it("normalizes scheme, trailing slash and host case, keeping path case", () => {
        assert.equal(normalizeIssuer("https://API.Pulumi.com/oidc/"), "api.pulumi.com/oidc");
        assert.equal(normalizeIssuer("pulumi.example.com:8443/OIDC"), "pulumi.example.com:8443/OIDC");
        assert.equal(issuerMatches("https://api.pulumi.com/oidc", "api.pulumi.com/oidc"), true);
        assert.equal(issuerMatches("api.pulumi.com/oidc/v2", "api.pulumi.com/oidc"), false);
    });
});

describe("findUnknowns", () => {
    it("finds sentinels at any depth and inside JSON strings", () => {
        const u = UNKNOWN_SENTINELS[0]!;
        assert.deepEqual(findUnknowns({ Statement: [{ Principal: { Federated: u } }] }), ["Statement[0].Principal.Federated"]);
        assert.deepEqual(findUnknowns(`{"a":"${u}"}`), [""]);
        assert.deepEqual(findUnknowns({ a: ["x", 1, null] }), []);
    });
});
