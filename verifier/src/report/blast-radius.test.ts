/** The blast radius of a failing statement (issue 9) reaches every report format: SARIF, Markdown and HTML. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyzeTrustPolicy } from "oidc-guard-policypack/analysis";
import type { CheckReport } from "../results.js";
import { renderHtml } from "./html.js";
import { renderMarkdown } from "./markdown.js";
import { buildModel } from "./model.js";
import { renderSarif } from "./sarif.js";

const AUD_ONLY = {
    Version: "2012-10-17",
    Statement: [
        {
            Effect: "Allow",
            Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: { StringEquals: { "api.pulumi.com/oidc:aud": ["acme", "aws:acme"] } },
        },
    ],
};

function report(): CheckReport {
    const a = analyzeTrustPolicy(AUD_ONLY, { organizations: ["acme"] });
    return {
        tool: { name: "oidc-guard", version: "0.0.0" },
        results: [{ target: { file: "role.json" }, verdict: a.verdict, findings: a.findings, admitted: a.admitted, notes: a.notes }],
        summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
    };
}

describe("blast radius in the reports", () => {
    const r = report();
    const finding = r.results[0]!.findings[0]!;
    const classes = (finding.blastRadius ?? []).map((b) => b.class);

    it("the analysis lists several classes, worst first, each with its own issuable token", () => {
        assert.ok(classes.length >= 3, classes.join(", "));
        assert.equal(classes[0], "every-project");
        assert.ok(classes.includes("every-environment-of-project"));
        assert.ok(classes.includes("shared-inline-environment"));
        const subs = new Set((finding.blastRadius ?? []).map((b) => b.counterexample.sub));
        assert.ok(subs.size >= 2, "each class has its own counterexample");
    });

    it("SARIF carries every class in the result properties and counts them in the message", () => {
        const sarif = JSON.parse(renderSarif(buildModel({ checks: [r] }))) as {
            runs: { results: { message: { text: string }; properties: { blastRadius?: { class: string }[]; tokenDescription?: string } }[] }[];
        };
        const result = sarif.runs[0]!.results[0]!;
        assert.deepEqual(result.properties.blastRadius?.map((b) => b.class), classes);
        assert.match(result.message.text, new RegExp(`It admits ${classes.length} classes of unintended tokens`));
        assert.match(result.properties.tokenDescription ?? "", /token for/);
    });

    it("Markdown and HTML list every class with a token", () => {
        const md = renderMarkdown(buildModel({ checks: [r] }));
        const html = renderHtml(buildModel({ checks: [r] }));
        for (const c of classes) {
            assert.ok(md.includes(`\`${c}\``), `markdown lacks ${c}`);
            assert.ok(html.includes(`data-class="${c}"`), `html lacks ${c}`);
        }
        assert.match(md, /Blast radius \(worst first\)/);
    });
});
