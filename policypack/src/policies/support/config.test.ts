import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analysisOptions } from "./config.js";
import { PolicyPackError } from "./sdk.js";

describe("analysisOptions", () => {
    it("maps every property, normalizing issuers", () => {
        assert.deepEqual(
            analysisOptions(
                "p",
                {
                    organizations: ["acme"],
                    allowedSubjects: ["pulumi:environments:org:acme:env:infra/*"],
                    issuers: ["https://Pulumi.Example.com/oidc/"],
                    audiences: ["aws:acme"],
                },
                {},
            ),
            {
                organizations: ["acme"],
                allowedSubjects: ["pulumi:environments:org:acme:env:infra/*"],
                issuers: ["pulumi.example.com/oidc"],
                audiences: ["aws:acme"],
            },
        );
    });

    it("falls back to the stack's organization: PULUMI_ORGANIZATION, then PULUMI_NODEJS_ORGANIZATION", () => {
        assert.deepEqual(analysisOptions("p", {}, { PULUMI_ORGANIZATION: "acme", PULUMI_NODEJS_ORGANIZATION: "x" }), {
            organizations: ["acme"],
        });
        assert.deepEqual(analysisOptions("p", {}, { PULUMI_NODEJS_ORGANIZATION: "x" }), { organizations: ["x"] });
        assert.deepEqual(analysisOptions("p", { organizations: ["y"] }, { PULUMI_ORGANIZATION: "acme" }), {
            organizations: ["y"],
        });
        // Not an organization name: ignored rather than spliced into audiences.
        assert.deepEqual(analysisOptions("p", {}, { PULUMI_ORGANIZATION: "a*b" }), {});
        assert.deepEqual(analysisOptions("p", {}, {}), {});
    });

    it("refuses unknown keys and wrongly typed values with a message naming the policy", () => {
        assert.throws(
            () => analysisOptions("p", { organization: "acme" }, {}),
            (e: unknown) =>
                e instanceof PolicyPackError &&
                e.message === "policy pack config for 'p': unknown property 'organization'; known: organizations, allowedSubjects, issuers, audiences, timeBudgetMs, subjectScope." &&
                e.stack === `PolicyPackError: ${e.message}`,
        );
        assert.throws(() => analysisOptions("p", { audiences: [] }, {}), /'audiences' must be a non-empty list of non-empty strings/);
        assert.throws(() => analysisOptions("p", { issuers: "api.pulumi.com/oidc" }, {}), /'issuers' must be a non-empty list/);
    });

    it("shows a config key it quotes as text for Pulumi's display (no colour directive, no control character)", () => {
        assert.throws(
            () => analysisOptions("p", { "x<{%evil%}>\u001b\n": 1 }, {}),
            (e: unknown) => e instanceof PolicyPackError && e.message.startsWith("policy pack config for 'p': unknown property 'x<{\\u0025evil\\u0025}>\\x1b\\n'; known: "),
        );
    });

    it("passes timeBudgetMs to the analysis and refuses a budget that is not 1..600000 ms", () => {
        assert.deepEqual(analysisOptions("p", { timeBudgetMs: 250 }, {}), { timeBudgetMs: 250 });
        for (const bad of [0, -1, 1.5, "100", 600_001]) {
            assert.throws(() => analysisOptions("p", { timeBudgetMs: bad }, {}), /'timeBudgetMs' must be a whole number of milliseconds from 1 to 600000/);
        }
    });
});
