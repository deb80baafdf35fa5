import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { escBasePath, escConnectionFromEnv, stsConnectionFromEnv } from "./config.js";
import { VerifyConfigError } from "./errors.js";

describe("PULUMI_BACKEND_URL to the ESC base path", () => {
    it("keeps the port and the path prefix that the SDK's constructor drops", () => {
        assert.equal(escBasePath("https://api.pulumi.com"), "https://api.pulumi.com/api/esc");
        assert.equal(escBasePath("https://pulumi.example.com:8443/prefix/"), "https://pulumi.example.com:8443/prefix/api/esc");
        assert.equal(escBasePath("http://127.0.0.1:4000"), "http://127.0.0.1:4000/api/esc");
        assert.equal(escBasePath("https://pulumi.example.com/api/esc"), "https://pulumi.example.com/api/esc");
    });
    it("rejects non-http schemes, user info and queries without echoing credentials", () => {
        assert.throws(() => escBasePath("file:///tmp/state"), /uses 'file:\/\/'/);
        assert.throws(() => escBasePath("s3://bucket"), /uses 's3:\/\/'/);
        assert.throws(() => escBasePath("not a url"), /not a valid URL/);
        assert.throws(
            () => escBasePath("https://me:supersecretpw@pulumi.example.com"),
            (e: unknown) => e instanceof VerifyConfigError && /user info/.test(e.message) && !e.message.includes("supersecretpw"),
        );
        assert.throws(() => escBasePath("https://pulumi.example.com/?token=abc"), /query or fragment/);
    });
});

describe("configuration from the environment only", () => {
    it("requires PULUMI_ACCESS_TOKEN and defaults the backend", () => {
        assert.throws(() => escConnectionFromEnv({}), /PULUMI_ACCESS_TOKEN is not set/);
        assert.throws(() => escConnectionFromEnv({ PULUMI_ACCESS_TOKEN: "  " }), /PULUMI_ACCESS_TOKEN is not set/);
        assert.deepEqual(escConnectionFromEnv({ PULUMI_ACCESS_TOKEN: "pul-x" }), { basePath: "https://api.pulumi.com/api/esc", token: "pul-x" });
        assert.equal(escConnectionFromEnv({ PULUMI_ACCESS_TOKEN: "t", PULUMI_BACKEND_URL: "http://h:1/p" }).basePath, "http://h:1/p/api/esc");
    });
    it("reads the STS region and endpoint as the AWS SDK does", () => {
        assert.deepEqual(stsConnectionFromEnv({}), { region: "us-east-1" });
        assert.deepEqual(stsConnectionFromEnv({ AWS_DEFAULT_REGION: "eu-west-1" }), { region: "eu-west-1" });
        assert.deepEqual(stsConnectionFromEnv({ AWS_REGION: "us-gov-west-1", AWS_ENDPOINT_URL: "http://a:1" }), { region: "us-gov-west-1", endpoint: "http://a:1" });
        assert.equal(stsConnectionFromEnv({ AWS_ENDPOINT_URL: "http://a:1", AWS_ENDPOINT_URL_STS: "http://b:2" }).endpoint, "http://b:2");
        assert.throws(() => stsConnectionFromEnv({ AWS_REGION: "mars" }), /not an AWS region/);
        assert.throws(() => stsConnectionFromEnv({ AWS_ENDPOINT_URL_STS: "ftp://x" }), /must be an http\(s\) URL/);
    });
});
