import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { signSigV4, verifySigV4 } from "./sigv4.js";

// AWS Signature Version 4 test suite, case "get-vanilla" (AWS General Reference, sigv4 test suite).
const VANILLA = {
    method: "GET",
    url: "/",
    headers: { Host: "example.amazonaws.com", "X-Amz-Date": "20150830T123600Z" },
    body: "",
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    region: "us-east-1",
    service: "service",
    amzDate: "20150830T123600Z",
};
const VANILLA_AUTH =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
const AT = Date.UTC(2015, 7, 30, 12, 36, 0);

function request(auth: string, extra: Record<string, string> = {}, body = ""): Parameters<typeof verifySigV4>[0] {
    return {
        method: "GET",
        url: "/",
        headers: { host: "example.amazonaws.com", "x-amz-date": "20150830T123600Z", authorization: auth, ...extra },
        body: Buffer.from(body),
    };
}
const secretFor = (id: string): string | undefined => (id === "AKIDEXAMPLE" ? VANILLA.secretAccessKey : undefined);

describe("SigV4 verification (node:crypto, independent of the AWS SDK)", () => {
    it("reproduces AWS's published get-vanilla signature", () => {
        assert.equal(signSigV4(VANILLA), VANILLA_AUTH);
    });

    it("accepts the published signature with the issued secret", () => {
        const r = verifySigV4(request(VANILLA_AUTH), secretFor, AT);
        assert.deepEqual(r, { ok: true, accessKeyId: "AKIDEXAMPLE", region: "us-east-1", service: "service" });
    });

    it("rejects a signature made with another secret", () => {
        const r = verifySigV4(request(VANILLA_AUTH), () => "another-secret-another-secret-another-sec", AT);
        assert.equal(r.ok, false);
        assert.equal(!r.ok && r.code, "SignatureDoesNotMatch");
    });

    it("rejects an unknown key id as InvalidClientTokenId", () => {
        const r = verifySigV4(request(VANILLA_AUTH.replace("AKIDEXAMPLE", "AKIDUNKNOWN")), secretFor, AT);
        assert.equal(!r.ok && r.code, "InvalidClientTokenId");
    });

    it("rejects a tampered signed header, a changed body hash, and a stale date", () => {
        const tamperedHost = verifySigV4({ ...request(VANILLA_AUTH), headers: { ...request(VANILLA_AUTH).headers, host: "evil.example.com" } }, secretFor, AT);
        assert.equal(!tamperedHost.ok && tamperedHost.code, "SignatureDoesNotMatch");
        const body = verifySigV4(request(VANILLA_AUTH, {}, "Action=GetCallerIdentity"), secretFor, AT);
        assert.equal(!body.ok && body.code, "SignatureDoesNotMatch");
        const stale = verifySigV4(request(VANILLA_AUTH), secretFor, AT + 16 * 60_000);
        assert.equal(!stale.ok && stale.code, "SignatureDoesNotMatch");
        assert.match(!stale.ok ? stale.message : "", /expired/);
    });

    it("rejects a missing or malformed Authorization header", () => {
        const missing = verifySigV4({ ...request(""), headers: { host: "h" } }, secretFor, AT);
        assert.equal(!missing.ok && missing.code, "MissingAuthenticationToken");
        const malformed = verifySigV4(request("AWS4-HMAC-SHA256 garbage"), secretFor, AT);
        assert.equal(!malformed.ok && malformed.code, "IncompleteSignature");
    });

    it("round-trips a POST with a form body and a session token header", () => {
        const body = "Action=GetCallerIdentity&Version=2011-06-15";
        const headers = {
            host: "127.0.0.1:4566",
            "content-type": "application/x-www-form-urlencoded",
            "x-amz-date": "20261126T000000Z",
            "x-amz-security-token": "token-token-token",
        };
        const auth = signSigV4({ method: "POST", url: "/", headers, body, accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s3cr3t-s3cr3t-s3cr3t", region: "eu-west-1", service: "sts", amzDate: "20261126T000000Z" });
        const r = verifySigV4({ method: "POST", url: "/", headers: { ...headers, authorization: auth }, body: Buffer.from(body) }, () => "s3cr3t-s3cr3t-s3cr3t", Date.UTC(2026, 10, 26));
        assert.equal(r.ok, true);
        const changedToken = verifySigV4({ method: "POST", url: "/", headers: { ...headers, "x-amz-security-token": "other", authorization: auth }, body: Buffer.from(body) }, () => "s3cr3t-s3cr3t-s3cr3t", Date.UTC(2026, 10, 26));
        assert.equal(changedToken.ok, false);
    });
});
