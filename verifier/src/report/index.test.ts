import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CliError, EXIT, type CliIO } from "../io.js";
import { buildModel, loadResultFiles, parseReportFlags, renderReport, writeReports, type ReportModel } from "./index.js";
import { FIXTURES, ROOT, sampleInput } from "./testdata/load.js";
import { textOf, type OutputChunk } from "../chunks.js";

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-report-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function io(cwd = tmp): CliIO & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, cwd, env: {}, stdout: { write: (s: OutputChunk) => out.push(textOf(s)) }, stderr: { write: (s: string) => err.push(s) } };
}

function usageError(fn: () => unknown, message: RegExp): void {
    assert.throws(fn, (e: unknown) => e instanceof CliError && e.exitCode === EXIT.usage && message.test(e.message));
}

describe("parseReportFlags", () => {
    it("maps --format/--output and the per-format flags to outputs", () => {
        assert.deepEqual(parseReportFlags({}), { outputs: [{ format: "json", path: "-" }] });
        assert.deepEqual(parseReportFlags({ format: "sarif", output: "o.sarif", junit: "o.xml", markdown: "-", html: "r.html", json: "r.json" }).outputs, [
            { format: "sarif", path: "o.sarif" },
            { format: "json", path: "r.json" },
            { format: "junit", path: "o.xml" },
            { format: "markdown", path: "-" },
            { format: "html", path: "r.html" },
        ]);
        // Only per-format flags: nothing extra on stdout.
        assert.deepEqual(parseReportFlags({ sarif: "o.sarif" }, { defaultFormat: "markdown" }).outputs, [{ format: "sarif", path: "o.sarif" }]);
    });

    it("hands formats the command renders itself back to it", () => {
        assert.deepEqual(parseReportFlags({ sarif: "o.sarif" }, { defaultFormat: "text", otherFormats: ["text"] }), {
            outputs: [{ format: "sarif", path: "o.sarif" }],
            other: { format: "text", path: "-" },
        });
        assert.deepEqual(parseReportFlags({ format: "text", output: "t.txt" }, { otherFormats: ["text"] }).other, { format: "text", path: "t.txt" });
    });

    it("gives every Markdown output the --markdown-max-kib limit, in bytes", () => {
        assert.deepEqual(parseReportFlags({ markdown: "a.md", sarif: "o.sarif", "markdown-max-kib": "64" }).outputs, [
            { format: "sarif", path: "o.sarif" },
            { format: "markdown", path: "a.md", markdownBudget: 64 * 1024 },
        ]);
        usageError(() => parseReportFlags({ sarif: "o.sarif", "markdown-max-kib": "64" }), /none is asked for/);
        for (const bad of ["", "0", "-1", "1.5", "102401", "64k"]) {
            usageError(() => parseReportFlags({ markdown: "a.md", "markdown-max-kib": bad }), /--markdown-max-kib must be a whole number of KiB from 1 to 102400/);
        }
    });

    it("rejects unknown formats, empty names, two reports on stdout and two on one file", () => {
        usageError(() => parseReportFlags({ format: "pdf" }), /unknown --format 'pdf': expected one of json, sarif, junit, markdown, html/);
        usageError(() => parseReportFlags({ sarif: "" }), /--sarif needs a file name/);
        usageError(() => parseReportFlags({ html: true }), /--html needs a file name/);
        usageError(() => parseReportFlags({ format: "json", sarif: "-" }), /more than one report would go to stdout/);
        usageError(() => parseReportFlags({ sarif: "a.out", junit: "./a.out" }), /same file/);
    });
});

