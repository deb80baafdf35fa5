/**
 * The JSON report in chunks (render.ts): byte for byte what one `JSON.stringify(report, null, 2)` writes, escaped
 * for output, however many chunks a large report takes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { escapeJsonOutput } from "../escape.js";
import type { CheckReport, CheckResult } from "../results.js";
import { renderJson, renderJsonChunks } from "./render.js";

function report(results: CheckResult[]): CheckReport {
    const summary = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of results) summary[r.verdict]++;
    return { tool: { name: "oidc-guard", version: "0.0.0-test" }, results, summary };
}

function result(i: number, message: string): CheckResult {
    return {
        target: { file: "stack.json", resource: { urn: `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`, type: "aws:iam/role:Role", name: `role-${i}` } },
        verdict: i % 3 === 0 ? "fail" : "pass",
        findings: i % 3 === 0 ? [{ ruleId: "oidc-trust-sub-pinned", severity: "high", message, path: "assumeRolePolicy", location: { statementIndex: 0 }, remediation: "pin sub", counterexample: null }] : [],
        notes: [`note ${i}`],
    };
}

const whole = (r: CheckReport): string => `${escapeJsonOutput(JSON.stringify(r, null, 2))}\n`;

describe("renderJsonChunks", () => {
    it("writes what JSON.stringify writes for no, one and a few results", () => {
        for (const n of [0, 1, 3]) {
            const r = report(Array.from({ length: n }, (_, i) => result(i, "m")));
            assert.equal([...renderJsonChunks(r)].join(""), whole(r));
            assert.equal(renderJson(r), whole(r));
        }
    });

    it("splits a large report into chunks whose text, joined, is the one report, escapes included", () => {
        // C1 and bidi controls, U+2028 and DEL in values must come out as \u escapes wherever a chunk ends.
        const hostile = "x\u009b31m \u202e evil \u2028 line \u007f ".repeat(20);
        const r = report(Array.from({ length: 4000 }, (_, i) => result(i, `${hostile}${"lorem ipsum ".repeat(30)}${i}`)));
        const chunks = [...renderJsonChunks(r)];
        assert.ok(chunks.length > 2, `only ${chunks.length} chunk(s)`);
        assert.equal(chunks.join(""), whole(r));
        assert.doesNotMatch(chunks.join(""), /[\u007f-\u009f\u2028\u202e]/);
        assert.deepEqual(JSON.parse(chunks.join("")), JSON.parse(JSON.stringify(r)));
    });
});
