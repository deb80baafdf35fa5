import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { describeBody, hintFor } from "./errors.js";

describe("hintFor", () => {
    it("gives 'an open is not sent twice' only for an open that was not retried", () => {
        const open = hintFor("pulumi-cloud", "server", { open: true });
        assert.match(open ?? "", /an open is not sent twice, since the first may have been processed/);
        // A read (or list) that was not retried, for whatever reason, is not an open.
        for (const hint of [hintFor("pulumi-cloud", "server"), hintFor("pulumi-cloud", "server", { retried: false, open: false })]) {
            assert.equal(hint, "Pulumi Cloud returned a server error: retry later");
            assert.doesNotMatch(hint ?? "", /an open/);
        }
        // Sent more than once: the errors persisted, whatever the request.
        for (const open of [false, true]) {
            assert.equal(hintFor("pulumi-cloud", "server", { retried: true, open }), "Pulumi Cloud kept returning server errors: retry later");
        }
    });

    it("names STS, never Pulumi Cloud's open, for STS", () => {
        assert.equal(hintFor("sts", "server"), "AWS STS returned a server error: retry later");
        assert.equal(hintFor("sts", "server", { retried: true }), "AWS STS kept returning server errors: retry later");
        assert.doesNotMatch(hintFor("sts", "server", { open: true }) ?? "", /open/);
    });
});

describe("describeBody", () => {
    it("names the content type (without parameters) and the size, never the body", () => {
        assert.equal(describeBody("text/html; charset=utf-8", 36), "text/html, 36 bytes");
        assert.equal(describeBody("text/plain", 0), "text/plain, an empty body");
        assert.equal(describeBody(undefined, 0), "no content type, an empty body");
        assert.equal(describeBody("", 1234567), "no content type, 1,234,567 bytes");
        // The header is the server's text: one line, bounded.
        assert.equal(describeBody("text/\nhtml", 2), "text/ html, 2 bytes");
    });
});