describe("writeReports", () => {
    it("writes every format to its file (creating directories) and one to stdout", async () => {
        const cli = io();
        await writeReports(
            [
                { format: "markdown", path: "-" },
                { format: "sarif", path: "out/deep/r.sarif" },
                { format: "junit", path: "out/r.xml" },
                { format: "html", path: "out/r.html" },
                { format: "json", path: "out/r.json" },
            ],
            sampleInput(),
            cli,
        );
        assert.match(cli.out.join(""), /^## oidc-guard compliance report/);
        const input = sampleInput();
        for (const [file, format] of [["out/deep/r.sarif", "sarif"], ["out/r.xml", "junit"], ["out/r.html", "html"], ["out/r.json", "json"]] as const) {
            assert.equal(readFileSync(join(tmp, file), "utf8"), renderReport(format, input), file);
        }
    });

    it("writes each format alone as it renders with every statement quoted (a model without them only for JUnit and JSON)", async () => {
        const input = sampleInput();
        for (const format of ["sarif", "junit", "markdown", "html", "json"] as const) {
            const path = `alone/r.${format}`;
            await writeReports([{ format, path }], input, io());
            assert.equal(readFileSync(join(tmp, path), "utf8"), renderReport(format, input), format);
        }
        // The quoted statements are in every format that shows them.
        for (const format of ["sarif", "markdown", "html"] as const) assert.match(readFileSync(join(tmp, `alone/r.${format}`), "utf8"), /AnyAcmeEnvironment/, format);
    });

    it("warns when a SARIF log holds more results than GitHub code scanning accepts in a run, and writes it all the same", async () => {
        // One entry's findings repeated, so that the log holds exactly `total` results.
        const withResults = (total: number): ReportModel => {
            const model = buildModel(sampleInput());
            const entry = model.entries.find((e) => e.findings.length > 0)!;
            const others = model.entries.reduce((n, e) => n + (e === entry ? 0 : e.findings.length), 0);
            entry.findings = Array.from({ length: total - others }, () => entry.findings[0]!);
            model.counts.findings = total;
            return model;
        };
        const atLimit = io();
        await writeReports([{ format: "sarif", path: "limit.sarif" }], withResults(25_000), atLimit, "oidc-guard check");
        assert.deepEqual(atLimit.err, []);
        const log = JSON.parse(readFileSync(join(tmp, "limit.sarif"), "utf8")) as { runs: Array<{ results: unknown[] }> };
        assert.equal(log.runs[0]!.results.length, 25_000);

        const over = io();
        await writeReports([{ format: "sarif", path: "over.sarif" }, { format: "markdown", path: "over.md" }], withResults(25_001), over, "oidc-guard report");
        assert.equal(over.err.length, 1);
        assert.match(over.err[0]!, /^oidc-guard report: warning: the SARIF log holds 25001 results in one run; GitHub code scanning rejects a run of more than 25000 /);
        const written = JSON.parse(readFileSync(join(tmp, "over.sarif"), "utf8")) as { runs: Array<{ results: unknown[] }> };
        assert.equal(written.runs[0]!.results.length, 25_001);

        // Not asked for SARIF: no warning, however many findings.
        const markdownOnly = io();
        await writeReports([{ format: "markdown", path: "only.md" }], withResults(25_001), markdownOnly);
        assert.deepEqual(markdownOnly.err, []);
    });

    it("fails with exit 2 naming the file it cannot write", async () => {
        writeFileSync(join(tmp, "blocker"), "");
        await assert.rejects(
            writeReports([{ format: "sarif", path: "blocker/r.sarif" }], sampleInput(), io()),
            (e: unknown) => e instanceof CliError && e.exitCode === EXIT.usage && /cannot write the sarif report to 'blocker\/r\.sarif': (ENOTDIR|EEXIST)/.test(e.message),
        );
    });
});

describe("loadResultFiles", () => {
    it("reads check and verify results by shape, and the checked files for line numbers", () => {
        const { input, notes } = loadResultFiles(["fixtures/reports/check-files.json", "fixtures/reports/verify-failed.json"], io(ROOT));
        assert.equal(input.checks.length, 1);
        assert.equal(input.verifications.length, 1);
        assert.deepEqual([...input.sources.keys()].sort(), ["fixtures/reports/sources/trust-policy-pinned.json", "fixtures/reports/sources/trust-policy-sub-wildcard.json"]);
        assert.equal(input.origins.get(input.verifications[0]!), "fixtures/reports/verify-failed.json");
        assert.deepEqual(notes, []);
    });

    it("notes checked files it cannot read (their locations fall back to line 1)", () => {
        const { notes } = loadResultFiles([join(FIXTURES, "check-files.json")], io(tmp));
        assert.equal(notes.length, 2);
        assert.match(notes[0] ?? "", /cannot read checked file 'fixtures\/reports\/sources\/trust-policy-sub-wildcard\.json' \(ENOENT\): its locations fall back to line 1/);
    });

    it("tells a verify batch from a check result (both have `results`)", () => {
        const { input } = loadResultFiles(["fixtures/reports/verify-batch.json", "fixtures/reports/check-stack.json"], io(ROOT));
        assert.equal(input.verifications.length, 1);
        assert.equal(input.checks.length, 1);
        assert.ok("results" in input.verifications[0]!);
    });

    it("reads its own merged JSON output back", () => {
        mkdirSync(join(tmp, "merged"), { recursive: true });
        writeFileSync(join(tmp, "merged", "all.json"), renderReport("json", sampleInput()));
        const { input } = loadResultFiles(["merged/all.json"], io(tmp), ROOT);
        assert.equal(input.checks[0]?.results.length, 6);
        assert.equal(input.verifications.length, 2);
    });

    it("names the file and the problem for unreadable, non-JSON and wrongly shaped files", () => {
        writeFileSync(join(tmp, "notjson.json"), "{ nope");
        writeFileSync(join(tmp, "other.json"), JSON.stringify({ hello: "world" }));
        writeFileSync(join(tmp, "badverdict.json"), JSON.stringify({ tool: { name: "oidc-guard", version: "1" }, results: [{ target: { file: "x" }, verdict: "ok", findings: [] }], summary: {} }));
        writeFileSync(join(tmp, "badcheck.json"), JSON.stringify({ tool: { name: "oidc-guard", version: "1" }, environment: "a/b/c", verdict: "verified", checks: [{ id: 1 }], callerIdentity: null }));
        usageError(() => loadResultFiles(["missing.json"], io()), /cannot read result file 'missing\.json': ENOENT/);
        usageError(() => loadResultFiles(["notjson.json"], io()), /result file 'notjson\.json' is not JSON: /);
        usageError(() => loadResultFiles(["other.json"], io()), /result file 'other\.json': neither a check result .* nor a verify result/);
        usageError(() => loadResultFiles(["badverdict.json"], io()), /result file 'badverdict\.json': results\[0\]\.verdict: expected one of pass, fail, unknown, error/);
        usageError(() => loadResultFiles(["badcheck.json"], io()), /result file 'badcheck\.json': checks\[0\]\.id: expected a string/);
        usageError(() => loadResultFiles(["."], io()), /cannot read result file '\.': EISDIR/);
    });
});
