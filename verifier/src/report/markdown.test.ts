import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckReport } from "../results.js";
import { MARKDOWN_BUDGET, renderMarkdown, mdCode, mdInline, mdText } from "./markdown.js";
import { buildModel } from "./model.js";
import { sampleInput, verifyBatch } from "./testdata/load.js";

const md = renderMarkdown(buildModel(sampleInput()));
const lines = md.split("\n");

/** The data rows of the first Markdown table whose header row starts with `header`. */
function table(header: string): string[][] {
    const start = lines.findIndex((l) => l.startsWith(header));
    assert.ok(start >= 0, header);
    const rows: string[][] = [];
    for (let i = start + 2; i < lines.length && lines[i]?.startsWith("|"); i++) {
        // Split on unescaped pipes only, as GitHub does.
        rows.push((lines[i] ?? "").slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
    }
    return rows;
}

describe("Markdown", () => {
    it("starts with the summary counts, before any table of targets", () => {
        assert.match(lines[0] ?? "", /^## oidc-guard compliance report$/);
        assert.match(lines[2] ?? "", /^❌ \*\*4 of 8 did not pass\*\* · 6 checked resource\(s\), 2 environment verification\(s\)/);
        assert.deepEqual(table("| Verdict | Count |"), [
            ["✅ pass", "4"],
            ["❌ fail", "3"],
            ["❔ unknown", "1"],
            ["⚠️ error", "0"],
        ]);
        assert.ok(md.indexOf("| Verdict | Count |") < md.indexOf("| | Target |"));
        assert.match(md, /Findings by severity: critical \*\*0\*\* · high \*\*3\*\* · medium \*\*1\*\* · low \*\*0\*\*/);
    });

    it("has one table row per role or environment, worst first", () => {
        const rows = table("| | Target |");
        assert.equal(rows.length, 8);
        assert.deepEqual(rows.map((r) => r[0]), ["❌", "❌", "❌", "❔", "✅", "✅", "✅", "✅"]);
        assert.ok(rows.every((r) => r.length === 7), "every row has 7 cells");
        const deploy = rows.find((r) => r[1]?.startsWith("deployments-role"));
        assert.deepEqual(deploy?.slice(2, 6), ["role", "`fixtures/reports/sources/stack-export.json`", "fail", "1 (high)"]);
    });

    it("lists compliant roles with the audiences and subjects they admit", () => {
        const section = md.slice(md.indexOf("### Compliant, and what they admit"), md.indexOf("### Findings"));
        assert.match(section, /esc-networking-prod .*audiences `aws:acme`; subjects `pulumi:environments:org:acme:env:networking\/prod`/);
        assert.match(section, /trust-policy-pinned\.json .*subjects `pulumi:environments:org:acme:env:payments\/prod`, `pulumi:environments:org:acme:env:payments\/staging`/);
        assert.match(section, /pulumi-oidc .*Provider for api\.pulumi\.com\/oidc lists client IDs/);
    });

    it("folds the details of each finding: what, where, the token that gets in, the fix and the statement", () => {
        const opens = md.match(/<details><summary>/g) ?? [];
        assert.equal(opens.length, 4);
        assert.equal((md.match(/<\/details>/g) ?? []).length, 4);
        const block = md.slice(md.indexOf("<details><summary>❌ role fixtures/reports/sources/trust-policy-sub-wildcard.json"));
        const first = block.slice(0, block.indexOf("</details>"));
        assert.match(first, /- Where: `fixtures\/reports\/sources\/trust-policy-sub-wildcard\.json:23` at `Statement\[1\]\.Condition\.StringLike\["api\.pulumi\.com\/oidc:sub"\]`/);
        assert.match(first, /- A token that gets in: `iss=api\.pulumi\.com\/oidc aud=aws:acme sub=pulumi:environments:org:acme:env:sandbox\/scratch`/);
        assert.match(first, /- Fix: Add `"StringEquals": \{"api\.pulumi\.com\/oidc:sub": /);
        assert.match(first, /```json\n\{\n {2}"Sid": "AnyAcmeEnvironment"/);
    });

    it("escapes names so they cannot break the table or inject HTML", () => {
        const report: CheckReport = {
            tool: { name: "oidc-guard", version: "0.1.0" },
            results: [
                {
                    target: { file: "a|b.json", resource: { urn: "urn:a|b", type: "aws:iam/role:Role", name: "<img src=x onerror=alert(1)>|`x`" } },
                    verdict: "fail",
                    findings: [{ ruleId: "oidc-trust-aud-pinned", severity: "critical", message: "<script>bad()</script>", path: "", location: {}, remediation: "fix `a|b`", counterexample: null }],
                },
            ],
            summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
        };
        const out = renderMarkdown(buildModel({ checks: [report] }));
        assert.ok(!out.includes("<img"), out);
        assert.ok(!out.includes("<script>"));
        const rows = out.split("\n").filter((l) => l.startsWith("| ❌ | "));
        assert.equal(rows.length, 1);
        assert.equal((rows[0] ?? "").slice(1, -1).split(/(?<!\\)\|/).length, 7);
        // Each pipe of a value is escaped once: a doubled backslash before it would end the cell in GFM.
        assert.doesNotMatch(rows[0] ?? "", /\\\\\|/);
        assert.match(rows[0] ?? "", /&lt;img src=x onerror=alert\(1\)&gt;\\\|/);
    });

    it("escapes inline text and code spans", () => {
        assert.equal(mdText("a*b_c [x] <y> & \\"), "a\\*b\\_c \\[x\\] &lt;y&gt; &amp; \\\\");
        assert.equal(mdCode("a`b"), "``a`b``");
        assert.equal(mdCode("`x"), "`` `x ``");
        assert.equal(mdInline("use `a*b` then *c*"), "use `a*b` then \\*c\\*");
    });

    it("drops the details, saying so, rather than exceed the step-summary budget", () => {
        const whole = renderMarkdown(buildModel(sampleInput()));
        const budget = Buffer.byteLength(whole.slice(0, whole.indexOf("### Findings"))) + 200;
        const out = renderMarkdown(buildModel(sampleInput()), budget);
        assert.ok(Buffer.byteLength(out) <= budget);
        assert.ok(!out.includes("<details>"));
        assert.match(out, /Details left out: they would exceed/);
        assert.match(out, /\| ❌ \| deployments-role/);
        assert.match(out, /### Compliant, and what they admit\n\n- ✅ esc-networking-prod/);
    });

    it("then the list of compliant targets, keeping the table whole", () => {
        const out = renderMarkdown(buildModel(sampleInput()), 3000);
        assert.ok(Buffer.byteLength(out) <= 3000, String(Buffer.byteLength(out)));
        assert.doesNotMatch(out, /### Compliant/);
        assert.match(out, /_The list of compliant targets is left out: it would exceed 3 KiB\. The HTML, SARIF and JSON reports have it\._/);
        assert.equal(out.split("\n").filter((l) => /^\| (✅|❌|❔|⚠️) \| /.test(l)).length, 8);
    });

    it("never exceeds the budget, whatever it is, once the counts and the notes fit", () => {
        const model = buildModel(sampleInput());
        const whole = Buffer.byteLength(renderMarkdown(model));
        const least = Buffer.byteLength(renderMarkdown(model, 1));
        for (let budget = least; budget <= whole + 2; budget++) {
            const out = renderMarkdown(model, budget);
            assert.ok(Buffer.byteLength(out) <= budget, `${Buffer.byteLength(out)} > ${budget}`);
            assert.ok(out.endsWith("\n\n") && !out.endsWith("\n\n\n"));
        }
        assert.equal(renderMarkdown(model, whole), renderMarkdown(model));
    });

    it("then the table's last rows (the least severe), so that a large estate still fits GitHub's step-summary limit", () => {
        const results: CheckReport["results"] = Array.from({ length: 12_000 }, (_, i) => {
            const name = `role-${i}`;
            const failing = i % 3 === 0;
            return {
                target: { file: "stack.json", resource: { urn: `urn:pulumi:prod::big::aws:iam/role:Role::${name}`, type: "aws:iam/role:Role", name } },
                verdict: failing ? ("fail" as const) : ("pass" as const),
                findings: failing
                    ? [{ ruleId: "oidc-trust-sub-pinned", severity: "high" as const, message: `${name} lets every project in`, path: "", location: {}, remediation: "pin it", counterexample: null }]
                    : [],
            };
        });
        const report: CheckReport = { tool: { name: "oidc-guard", version: "0.1.0" }, results, summary: { pass: 8000, fail: 4000, unknown: 0, error: 0 } };
        const out = renderMarkdown(buildModel({ checks: [report] }));
        assert.ok(Buffer.byteLength(out) <= MARKDOWN_BUDGET, String(Buffer.byteLength(out)));
        // The counts are whole; the table is worst first and cut at the end, with what was left out said.
        assert.match(out, /❌ \*\*4000 of 12000 did not pass\*\*/);
        const rows = out.split("\n").filter((l) => /^\| (✅|❌) \| /.test(l));
        assert.ok(rows.length > 4000 && rows.length < 12_000, String(rows.length));
        assert.ok(rows.slice(0, 4000).every((r) => r.startsWith("| ❌ |")));
        const note = /_…and (\d+) more target\(s\) \((\d+) not passing\) left out: the table would exceed 900 KiB\. The HTML, SARIF and JSON reports list every target\._/.exec(out);
        assert.ok(note, out.slice(-400));
        assert.equal(rows.length + Number(note[1]), 12_000);
        assert.equal(note[2], "0");
        assert.match(out, /_The list of compliant targets is left out/);
        assert.match(out, /Details left out/);
        assert.ok(out.endsWith("\n\n"));
    });

    it("makes each part only as far as it could fit: a large estate's details are not all made to be left out", () => {
        const results: CheckReport["results"] = Array.from({ length: 6_000 }, (_, i) => ({
            target: { file: "stack.json", resource: { urn: `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`, type: "aws:iam/role:Role", name: `role-${i}` } },
            verdict: "fail" as const,
            findings: [{ ruleId: "oidc-trust-sub-pinned", severity: "high" as const, message: `role-${i} lets every project in`, path: "", location: {}, remediation: "pin it", counterexample: null }],
        }));
        const report: CheckReport = { tool: { name: "oidc-guard", version: "0.1.0" }, results, summary: { pass: 0, fail: 6_000, unknown: 0, error: 0 } };
        const model = buildModel({ checks: [report] });
        // The entries whose statement was read.
        const read = new Set<string>();
        for (const e of model.entries) {
            const f = e.findings[0]!;
            const statement = `{\n  "Effect": "Allow",\n  "Sid": "${e.name}"\n}`;
            Object.defineProperty(f, "statement", { get: () => (read.add(e.name), statement), enumerable: true });
        }
        const budget = 200 * 1024;
        const out = renderMarkdown(model, budget);
        assert.ok(Buffer.byteLength(out) <= budget);
        // The table alone is over 200 KiB: no details fit, and only those that fill the budget were made.
        assert.match(out, /Details left out/);
        assert.ok(read.size > 0 && read.size < 1_000, String(read.size));
        // With room for them all, every one is read and shown.
        read.clear();
        const whole = renderMarkdown(model, 100 * 1024 * 1024);
        assert.equal(read.size, 6_000);
        assert.equal(whole.split("<details>").length - 1, 6_000);
    });

    it("shows verified environments with the identity they got, and what a batch did not verify", () => {
        const out = renderMarkdown(buildModel({ verifications: [verifyBatch()] }));
        assert.match(out, /- ✅ acme\/networking\/staging: verified; expected role `arn:aws:iam::123456789012:role\/esc-networking-staging-4e1a7b2 \(from definition\)`; caller identity `arn:aws:sts::/);
        assert.match(out, /- ✅ expect-denied:acme\/sandbox\/scratch: refused as expected/);
        assert.match(out, /### Listed but not verified\n\n- `acme\/docs\/readme`: its definition opens no aws-login/);
        assert.match(out, /- Error: `rate-limited: Pulumi Cloud answered 429/);
    });

    it("says so when nothing was checked", () => {
        assert.match(renderMarkdown(buildModel({})), /Nothing was checked/);
    });
});

describe("Markdown: line terminators in values", () => {
    it("a bare CR, U+2028, U+2029 or NEL in a URN cannot end the table row and inject Markdown", () => {
        for (const sep of ["\r", "\u2028", "\u2029", "\u0085", "\r\n", "\n", "\u000b", "\u000c"]) {
            const name = `role${sep}| pass | ✅ all roles pinned |${sep}![x](https://evil.example/x.png)${sep}<img src=x onerror=alert(1)>`;
            const report: CheckReport = {
                tool: { name: "oidc-guard", version: "0.1.0" },
                results: [
                    {
                        target: { file: "s.json", resource: { urn: `urn:pulumi:s::p::aws:iam/role:Role::${name}`, type: "aws:iam/role:Role", name } },
                        verdict: "fail",
                        findings: [{ ruleId: "oidc-trust-aud-pinned", severity: "critical", message: name, path: "", location: {}, remediation: "fix", counterexample: null }],
                    },
                ],
                summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
            };
            const out = renderMarkdown(buildModel({ checks: [report] }));
            // eslint-disable-next-line no-control-regex -- matching control characters is the point
            assert.doesNotMatch(out, /[\r\u2028\u2029\u0085\u000b\u000c]/, JSON.stringify(sep));
            assert.ok(!out.split("\n").some((l) => l.startsWith("![x]") || l.startsWith("<img") || /^\| pass \|/.test(l)), JSON.stringify(sep));
            // Outside code spans (where GitHub shows it as text), no raw HTML from the value.
            assert.ok(!out.replace(/`[^`]*`/g, "").includes("<img"), JSON.stringify(sep));
        }
    });
});

/** A check result of one failing role named `name`, whose finding's message and remediation are `text`. */
function oneRole(name: string, text = "m"): CheckReport {
    return {
        tool: { name: "oidc-guard", version: "0.1.0" },
        results: [
            {
                target: { file: `${name}.json`, resource: { urn: `urn:pulumi:s::p::aws:iam/role:Role::${name}`, type: "aws:iam/role:Role", name } },
                verdict: "fail",
                findings: [{ ruleId: "oidc-trust-sub-pinned", severity: "high", message: text, path: "", location: {}, remediation: text, counterexample: null }],
            },
        ],
        summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
    };
}

describe("Markdown: pull-request comments", () => {
    it("notifies nobody: an @mention in a value gets a zero-width space after its @, outside code", () => {
        const out = renderMarkdown(buildModel({ checks: [oneRole("deploy@octocat", "ask @octocat or @acme/admins, not `@code`")] }));
        // GitHub links a mention where `@` is followed by a user or team name: none is left outside code.
        const prose = out.replace(/(`+)[^`]*?\1/g, "");
        assert.doesNotMatch(prose, /@[A-Za-z0-9]/, prose);
        assert.match(out, /\| deploy@&#8203;octocat<br>`urn:pulumi:s::p::aws:iam\/role:Role::deploy@octocat` \|/);
        assert.match(out, /- What: ask @&#8203;octocat or @&#8203;acme\/admins, not `@code`/);
        assert.match(out, /<summary>❌ role deploy@&#8203;octocat: 1 finding<\/summary>/);
        // In code, where GitHub links no mention, the value is as it was.
        assert.match(out, /`@code`/);
    });

    it("leaves an @ that starts no mention, and bare URLs, as they are", () => {
        assert.equal(mdText("a @ b, @-x, @_y https://example.com/a"), "a @ b, @-x, @\\_y https://example.com/a");
        assert.equal(mdText("@x@y"), "@&#8203;x@&#8203;y");
    });
});

describe("Markdown: the <summary> of each finding's details", () => {
    it("is HTML (GitHub reads no Markdown escape there): the name shows as it is, without stray backslashes", () => {
        const out = renderMarkdown(buildModel({ checks: [oneRole("u-r-md-a|b`c`*x*_y_[z]~w~\\")] }));
        assert.match(out, /^<details><summary>❌ role u-r-md-a\|b`c`\*x\*_y_\[z\]~w~\\: 1 finding<\/summary>$/m);
    });

    it("stays safe: markup is escaped as HTML, and a line break cannot end the HTML block", () => {
        const name = "<img src=x onerror=alert(1)>\n\n# h\r<b>&amp;'\"##[x]";
        const out = renderMarkdown(buildModel({ checks: [oneRole(name)] }));
        const summary = out.split("\n").find((l) => l.startsWith("<details><summary>")) ?? "";
        assert.equal(summary, "<details><summary>❌ role &lt;img src=x onerror=alert(1)&gt;\\n\\n# h\\r&lt;b&gt;&amp;amp;&#39;&quot;##&#91;x]: 1 finding</summary>");
    });
});
