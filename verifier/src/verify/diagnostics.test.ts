import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { classifyDiagnostic, MAX_SHOWN_DIAGNOSTICS, showDiagnostic, showDiagnostics } from "./diagnostics.js";

const denied = "WebIdentityErr: failed to retrieve credentials\ncaused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity\n\tstatus code: 403, request id: 1234";

describe("ESC diagnostics", () => {
    it("classifies the AWS failures that have a known fix", () => {
        assert.equal(classifyDiagnostic(denied), "web-identity-denied");
        assert.equal(classifyDiagnostic("WebIdentityErr: ...\ncaused by: ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."), "max-session-duration");
        assert.equal(classifyDiagnostic("caused by: InvalidIdentityToken: No OpenIDConnect provider found in your account for https://api.pulumi.com/oidc"), "missing-provider");
        assert.equal(classifyDiagnostic("caused by: InvalidIdentityToken: Incorrect token audience"), "audience");
        assert.equal(classifyDiagnostic("unknown property foo"), "other");
    });

    it("shows <env>:<line>:<col>: <summary> on one line, with a hint naming the sub to pin", () => {
        const d = showDiagnostic({ summary: denied, range: { environment: "platform/prod", begin: { line: 4, column: 7 }, end: { line: 4, column: 26 } } }, "platform/prod", "acme");
        assert.equal(d.message, "platform/prod:4:7: WebIdentityErr: failed to retrieve credentials | caused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity | status code: 403, request id: 1234");
        assert.match(d.hint ?? "", /aud = aws:acme and api\.pulumi\.com\/oidc:sub = pulumi:environments:org:acme:env:platform\/prod/);
    });

    it("falls back to the environment name without a range, and gives no hint for unknown failures", () => {
        assert.deepEqual(showDiagnostic({ summary: "unknown property foo" }, "platform/prod", "acme"), { message: "platform/prod: unknown property foo" });
    });
    it("shows the first diagnostics of a long list and counts the rest", () => {
        const many = [{ summary: denied }, ...Array.from({ length: 4999 }, (_, i) => ({ summary: `noise ${i}` }))];
        const shown = showDiagnostics(many, "platform/prod", "acme");
        assert.equal(shown.length, MAX_SHOWN_DIAGNOSTICS + 1);
        assert.match(shown[0]!.message, /AccessDenied/);
        assert.ok(shown[0]!.hint);
        assert.deepEqual(shown.at(-1), { message: "platform/prod: 4,980 more diagnostics not shown" });
        assert.equal(showDiagnostics(many.slice(0, 3), "platform/prod", "acme").length, 3);
    });
});
