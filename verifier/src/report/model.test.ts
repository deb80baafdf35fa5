import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RULES } from "oidc-guard-policypack/analysis";
import type { CheckReport, VerifyReport } from "../results.js";
import { REPORT_FORMATS, renderReport } from "./index.js";
import { UNEXPLAINED_FAILURE_RULE, buildModel, ruleFor } from "./model.js";
import { checkFiles, sampleInput, verifyBatch, verifyFailed, verifyVerified } from "./testdata/load.js";

const tool = { name: "oidc-guard", version: "0.1.0" };

describe("buildModel", () => {
    it("turns every check result and verify run into one entry with normalized status", () => {
        const model = buildModel(sampleInput());
        assert.equal(model.entries.length, 8);
        assert.deepEqual(model.counts.status, { pass: 4, fail: 3, unknown: 1, error: 0 });
        assert.deepEqual(model.counts.severity, { critical: 0, high: 3, medium: 1, low: 0 });
        assert.equal(model.counts.checked, 6);
        assert.equal(model.counts.verified, 2);
        assert.equal(model.passed, false);
        // Worst first: failures, then unknown, then passes.
        assert.deepEqual(
            model.entries.map((e) => e.status),
            ["fail", "fail", "fail", "unknown", "pass", "pass", "pass", "pass"],
        );
        const env = model.entries.find((e) => e.environment === "acme/payments/prod");
        assert.equal(env?.status, "fail");
        assert.equal(env?.findings[0]?.ruleId, "esc-verify/environment-opens");
        assert.equal(new Set(model.entries.map((e) => e.id)).size, 8);
    });

    it("takes rule metadata from the pack's RULES (the same objects, not copies)", () => {
        const model = buildModel(sampleInput());
        const sub = model.entries.flatMap((e) => e.findings).find((f) => f.ruleId === "oidc-trust-sub-pinned");
        assert.equal(sub?.rule, RULES.find((r) => r.id === "oidc-trust-sub-pinned"));
        assert.deepEqual(model.rules.slice(0, RULES.length), [...RULES]);
        assert.ok(model.rules.some((r) => r.id === "esc-verify/environment-opens"));
        assert.equal(ruleFor("oidc-provider-config"), RULES.find((r) => r.id === "oidc-provider-config"));
        assert.deepEqual(ruleFor("from-a-newer-version", { severity: "low", remediation: "do x" }).severity, "low");
    });

    it("keeps positive evidence and the source position of every finding", () => {
        const model = buildModel(sampleInput());
        const pinned = model.entries.find((e) => e.file?.endsWith("trust-policy-pinned.json"));
        assert.deepEqual(pinned?.admitted[0]?.subjects, [
            "pulumi:environments:org:acme:env:payments/prod",
            "pulumi:environments:org:acme:env:payments/staging",
        ]);
        const wildcard = model.entries.find((e) => e.file?.endsWith("trust-policy-sub-wildcard.json"));
        assert.equal(wildcard?.findings[0]?.position?.exact, true);
        assert.match(wildcard?.findings[0]?.statement ?? "", /AnyAcmeEnvironment/);
    });

    it("quotes no statement when asked not to (JUnit shows none), and finds the same positions", () => {
        const quoted = buildModel(sampleInput());
        const bare = buildModel(sampleInput(), { statements: false });
        const findings = (m: typeof quoted) => m.entries.flatMap((e) => e.findings);
        assert.ok(findings(quoted).some((f) => f.statement !== undefined));
        assert.ok(findings(bare).every((f) => f.statement === undefined));
        assert.deepEqual(findings(bare).map((f) => f.position), findings(quoted).map((f) => f.position));
        assert.equal(renderReport("junit", bare), renderReport("junit", quoted));
    });

    it("never lets a non-passing result without findings look clean", () => {
        const bare = (verdict: "fail" | "unknown" | "error"): CheckReport => ({
            tool,
            results: [{ target: { file: "p.json" }, verdict, findings: [] }],
            summary: { pass: 0, fail: 0, unknown: 0, error: 0 },
        });
        const rules = (["fail", "unknown", "error"] as const).map((v) => buildModel({ checks: [bare(v)] }).entries[0]?.findings[0]?.ruleId);
        assert.deepEqual(rules, [UNEXPLAINED_FAILURE_RULE, "oidc-trust-unknown-at-preview", "oidc-trust-document-valid"]);
        // A verify run that says "failed" without a failed check, or "verified" with one, is not a pass.
        const quiet: VerifyReport = { ...verifyVerified(), verdict: "failed" };
        assert.equal(buildModel({ verifications: [quiet] }).entries[0]?.status, "fail");
        assert.equal(buildModel({ verifications: [quiet] }).entries[0]?.findings.length, 1);
        const contradictory: VerifyReport = { ...verifyFailed(), verdict: "verified" };
        assert.equal(buildModel({ verifications: [contradictory] }).entries[0]?.status, "fail");
        assert.equal(buildModel({ verifications: [{ ...verifyVerified(), verdict: "error" }] }).entries[0]?.status, "error");
    });

    it("unfolds a verify batch: one entry per environment and per batch check; skipped environments listed", () => {
        const model = buildModel({ verifications: [verifyBatch()], origins: new Map([[verifyBatch(), "x"]]) });
        assert.deepEqual(
            model.entries.map((e) => [e.name, e.status]),
            [
                ["acme/billing/prod", "error"],
                ["acme/networking/staging", "pass"],
                ["expect-denied:acme/sandbox/scratch", "pass"],
            ],
        );
        assert.deepEqual(model.skipped, [{ environment: "acme/docs/readme", reason: "its definition opens no aws-login" }]);
        assert.equal(model.entries[2]?.environment, "acme/sandbox/scratch");
        assert.ok(model.entries.every((e) => e.suite === "batch"));
        assert.deepEqual(model.entries[1]?.facts.map((f) => f.label), ["Expected role", "Caller identity", "Access key id", "STS GetCallerIdentity", "Duration"]);
        assert.deepEqual(model.entries[0]?.facts.find((f) => f.label === "Error")?.value, "rate-limited: Pulumi Cloud answered 429 Too Many Requests after 4 attempts");
        // A failing batch check is a failure of its own, under one rule for all denied environments.
        const denied = verifyBatch();
        denied.checks[0] = { id: "expect-denied:acme/sandbox/scratch", status: "fail", detail: "got in: it received credentials" };
        const failed = buildModel({ verifications: [denied] }).entries.find((e) => e.name.startsWith("expect-denied"));
        assert.equal(failed?.status, "fail");
        assert.equal(failed?.findings[0]?.ruleId, "esc-verify/expect-denied");
        assert.match(failed?.findings[0]?.message ?? "", /expect-denied:acme\/sandbox\/scratch: got in/);
        // A batch that did not verify, with nothing inside to say why, is still not a pass.
        const quiet = { ...verifyBatch(), verdict: "failed" as const, results: [verifyVerified()], checks: [] };
        assert.equal(buildModel({ verifications: [quiet] }).passed, false);
    });

    it("passes only when there is something and all of it passed", () => {
        assert.equal(buildModel({}).passed, false);
        const onlyPass: CheckReport = { ...checkFiles(), results: checkFiles().results.filter((r) => r.verdict === "pass") };
        assert.equal(buildModel({ checks: [onlyPass], verifications: [verifyVerified()] }).passed, true);
    });

    it("redacts what it copies from the inputs", () => {
        const detail = `key ${"AS" + "IA"}${"Q7XK2M9P4R8T6W3Z"}`;
        const leaky = { ...verifyFailed(), checks: [{ id: "x", status: "fail" as const, detail }] };
        const model = buildModel({ verifications: [leaky] });
        assert.equal(model.entries[0]?.checks[0]?.detail, "key ASIA…[redacted, 20 chars]");
        assert.match(model.entries[0]?.findings[0]?.message ?? "", /ASIA…\[redacted/);
        // The input keeps its own text: the redacted copy is the model's.
        assert.equal(leaky.checks[0]!.detail, detail);
    });

    it("shares what it need not redact, and no format's rendering changes its inputs", () => {
        const input = sampleInput();
        const before = structuredClone({ checks: input.checks, verifications: input.verifications });
        const model = buildModel(input);
        // A result with nothing to redact is read as it is, not copied (a report of 100,000 roles is not held twice).
        const stack = model.entries.find((e) => e.urn?.endsWith("::esc-networking-prod"))!;
        const result = input.checks!.flatMap((c) => c.results).find((r) => r.target.resource?.urn === stack.urn)!;
        assert.equal(stack.admitted, result.admitted);
        for (const format of REPORT_FORMATS) renderReport(format, model);
        assert.deepEqual({ checks: input.checks, verifications: input.verifications }, before);
    });
});
