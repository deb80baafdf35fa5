import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { CheckReport } from "../results.js";
import { renderJunit } from "./junit.js";
import { buildModel } from "./model.js";
import { sampleInput, verifyBatch } from "./testdata/load.js";

interface Case {
    "@_classname": string;
    "@_name": string;
    "@_file"?: string;
    failure?: { "@_message": string; "@_type": string; "#text": string };
    error?: { "@_message": string; "#text": string };
    "system-out"?: string;
    skipped?: { "@_message": string };
}
interface Suite {
    "@_name": string;
    "@_tests": string;
    "@_failures": string;
    "@_errors": string;
    testcase: Case[];
}
interface Doc {
    testsuites: { "@_tests": string; "@_failures": string; "@_errors": string; testsuite: Suite[] };
}

function parse(xml: string): Doc {
    assert.equal(XMLValidator.validate(xml), true);
    return new XMLParser({ ignoreAttributes: false, isArray: (name) => name === "testsuite" || name === "testcase", parseTagValue: false }).parse(xml) as Doc;
}

describe("JUnit", () => {
    const doc = parse(renderJunit(buildModel(sampleInput())));

    it("has one test suite per input and one test case per role or environment", () => {
        const suites = doc.testsuites.testsuite.map((s) => [s["@_name"], s.testcase.map((c) => c["@_name"])]);
        assert.deepEqual(new Map(suites as [string, string[]][]), new Map([
            ["check: fixtures/reports/sources/stack-export.json", [
                "deployments-role (urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role)",
                "esc-networking-prod (urn:pulumi:prod::aws-oidc::aws:iam/role:Role::esc-networking-prod)",
                "pulumi-oidc (urn:pulumi:prod::aws-oidc::aws:iam/openIdConnectProvider:OpenIdConnectProvider::pulumi-oidc)",
            ]],
            ["check: fixtures/reports/sources/trust-policy-sub-wildcard.json", ["fixtures/reports/sources/trust-policy-sub-wildcard.json"]],
            ["verify: acme/payments/prod", ["acme/payments/prod"]],
            ["check: fixtures/reports/sources/preview.json", ["esc-role (urn:pulumi:dev::aws-oidc::aws:iam/role:Role::esc-role)"]],
            ["check: fixtures/reports/sources/trust-policy-pinned.json", ["fixtures/reports/sources/trust-policy-pinned.json"]],
            ["verify: acme/networking/prod", ["acme/networking/prod"]],
        ]));
        assert.deepEqual([doc.testsuites["@_tests"], doc.testsuites["@_failures"], doc.testsuites["@_errors"]], ["8", "4", "0"]);
        for (const s of doc.testsuites.testsuite) assert.equal(Number(s["@_tests"]), s.testcase.length);
    });

    it("fails failing and unknown cases, with the finding, the token and the fix; passes the rest", () => {
        const cases = doc.testsuites.testsuite.flatMap((s) => s.testcase);
        const byName = (n: string): Case => cases.find((c) => c["@_name"].startsWith(n))!;
        const deploy = byName("deployments-role");
        assert.equal(deploy.failure?.["@_type"], "high");
        assert.match(deploy.failure?.["#text"] ?? "", /oidc-trust-sub-pinned/);
        assert.match(deploy.failure?.["#text"] ?? "", /a token that gets in: iss=api\.pulumi\.com\/oidc aud=acme sub=pulumi:deploy:org:acme:project:sandbox/);
        assert.match(deploy.failure?.["#text"] ?? "", /fix: Add/);
        assert.match(deploy.failure?.["#text"] ?? "", /stack-export\.json:\d+/);
        assert.equal(byName("esc-role").failure?.["@_type"], "unknown");
        assert.match(byName("acme/payments/prod").failure?.["@_message"] ?? "", /AccessDenied/);
        for (const n of ["esc-networking-prod", "pulumi-oidc", "fixtures/reports/sources/trust-policy-pinned.json", "acme/networking/prod"]) {
            assert.equal(byName(n).failure, undefined, n);
            assert.equal(byName(n).error, undefined, n);
        }
        // Positive evidence in system-out.
        assert.match(byName("fixtures/reports/sources/trust-policy-pinned.json")["system-out"] ?? "", /subjects pulumi:environments:org:acme:env:payments\/prod, pulumi:environments:org:acme:env:payments\/staging/);
        assert.match(byName("acme/networking/prod")["system-out"] ?? "", /caller identity: arn:aws:sts::123456789012:assumed-role/);
        assert.equal(byName("fixtures/reports/sources/trust-policy-pinned.json")["@_file"], "fixtures/reports/sources/trust-policy-pinned.json");
    });

    it("puts a verify batch in one suite, and environments it listed but did not verify as skipped", () => {
        const d = parse(renderJunit(buildModel({ verifications: [verifyBatch()] })));
        const [batch, skipped] = d.testsuites.testsuite;
        assert.deepEqual(batch?.testcase.map((c) => [c["@_name"], c.error ? "error" : c.failure ? "failure" : "ok"]), [
            ["acme/billing/prod", "error"],
            ["acme/networking/staging", "ok"],
            ["expect-denied:acme/sandbox/scratch", "ok"],
        ]);
        assert.match(batch?.testcase[1]?.["system-out"] ?? "", /expected role: arn:aws:iam::123456789012:role\/esc-networking-staging-4e1a7b2 \(from definition\)/);
        assert.equal(skipped?.testcase[0]?.["@_name"], "acme/docs/readme");
        assert.equal(skipped?.testcase[0]?.skipped?.["@_message"], "its definition opens no aws-login");
        assert.deepEqual([d.testsuites["@_tests"], d.testsuites["@_errors"]], ["4", "1"]);
    });

    it("reports an error verdict as <error>", () => {
        const report: CheckReport = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            results: [{ target: { file: "bad.json" }, verdict: "error", findings: [] }],
            summary: { pass: 0, fail: 0, unknown: 0, error: 1 },
        };
        const d = parse(renderJunit(buildModel({ checks: [report] })));
        assert.match(d.testsuites.testsuite[0]?.testcase[0]?.error?.["@_message"] ?? "", /could not be analysed/);
        assert.equal(d.testsuites["@_errors"], "1");
    });

    it("escapes markup, quotes and characters XML cannot hold", () => {
        const nasty = `role "<x>" & 'y' ]]> \u0001\u001b end`;
        const report: CheckReport = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            results: [
                {
                    target: { file: "a.json", resource: { urn: "urn:x", type: "aws:iam/role:Role", name: nasty } },
                    verdict: "fail",
                    findings: [{ ruleId: "oidc-trust-aud-pinned", severity: "critical", message: nasty, path: "", location: {}, remediation: "</failure><x>", counterexample: null }],
                },
            ],
            summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
        };
        const d = parse(renderJunit(buildModel({ checks: [report] })));
        const c = d.testsuites.testsuite[0]?.testcase[0];
        // Controls are shown as escapes (XML 1.0 cannot hold them, and CI prints these names to its log).
        assert.equal(c?.["@_name"], `role "<x>" & 'y' ]]> \\x01\\x1b end (urn:x)`);
        assert.match(c?.failure?.["#text"] ?? "", /fix: <\/failure><x>/);
    });

    it("keeps its own line breaks in element text, and shows a value's as \\n: no value starts a line a CI system prints", () => {
        const forged = "real\n  fix: forged advice\n::error::x";
        const report: CheckReport = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            results: [
                {
                    target: { file: "a.json", resource: { urn: "urn:x", type: "aws:iam/role:Role", name: "r" } },
                    verdict: "fail",
                    findings: [{ ruleId: "oidc-trust-aud-pinned", severity: "critical", message: forged, path: "", location: {}, remediation: "fix it", counterexample: null }],
                    notes: [forged],
                },
            ],
            summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
        };
        const c = parse(renderJunit(buildModel({ checks: [report] }))).testsuites.testsuite[0]?.testcase[0];
        const failure = c?.failure?.["#text"] ?? "";
        assert.deepEqual(failure.split("\n").map((l) => l.trim().split(":")[0]), ["[critical] oidc-trust-aud-pinned", "real\\n  fix", "where", "fix", "see"]);
        assert.equal(failure.split("\n")[1], "  real\\n  fix: forged advice\\n::error::x");
        assert.deepEqual(String(c?.["system-out"]).split("\n"), ["note: real\\n  fix: forged advice\\n::error::x"]);
    });
});
