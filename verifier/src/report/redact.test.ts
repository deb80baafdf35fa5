import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { redactDeep, redactText } from "./redact.js";

// Planted values are assembled at run time so that no credential-shaped literal sits in the repository.
const ak = (prefix: string): string => `${prefix}${"Q7XK2M9P4R8T6W3Z"}`;
const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "8HqV2sLw0a";
const sessionToken = "IQoJb3JpZ2luX2VjEJr" + "A1b2C3d4E5f6G7h8I9j0K/L+".repeat(12) + "==";
const pulumiToken = `pul-${"0123456789abcdef".repeat(2)}01234567`;
const jwt = `eyJhbGciOiJSUzI1NiJ9.${"eyJzdWIiOiJwdWx1bWkifQ"}.c2lnbmF0dXJlLXZhbHVl`;

describe("redactText", () => {
    it("shortens AKIA/ASIA access key ids to their prefix and length", () => {
        for (const prefix of ["AKIA", "ASIA"]) {
            const out = redactText(`key ${ak(prefix)} used`);
            assert.equal(out, `key ${prefix}…[redacted, 20 chars] used`);
        }
    });

    it("removes secret keys, session tokens, Pulumi tokens and JWTs", () => {
        const text = `secret=${secretKey} token=${sessionToken} pat ${pulumiToken} jwt ${jwt}`;
        const out = redactText(text);
        for (const planted of [secretKey, sessionToken, pulumiToken, jwt]) assert.ok(!out.includes(planted), out);
        assert.match(out, /secret=\[redacted, 40 chars\]/);
        assert.match(out, /token=\[redacted, \d+ chars\]/);
        assert.match(out, /pat pul-…\[redacted, 44 chars\]/);
        assert.match(out, /jwt \[redacted JWT, \d+ chars\]/);
    });

    it("leaves names, URNs, ARNs, subjects and hex digests alone", () => {
        const keep = [
            "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role",
            "arn:aws:iam::123456789012:role/MyVeryLongRoleName2024ForPulumiDeploymentsX",
            "pulumi:environments:org:acme:env:pulumi-environments-production/networking-eu-west-1",
            "pulumi:deploy:org:acme:project:payments:stack:prod:operation:update:scope:write",
            "AcmeCorpProductionDeploymentRoleForPulumi",
            "0123456789abcdef0123456789abcdef01234567",
            "Statement[1].Condition.StringLike[\"api.pulumi.com/oidc:sub\"]",
        ];
        for (const s of keep) assert.equal(redactText(s), s);
    });

    it("redacts keys and values deep inside objects and arrays without touching the input", () => {
        const input = { a: [{ detail: ak("ASIA") }], [ak("AKIA")]: 1, n: 3, b: null };
        const out = redactDeep(input);
        assert.deepEqual(out, { a: [{ detail: "ASIA…[redacted, 20 chars]" }], "AKIA…[redacted, 20 chars]": 1, n: 3, b: null });
        assert.equal(input.a[0]?.detail, ak("ASIA"));
    });
});
