import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { oneLine, REDACTED, Redactor, redactingSink, shortenKeyId } from "./redact.js";
import { FIXTURE_CREDENTIALS } from "../../../fixtures/esc/credentials.js";

describe("redaction", () => {
    it("shortens access key ids to prefix and last four", () => {
        assert.equal(shortenKeyId(FIXTURE_CREDENTIALS.accessKeyId), "ASIA…MPLE");
        assert.equal(shortenKeyId("AKIA1234"), "AK…");
    });
    it("scrubs registered secrets, longest first, and ignores short values", () => {
        const r = new Redactor();
        r.add("secret-value-1", "secret-value-12345", undefined, "short", null);
        assert.equal(r.size, 2);
        assert.equal(r.scrub("a secret-value-12345 b secret-value-1 c short"), `a ${REDACTED} b ${REDACTED} c short`);
    });
    it("wraps a sink so every chunk is scrubbed, keeping isTTY", () => {
        const written: string[] = [];
        const r = new Redactor();
        const sink = redactingSink({ write: (s: string) => written.push(s), isTTY: true }, r);
        r.add("pul-0123456789abcdef");
        sink.write("token pul-0123456789abcdef here");
        assert.deepEqual(written, [`token ${REDACTED} here`]);
        assert.equal(sink.isTTY, true);
    });
    it("makes service text one line without control characters", () => {
        assert.equal(oneLine("a\nb\tc\u0007d   e"), "a b c d e");
        assert.equal(oneLine("x".repeat(50), 10), "xxxxxxx...");
    });
});
