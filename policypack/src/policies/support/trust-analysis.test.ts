import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeTrustPolicy } from "../../analysis/index.js";
import { analyzeRoleTrust } from "./trust-analysis.js";

const policy = (sub: string): string =>
    JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" }, StringLike: { "api.pulumi.com/oidc:sub": sub } },
            },
        ],
    });

describe("analyzeRoleTrust", () => {
    it("gives the second role policy the first one's analysis of the same text under equal options", () => {
        const doc = policy("pulumi:environments:org:acme:env:svc/*");
        const first = analyzeRoleTrust(doc, { organizations: ["acme"] });
        assert.deepEqual(first, analyzeTrustPolicy(doc, { organizations: ["acme"] }));
        // Equal options in another object (each policy reads its own config): the same analysis, not a new one.
        assert.equal(analyzeRoleTrust(doc, { organizations: ["acme"] }), first);
        // Other options, or another text: analysed again, and each answer is its own.
        const other = analyzeRoleTrust(doc, { organizations: ["acme"], subjectScope: "project" });
        assert.notEqual(other, first);
        assert.deepEqual(other, analyzeTrustPolicy(doc, { organizations: ["acme"], subjectScope: "project" }));
        const loose = analyzeRoleTrust(policy("pulumi:environments:org:acme:env:*"), { organizations: ["acme"] });
        assert.equal(loose.verdict, "fail");
        assert.equal(first.verdict, "pass");
    });

    it("keeps no result that is an error, and analyses a decoded document every time", () => {
        const broken = '{"Version": "2012-10-17", "Statement": [';
        const a = analyzeRoleTrust(broken, {});
        assert.equal(a.verdict, "error");
        assert.notEqual(analyzeRoleTrust(broken, {}), a);
        const decoded = JSON.parse(policy("pulumi:environments:org:acme:env:svc/prod")) as unknown;
        assert.notEqual(analyzeRoleTrust(decoded, {}), analyzeRoleTrust(decoded, {}));
    });
});
