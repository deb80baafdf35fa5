import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Ajv from "ajv";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { VerifyBatchReport, VerifyReport } from "../results.js";
import { render, renderBatchText, renderJunit, renderText } from "./render.js";
import { FIXTURE_CREDENTIALS } from "../../../fixtures/esc/credentials.js";

const schema = JSON.parse(readFileSync(join(__dirname, "..", "..", "schemas", "verify-result.schema.json"), "utf8")) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

const verified: VerifyReport = {
    tool: { name: "oidc-guard", version: "0.1.0" },
    environment: "acme/platform/prod",
    verdict: "verified",
    checks: [
        { id: "environment-opens", status: "pass", detail: "opened and read" },
        { id: "credentials-expiry", status: "skip", detail: "not exposed" },
        { id: "sts-caller-identity", status: "pass", detail: "works" },
    ],
    callerIdentity: { account: "123456789012", arn: "arn:aws:sts::123456789012:assumed-role/r/s" },
    expectedRole: { arn: "arn:aws:iam::123456789012:role/r", source: "definition" },
    accessKeyId: "ASIA…MPLE",
    sts: "called",
    error: null,
    durationMs: 1234,
};
const errored: VerifyReport = {
    ...verified,
    environment: "acme/platform/gone",
    verdict: "error",
    checks: [{ id: "environment-opens", status: "fail", detail: "could not verify: opening acme/platform/gone: HTTP 404 <not found> & \"gone\"" }],
    callerIdentity: null,
    expectedRole: null,
    accessKeyId: null,
    sts: "skipped",
    error: { kind: "not-found", message: "HTTP 404" },
};
const failed: VerifyReport = {
    ...verified,
    environment: "acme/platform/static",
    verdict: "failed",
    checks: [{ id: "credentials-temporary", status: "fail", detail: "long-lived key" }],
    diagnostics: [{ message: "platform/static:4:7: boom", hint: "fix it" }],
};
const batch: VerifyBatchReport = {
    tool: verified.tool,
    verdict: "failed",
    results: [verified, failed, errored],
    checks: [{ id: "expect-denied:acme/platform/dev", status: "pass", detail: "refused" }],
    skipped: [{ environment: "acme/platform/no-aws", reason: "its definition opens no aws-login" }],
    summary: { verified: 1, failed: 1, error: 1 },
};

describe("rendering", () => {
    it("json matches the schema for one environment and for a batch", () => {
        for (const r of [verified, errored, failed, batch]) {
            const doc = JSON.parse(render(r, "json")) as unknown;
            assert.ok(validate(doc), JSON.stringify(validate.errors));
        }
    });

    it("the schema rejects what the CLI never prints (a leaked key id, an unknown status)", () => {
        assert.equal(validate({ ...verified, accessKeyId: FIXTURE_CREDENTIALS.accessKeyId }), false);
        assert.equal(validate({ ...verified, checks: [{ id: "environment-opens", status: "maybe", detail: "" }] }), false);
        assert.equal(validate({ ...verified, verdict: "ok" }), false);
    });

    it("text: verdict line, one line per check, identity, diagnostics with hints", () => {
        const t = renderText(verified);
        assert.match(t, /^acme\/platform\/prod: VERIFIED \(1\.2 s\)\n {2}pass {3}environment-opens {4}opened and read\n/);
        assert.match(t, /\n {2}skip {3}credentials-expiry {3}not exposed\n/);
        assert.match(t, /caller identity: arn:aws:sts::123456789012:assumed-role\/r\/s \(account 123456789012\)/);
        assert.match(renderText(errored), /^acme\/platform\/gone: COULD NOT VERIFY[^\n]*\n {2}ERROR {2}environment-opens/);
        assert.match(renderText(failed), /diagnostics:\n {2}platform\/static:4:7: boom\n {4}hint: fix it\n/);
    });

    it("batch text: one summary table and the problems of each environment that did not verify", () => {
        const t = renderBatchText(batch);
        assert.match(t, /^ENVIRONMENT {11}VERDICT {3}CALLER \/ FIRST PROBLEM\n/);
        assert.match(t, /acme\/platform\/prod {4}verified {2}arn:aws:sts::123456789012:assumed-role\/r\/s\n/);
        assert.match(t, /acme\/platform\/static {2}failed {4}credentials-temporary: long-lived key\n/);
        assert.match(t, /\n3 environments: 1 verified, 1 failed, 1 could not be verified; 1 skipped/);
        assert.match(t, /\nverdict: failed\n$/);
    });

    it("junit: well-formed, one testcase per check, failure vs error vs skipped, escaped", () => {
        const x = renderJunit(batch);
        assert.equal(XMLValidator.validate(x), true);
        const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(x) as {
            testsuites: { tests: string; failures: string; errors: string; skipped: string; testsuite: { name: string; testcase: unknown }[] };
        };
        assert.deepEqual([doc.testsuites.tests, doc.testsuites.failures, doc.testsuites.errors, doc.testsuites.skipped], ["6", "1", "1", "1"]);
        assert.deepEqual(doc.testsuites.testsuite.map((s) => s.name), ["acme/platform/prod", "acme/platform/static", "acme/platform/gone", "batch"]);
        assert.match(x, /<error message="could not verify: opening acme\/platform\/gone: HTTP 404 &lt;not found&gt; &amp; &quot;gone&quot;" type="could-not-verify">/);
        assert.match(renderJunit(verified), /<testsuite name="acme\/platform\/prod" tests="3" failures="0" errors="0" skipped="1" time="1\.234">/);
    });

    it("shows a hostile ARN from STS and a hostile service message escaped in every format", () => {
        const evil = "\u001b]0;t\u0007\r\n::error::forged\u009b2J\u2028";
        const r: VerifyReport = {
            ...verified,
            callerIdentity: { account: "123456789012", arn: `arn:aws:sts::123456789012:assumed-role/r/${evil}` },
            checks: [{ id: "sts-caller-identity", status: "fail", detail: `STS said ${evil}` }],
            verdict: "failed",
        };
        for (const format of ["text", "json", "junit"] as const) {
            const out = render(r, format);
            // eslint-disable-next-line no-control-regex -- matching control characters is the point
            assert.doesNotMatch(out, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/, format);
            assert.doesNotMatch(out, /^[ \t]*::/m, format);
        }
        assert.match(render(r, "text"), /assumed-role\/r\/\\x1b\]0;t\\x07\\r\\n::error::forged\\x9b2J\\u2028/);
    });

    it("junit: a value's line break is shown as \\n in element text, the report's own lines are kept", () => {
        const withBreaks: VerifyReport = {
            ...errored,
            checks: [{ id: "environment-opens", status: "fail", detail: "could not verify: HTTP 400 a\n  hint: forged ##[add-mask]x" }],
            diagnostics: [{ message: "platform/gone:1:1: bad\nline", hint: "fix\nit" }],
        };
        const x = render(withBreaks, "junit");
        const text = /<error [^>]*>([^<]*)<\/error>/.exec(x)?.[1] ?? "";
        assert.deepEqual(text.split("\n"), ["could not verify: HTTP 400 a\\n  hint: forged ##&#91;add-mask]x", "platform/gone:1:1: bad\\nline", "hint: fix\\nit"]);
    });
});
