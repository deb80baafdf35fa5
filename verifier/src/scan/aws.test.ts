import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FIXTURE_CREDENTIALS } from "../../../fixtures/esc/credentials.js";
import { accountInput } from "../commands/scan.js";
import { describeAwsError, mapBounded, ROLE_ARN } from "./aws.js";

describe("describeAwsError", () => {
    it("keeps the error name and first paragraph, drops the canonical request and redacts credential shapes", () => {
        const e = Object.assign(
            new Error(
                `The request signature we calculated does not match the signature you provided. Key ${FIXTURE_CREDENTIALS.accessKeyId}\n\n` +
                    `The Canonical String for this request should have been 'POST / x-amz-security-token:${FIXTURE_CREDENTIALS.sessionToken}'`,
            ),
            { name: "SignatureDoesNotMatch" },
        );
        const text = describeAwsError(e);
        assert.match(text, /^SignatureDoesNotMatch: The request signature we calculated does not match/);
        assert.ok(!text.includes(FIXTURE_CREDENTIALS.accessKeyId));
        assert.ok(!text.includes("Canonical"));
        assert.ok(!text.includes(FIXTURE_CREDENTIALS.sessionToken));
        assert.equal(describeAwsError(Object.assign(new Error("a\nb\u0007c"), { name: "Throttling" })), "Throttling: a b c");
    });
});

describe("mapBounded", () => {
    it("keeps order, never runs more than the limit at once, and runs every item", async () => {
        let inFlight = 0;
        let peak = 0;
        const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n, i) => {
            inFlight++;
            peak = Math.max(peak, inFlight);
            await new Promise((r) => setTimeout(r, n * 3));
            inFlight--;
            return `${i}:${n}`;
        });
        assert.deepEqual(out, ["0:5", "1:1", "2:4", "3:2", "4:3"]);
        assert.equal(peak, 2);
    });
});

describe("accountInput", () => {
    it("decodes the URL-encoded trust policies ListRoles returns and gives providers their https:// scheme", () => {
        const doc = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };
        const input = accountInput({
            account: "123456789012",
            callerArn: "arn:aws:iam::123456789012:user/audit",
            roles: [{ arn: "arn:aws:iam::123456789012:role/r", name: "r", trustPolicy: encodeURIComponent(JSON.stringify(doc)) }],
            providers: [{ arn: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc", url: "api.pulumi.com/oidc", clientIds: ["aws:acme"] }],
            requests: 4,
        });
        assert.equal(input.stackScoped, true);
        assert.deepEqual(JSON.parse(input.roles[0]!.trustPolicy as string), doc);
        assert.equal(input.roles[0]!.target.file, "aws://123456789012");
        assert.equal(input.providers[0]!.url, "https://api.pulumi.com/oidc");
    });
});

describe("ROLE_ARN", () => {
    it("accepts role ARNs of every partition, with paths; nothing else", () => {
        for (const ok of ["arn:aws:iam::111111111111:role/a", "arn:aws-us-gov:iam::111111111111:role/team/x/audit", "arn:aws-cn:iam::111111111111:role/a.b@c"]) {
            assert.ok(ROLE_ARN.test(ok), ok);
        }
        for (const bad of ["arn:aws:iam::1111:role/a", "arn:aws:iam::111111111111:user/a", "arn:aws:sts::111111111111:assumed-role/a/b", "role/a"]) {
            assert.ok(!ROLE_ARN.test(bad), bad);
        }
    });
});
