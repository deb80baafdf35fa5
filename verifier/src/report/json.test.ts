import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { CheckReport, VerifyBatchReport, VerifyReport } from "../results.js";
import type { MergedReport } from "./json.js";
import { renderJson } from "./json.js";
import { buildModel } from "./model.js";
import { FIXTURES, ROOT, checkFiles, checkPreview, checkStack, readJson, sampleInput, verifyFailed, verifyVerified } from "./testdata/load.js";

const SCHEMAS = join(ROOT, "verifier", "schemas");

const schemaPath = (name: string): string => join(SCHEMAS, `${name}.schema.json`);
const readSchema = (path: string): { $id?: string } => JSON.parse(readFileSync(path, "utf8")) as { $id?: string };

/** A validator for a producer's schema. */
function producerSchema(_t: TestContext, name: "check-result" | "verify-result"): ValidateFunction | undefined {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    return ajv.compile(readSchema(schemaPath(name)));
}

// The merged schema refers to the producers' schemas by relative URI: all three share one $id base.
const merged = readSchema(join(__dirname, "..", "..", "schemas", "merged-report.schema.json"));
const mergedAjv = new Ajv({ allErrors: true, strict: false });
addFormats(mergedAjv);
for (const name of ["check-result", "verify-result"]) {
    const schema = readSchema(schemaPath(name));
    assert.equal(schema.$id, new URL(`${name}.schema.json`, merged.$id).href, `${name} shares the merged schema's $id base`);
    mergedAjv.addSchema(schema);
}
const validateMerged = mergedAjv.compile(merged);

describe("sample results in fixtures/reports", () => {
    it("match the check result schema", (t) => {
        const validate = producerSchema(t, "check-result");
        if (!validate) return;
        for (const f of ["check-files.json", "check-stack.json", "check-preview.json"]) {
            assert.equal(validate(readJson(join(FIXTURES, f))), true, `${f}: ${JSON.stringify(validate.errors)}`);
        }
        assert.equal(validate({ ...checkFiles(), summary: {} }), false);
    });

    it("match the verify result schema", (t) => {
        const validate = producerSchema(t, "verify-result");
        if (!validate) return;
        for (const f of ["verify-verified.json", "verify-failed.json", "verify-batch.json"]) {
            assert.equal(validate(readJson(join(FIXTURES, f))), true, `${f}: ${JSON.stringify(validate.errors)}`);
        }
        assert.equal(validate({ ...verifyFailed(), verdict: "maybe" }), false);
    });
});

describe("JSON format", () => {
    it("prints check results alone as one check result, summary recounted", (t) => {
        const doc = JSON.parse(renderJson(buildModel({ checks: [checkFiles(), checkStack(), checkPreview()] }))) as CheckReport;
        assert.equal(doc.results.length, 6);
        assert.deepEqual(doc.summary, { pass: 3, fail: 2, unknown: 1, error: 0 });
        assert.deepEqual(doc.results[2], checkStack().results[0]);
        const validate = producerSchema(t, "check-result");
        if (validate) assert.equal(validate(doc), true, JSON.stringify(validate.errors));
    });

    it("prints one check result as it came, and one verify result as it came", () => {
        assert.deepEqual(JSON.parse(renderJson(buildModel({ checks: [checkStack()] }))), checkStack());
        assert.deepEqual(JSON.parse(renderJson(buildModel({ verifications: [verifyFailed()] }))), verifyFailed());
    });

    it("prints a mix as a merged report valid against merged-report.schema.json", (t) => {
        const doc = JSON.parse(renderJson(buildModel(sampleInput()))) as MergedReport;
        assert.equal(validateMerged(doc), true, mergedAjv.errorsText(validateMerged.errors));
        assert.deepEqual(doc.summary, { checks: { pass: 3, fail: 2, unknown: 1, error: 0 }, verifications: { verified: 1, failed: 1, error: 0 } });
        assert.equal(doc.passed, false);
        assert.equal(doc.generatedAt, "2026-05-04T12:00:00.000Z");
        assert.deepEqual(doc.verifications, [verifyVerified(), verifyFailed()]);
        assert.equal(validateMerged({ ...doc, passed: "no" }), false);
        const validate = producerSchema(t, "check-result");
        if (validate) assert.equal(validate(doc.checks), true, JSON.stringify(validate.errors));
    });

    it("prints several verify results as a merged report", () => {
        const doc = JSON.parse(renderJson(buildModel({ verifications: [verifyVerified(), verifyVerified()] }))) as MergedReport;
        assert.equal(validateMerged(doc), true, mergedAjv.errorsText(validateMerged.errors));
        assert.deepEqual(doc.checks.results, []);
        assert.equal(doc.passed, true);
        const _typed: (VerifyReport | VerifyBatchReport)[] = doc.verifications;
        assert.equal(_typed.length, 2);
    });
});
