import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ResultShapeError, parseResultDocument } from "./input.js";
import { checkStack, verifyFailed, verifyVerified } from "./testdata/load.js";

const clone = <T>(v: T): T => structuredClone(v);

function shapeError(doc: unknown, message: RegExp): void {
    assert.throws(
        () => parseResultDocument(doc),
        (e: unknown) => {
            assert.ok(e instanceof ResultShapeError, String(e));
            assert.match(e.message, message);
            return true;
        },
    );
}

describe("parseResultDocument (ajv against verifier/schemas)", () => {
    it("accepts the sample results and recounts the summary instead of trusting it", () => {
        const check = clone(checkStack());
        check.summary = { pass: 99, fail: 0, unknown: 0, error: 0 };
        const [parsed] = parseResultDocument(check);
        assert.equal(parsed?.kind, "check");
        const expected = { pass: 0, fail: 0, unknown: 0, error: 0 };
        for (const r of check.results) expected[r.verdict]++;
        assert.deepEqual(parsed?.kind === "check" ? parsed.report.summary : undefined, expected);
        assert.equal(parseResultDocument(verifyVerified())[0]?.kind, "verify");
    });

    it("names the failing field with its path, in the CLI's words", () => {
        const bad = clone(checkStack());
        (bad.results[1] as { verdict: string }).verdict = "ok";
        shapeError(bad, /^results\[1\]\.verdict: expected one of pass, fail, unknown, error$/);
        const noFile = clone(checkStack());
        delete (noFile.results[0]!.target as { file?: string }).file;
        shapeError(noFile, /^results\[0\]\.target\.file: missing$/);
        const wrongType = clone(verifyFailed());
        (wrongType as unknown as { durationMs: string }).durationMs = "fast";
        shapeError(wrongType, /^durationMs: expected a number$/);
    });

    it("refuses fields the schema does not know (additionalProperties: false)", () => {
        const extra = clone(checkStack()) as unknown as Record<string, unknown>;
        extra.extraField = 1;
        shapeError(extra, /^extraField: not a field of this result/);
    });

    it("names the innermost problem of a oneOf (callerIdentity: object or null)", () => {
        const v = clone(verifyVerified()) as unknown as { callerIdentity: { account: string } };
        v.callerIdentity.account = "not-an-account";
        shapeError(v, /^callerIdentity\.account: must match pattern/);
    });

    it("prefixes the parts of a merged report with their place in it", () => {
        const merged: Record<string, unknown> = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            generatedAt: "2026-05-04T12:00:00.000Z",
            checks: checkStack(),
            verifications: [verifyVerified(), verifyFailed()],
            summary: { checks: { pass: 0, fail: 0, unknown: 0, error: 0 }, verifications: { verified: 1, failed: 1, error: 0 } },
            passed: false,
        };
        assert.equal(parseResultDocument(merged).length, 3);
        const bad = clone(merged) as { verifications: { checks: { status: string }[] }[] };
        bad.verifications[1]!.checks[0]!.status = "maybe";
        shapeError(bad, /^verifications\[1\]\.checks\[0\]\.status: expected one of pass, fail, skip$/);
        const badDate = clone(merged);
        badDate.generatedAt = "yesterday";
        shapeError(badDate, /^generatedAt: must match format "date-time"$/);
    });

    it("names at most three problems, then how many more", () => {
        const bad = clone(checkStack());
        bad.results = [...bad.results, ...clone(bad.results)];
        for (const r of bad.results) (r as { verdict: string }).verdict = "ok";
        assert.equal(bad.results.length, 6);
        shapeError(bad, /^results\[0\]\.verdict: [^;]+; results\[1\]\.verdict: [^;]+; results\[2\]\.verdict: [^;]+ \(and 3 more\)$/);
    });
});
