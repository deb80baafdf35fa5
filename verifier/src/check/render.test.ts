/**
 * The JSON report in chunks (render.ts): byte for byte what one `JSON.stringify(report, null, 2)` writes, escaped
 * for output, however many chunks a large report takes. The text report in chunks of whole lines, at any size.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { textChunks } from "../chunks.js";
import { escapeJsonOutput, escapeTextDeep } from "../escape.js";
import type { CheckReport, CheckResult } from "../results.js";
import { MARK_START } from "oidc-guard-policypack/analysis";
import type { TemplatedRole } from "./prerender.js";
import { Cut, renderJson, renderJsonChunks, renderText, renderTextChunks } from "./render.js";

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

describe("renderTextChunks", () => {
    it("renders 150,000 targets (a stack export of that many roles) in chunks of whole lines", () => {
        // One width per table row used to be spread into Math.max: past about 120,000 rows, a RangeError (the call
        // stack) instead of a report.
        const r = report(Array.from({ length: 150_000 }, (_, i) => result(i, `message ${i}`)));
        const chunks = [...textChunks(renderTextChunks(r, false, 1))];
        assert.ok(chunks.length > 100, `only ${chunks.length} chunk(s)`);
        for (const c of chunks) assert.ok(c.endsWith("\n"), `a chunk ends mid-line: ${JSON.stringify(c.slice(-40))}`);
        const text = chunks.join("");
        const lines = text.split("\n");
        assert.match(lines[0]!, /^TARGET {2,}VERDICT {2}FINDING {2,}WORST CLASS {2,}TOKEN THAT GETS IN$/);
        // A row per target, then one detail block per failing target (every third), then the summary.
        assert.equal(lines.filter((l) => l.startsWith("stack.json › role-")).length, 150_000);
        assert.equal(lines.filter((l) => l.startsWith("FAIL stack.json › role-")).length, 50_000);
        assert.equal(lines.at(-2), "150000 targets in 1 file: 100000 pass, 50000 fail, 0 unknown, 0 error");
        // The widest label sets the first column for every row, the last one included.
        const widest = "stack.json › role-149999".length;
        assert.equal(lines[150_000]!.indexOf("pass"), widest + 2);
    });

    it("escapes values and guards CI-log lines wherever a chunk ends", () => {
        const hostile = (i: number): string => `x\u001b[31m \u202e\n::error::owned ${i}`;
        const r = report(Array.from({ length: 500 }, (_, i) => result(i, hostile(i))));
        const chunks = [...textChunks(renderTextChunks(r, false, 1, [{ file: "::skip\u0007.json", reason: "r" }]))];
        assert.ok(chunks.length > 2, `only ${chunks.length} chunk(s)`);
        const text = chunks.join("");
        assert.equal(text, renderText(r, false, 1, [{ file: "::skip\u0007.json", reason: "r" }]));
        // No control character but the newlines the report itself writes; no line a CI runner would obey.
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u202e]/);
        assert.doesNotMatch(text, /^[ \t]*::/m);
        assert.match(text, /x\\x1b\[31m \\u202e\\n::error::owned 498/);
        assert.match(text, /\nskipped ::skip\\x07\.json: r\n$/);
    });

    it("escapes every value it shows, each as it is shown: the same text as from a copy with every string escaped", () => {
        // A control character in every string a result holds: a value shown without its escape would differ.
        const c = (what: string): string => `${what}\u001b]0;t\u0007\u202e\u2028\u0085`;
        const token = { issuer: c("issuer"), aud: c("aud"), sub: c("sub") };
        const hostile: CheckResult = {
            target: { file: c("file"), line: 7, resource: { urn: c("urn"), type: c("type"), name: c("name") } },
            verdict: "fail",
            findings: [
                {
                    ruleId: c("rule"),
                    severity: "high",
                    message: c("message"),
                    path: c("path"),
                    location: { statementIndex: 0 },
                    remediation: c("fix"),
                    counterexample: token,
                    tokenDescription: c("described"),
                    blastRadius: [{ class: "every-project", description: c("blast"), counterexample: token, tokenKind: "deploy", tokenDescription: c("td") }],
                    readings: [c("reading")],
                },
            ],
            notes: [c("note")],
        };
        // The same URN and name once escaped, though not as written: compared as shown, so no `id:` line.
        const twin: CheckResult = { ...result(0, "m"), target: { file: "f", resource: { urn: "n\\x07", type: "t", name: "n\u0007" } } };
        const r = report([hostile, twin, result(3, c("m"))]);
        const text = renderText(r, false, 1);
        assert.equal(text, renderText(escapeTextDeep(r), false, 1));
        // eslint-disable-next-line no-control-regex -- matching control characters is the point
        assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u0085\u2028\u202e]/);
        for (const what of ["file", "urn", "type", "name", "rule", "message", "path", "fix", "issuer", "aud", "sub", "described", "blast", "reading", "note"]) {
            assert.ok(text.includes(`${what}\\x1b]0;t\\x07\\u202e\\u2028\\x85`), `${what} is not shown escaped`);
        }
        assert.match(text, /\nFAIL f › n\\x07 \(t\)\n {2}oidc-trust-sub-pinned /);
    });

    it("guards a detail line that would start with `::` (a rule id), and writes a lone surrogate as U+FFFD", () => {
        const r = result(0, "half \ud800 pair");
        r.findings[0]!.ruleId = "::error::owned";
        const text = renderText(report([r]), false, 1);
        assert.doesNotMatch(text, /^[ \t]*::/m);
        assert.match(text, /\n {2}\\::error::owned \[high\] half \ufffd pair\n/);
        // In the table, the rule id is a cell after the target: no line starts with it.
        assert.match(text, /\nstack\.json › role-0 +fail +::error::owned +- +-\n/);
        // A target is a row's first cell: a file named like a workflow command is guarded there.
        const named = renderText(report([{ ...result(1, "m"), target: { file: "::error::f.json" } }]), false, 1);
        assert.doesNotMatch(named, /^[ \t]*::/m);
        assert.match(named, /\n\\::error::f\.json +pass +- +- +-\n/);
    });
});

describe("Cut (a template's text pieces)", () => {
    it("fills each mark with its role's value, escaped for the terminal, and keeps the text between", () => {
        const m = (kind: string, i: number, dash = ""): string => `${MARK_START}${kind}${i}${dash}${MARK_START}`;
        const role = {
            target: { file: "f\u0007.json", resource: { urn: "u\u001b[2J", type: "t\u2028", name: "n\u202e" } },
            read: { names: { whole: ["w0", "w-1\u009b"], globs: ["g\u007f"] } },
        } as unknown as TemplatedRole;
        const cut = Cut.of(`a ${m("f", 0)} ${m("u", 0)} ${m("t", 0)} ${m("n", 0)} ${m("w", 1, "-")} ${m("g", 0)} ${m("w", 0)}. \\x01 z`);
        assert.equal(cut.fill(role), "a f\\x07.json u\\x1b[2J t\\u2028 n\\u202e w-1\\x9b g\\x7f w0. \\x01 z");
        assert.equal(Cut.of("no marks").fill(role), "no marks");
    });
});
