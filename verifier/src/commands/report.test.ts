import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { XMLParser } from "fast-xml-parser";
import { CliError, EXIT, type CliIO } from "../io.js";
import { main as check } from "./check.js";
import { main as report } from "./report.js";
import { textOf, type OutputChunk } from "../chunks.js";

const ROOT = join(__dirname, "..", "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-report-cmd-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const ALL = ["check-files.json", "check-stack.json", "check-preview.json", "verify-verified.json", "verify-failed.json"].map((f) => `fixtures/reports/${f}`);

function io(cwd = ROOT): CliIO & { out: () => string; err: () => string } {
    const out: string[] = [];
    const err: string[] = [];
    return {
        cwd,
        env: {},
        stdout: { write: (s: OutputChunk) => out.push(textOf(s)) },
        stderr: { write: (s: string) => err.push(s) },
        out: () => out.join(""),
        err: () => err.join(""),
    };
}

async function usage(argv: string[], message: RegExp, cwd = ROOT): Promise<void> {
    await assert.rejects(report(argv, io(cwd)), (e: unknown) => e instanceof CliError && e.exitCode === EXIT.usage && message.test(e.message));
}

describe("oidc-guard report", () => {
    it("merges checks and verify runs into Markdown on stdout; exit 1 when anything did not pass", async () => {
        const cli = io();
        assert.equal(await report(ALL, cli), EXIT.failed);
        assert.match(cli.out(), /^## oidc-guard compliance report\n\n❌ \*\*4 of 8 did not pass\*\*/);
        assert.match(cli.err(), /8 target\(s\) from 5 file\(s\): 4 pass, 3 fail, 1 unknown, 0 error/);
    });

    it("exits 0 when every role passed and every environment verified", async () => {
        const passing = join(tmp, "passing.json");
        const files = JSON.parse(readFileSync(join(ROOT, "fixtures/reports/check-files.json"), "utf8")) as { results: { verdict: string }[] };
        files.results = files.results.filter((r) => r.verdict === "pass");
        writeFileSync(passing, JSON.stringify(files));
        const cli = io();
        assert.equal(await report([passing, "fixtures/reports/verify-verified.json", "--format", "json"], cli), EXIT.ok);
        const doc = JSON.parse(cli.out()) as { passed: boolean; summary: unknown };
        assert.equal(doc.passed, true);
        assert.deepEqual(doc.summary, { checks: { pass: 1, fail: 0, unknown: 0, error: 0 }, verifications: { verified: 1, failed: 0, error: 0 } });
    });

    it("exits 1 when the inputs hold nothing to check", async () => {
        const empty = join(tmp, "empty.json");
        writeFileSync(empty, JSON.stringify({ tool: { name: "oidc-guard", version: "0.1.0" }, results: [], summary: { pass: 0, fail: 0, unknown: 0, error: 0 } }));
        const cli = io();
        assert.equal(await report([empty], cli), EXIT.failed);
        assert.match(cli.err(), /nothing was checked/);
    });

    it("writes several formats in one run, and nothing to stdout when only files are asked for", async () => {
        const cli = io();
        const out = (f: string): string => join(tmp, "many", f);
        const code = await report([...ALL, "--sarif", out("r.sarif"), "--junit", out("r.xml"), "--markdown", out("r.md"), "--html", out("r.html"), "--json", out("r.json")], cli);
        assert.equal(code, EXIT.failed);
        assert.equal(cli.out(), "");
        assert.equal((JSON.parse(readFileSync(out("r.sarif"), "utf8")) as { version: string }).version, "2.1.0");
        const junit = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(out("r.xml"), "utf8")) as { testsuites: { "@_tests": string } };
        assert.equal(junit.testsuites["@_tests"], "8");
        assert.match(readFileSync(out("r.md"), "utf8"), /\| ❌ \| deployments-role/);
        assert.match(readFileSync(out("r.html"), "utf8"), /data-testid="count-fail"><span class="n">3</);
        assert.equal((JSON.parse(readFileSync(out("r.json"), "utf8")) as { verifications: unknown[] }).verifications.length, 2);
        assert.match(cli.err(), /wrote .*r\.sarif, .*r\.xml/);
    });

    it("gives SARIF line numbers from the checked files, found under --source-root", async () => {
        const elsewhere = mkdtempSync(join(tmp, "cwd-"));
        const cli = io(elsewhere);
        await report([join(ROOT, "fixtures/reports/check-files.json"), "--format", "sarif", "--source-root", ROOT], cli);
        const sarif = JSON.parse(cli.out()) as { runs: { results: { locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
        assert.equal(sarif.runs[0]?.results[0]?.locations[0]?.physicalLocation.region.startLine, 23);
        assert.equal(cli.err().includes("fall back to line 1"), false);
        // Without it, the files are not found from that directory: said on stderr, and line 1.
        const lost = io(elsewhere);
        await report([join(ROOT, "fixtures/reports/check-files.json"), "--format", "sarif"], lost);
        assert.match(lost.err(), /note: cannot read checked file 'fixtures\/reports\/sources\/trust-policy-sub-wildcard\.json'/);
        const sarif1 = JSON.parse(lost.out()) as typeof sarif;
        assert.equal(sarif1.runs[0]?.results[0]?.locations[0]?.physicalLocation.region.startLine, 1);
    });

    it("reports what `oidc-guard check --format json` really prints", async () => {
        const checked = io();
        const code = await check(["fixtures/reports/sources", "--format", "json", "--output", join(tmp, "real-check.json")], checked);
        assert.equal(code, EXIT.failed, checked.err());
        const cli = io();
        assert.equal(await report([join(tmp, "real-check.json"), "--format", "junit"], cli), EXIT.failed);
        const junit = new XMLParser({ ignoreAttributes: false, isArray: (n) => n === "testcase" || n === "testsuite" }).parse(cli.out()) as {
            testsuites: { testsuite: { testcase: { "@_name": string; failure?: unknown }[] }[] };
        };
        const cases = junit.testsuites.testsuite.flatMap((s) => s.testcase);
        const failing = cases.filter((c) => c.failure !== undefined).map((c) => c["@_name"].replace(/ \(.*/, "")).sort();
        assert.deepEqual(failing, ["deployments-role", "esc-role", "fixtures/reports/sources/trust-policy-sub-wildcard.json"]);
    });

    it("refuses bad usage and bad inputs with exit 2, naming the file", async () => {
        writeFileSync(join(tmp, "neither.json"), JSON.stringify([1, 2]));
        await usage([], /no result files given/);
        await usage(["fixtures/reports/check-files.json", "--colour"], /unknown option '--colour'\nhint: run 'oidc-guard report --help' for the options/);
        await usage(["fixtures/reports/check-files.json", "--format", "pdf"], /unknown --format 'pdf'/);
        await usage(["fixtures/reports/nope.json"], /cannot read result file 'fixtures\/reports\/nope\.json': ENOENT/);
        await usage([join(tmp, "neither.json")], /neither\.json': expected a JSON object/);
        await usage(["fixtures/reports/sources/trust-policy-pinned.json"], /trust-policy-pinned\.json': neither a check result/);
        await usage(["fixtures/reports/check-files.json", "--source-root", ""], /option '--source-root <value>' needs a value/);
    });

    it("keeps Markdown within --markdown-max-kib (a pull-request comment: 64), and refuses the flag without Markdown", async () => {
        const whole = io();
        await report(ALL, whole);
        const limit = 3;
        assert.ok(Buffer.byteLength(whole.out()) > limit * 1024, "the sample must exceed the limit for this test to mean anything");
        const cli = io();
        assert.equal(await report([...ALL, "--markdown-max-kib", String(limit)], cli), EXIT.failed);
        assert.ok(Buffer.byteLength(cli.out()) <= limit * 1024, String(Buffer.byteLength(cli.out())));
        assert.match(cli.out(), /❌ \*\*4 of 8 did not pass\*\*/);
        assert.match(cli.out(), /left out: it would exceed 3 KiB/);
        // Only the Markdown: the SARIF written next to it is whole.
        const sarif = join(tmp, "limited.sarif");
        const both = io();
        await report([...ALL, "--markdown-max-kib", "1", "--sarif", sarif, "--markdown", "-"], both);
        assert.ok(Buffer.byteLength(readFileSync(sarif)) > 10 * 1024);
        await usage([...ALL, "--markdown-max-kib", "0"], /--markdown-max-kib must be a whole number of KiB from 1 to 102400/);
        await usage([...ALL, "--markdown-max-kib", "64k"], /--markdown-max-kib must be a whole number of KiB/);
        await usage([...ALL, "--format", "sarif", "--markdown-max-kib", "64"], /--markdown-max-kib limits Markdown output, and none is asked for\nhint: add --markdown <file>/);
    });

    it("prints help", async () => {
        const cli = io();
        assert.equal(await report(["--help"], cli), EXIT.ok);
        assert.match(cli.out(), /^Usage: oidc-guard report <result\.json>\.\.\. \[options\]/);
        assert.match(cli.out(), /Exit codes:/);
    });

    it("runs end to end through the CLI: exit codes and one-line errors, no stack trace", async () => {
        const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
            new Promise((resolve, reject) => {
                execFile(
                    process.execPath,
                    ["--conditions=oidc-guard-source", "--import", "tsx", join(ROOT, "verifier/src/cli.ts"), "report", ...args],
                    { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: tmpdir() }, timeout: 60_000 },
                    (error, stdout, stderr) => {
                        if (error && typeof error.code !== "number") reject(new Error(error.message));
                        else resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
                    },
                );
            });
        const [ok, bad] = await Promise.all([run([...ALL, "--format", "markdown"]), run(["fixtures/reports/sources/preview.json"])]);
        assert.equal(ok.code, 1);
        assert.match(ok.stdout, /^## oidc-guard compliance report/);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /^oidc-guard report: result file 'fixtures\/reports\/sources\/preview\.json': neither a check result/);
        assert.doesNotMatch(bad.stderr, /\n\s+at .+:\d+:\d+/);
    });
});

describe("oidc-guard report: hostile inputs", () => {
    it("bounds reads while reading (/dev/zero says size 0 to stat) and refuses invalid UTF-8", async () => {
        await usage(
            ["/dev/zero", "--max-input-mib", "1"],
            /^result file '\/dev\/zero' is larger than the input limit of 1 MiB\nhint: if it is the file you meant, raise the limit with --max-input-mib <n> \(up to 4096\)$/,
        );
        const latin1 = join(tmp, "latin1.json");
        writeFileSync(latin1, Buffer.concat([Buffer.from('{"tool": {"name": "oidc-guard", "version": "caf'), Buffer.from([0xe9]), Buffer.from('"}, "results": []}')]));
        await usage([latin1], /^result file '.*latin1\.json' is not valid UTF-8 \(invalid byte sequence at byte 47\)$/);
    });

    it("refuses a report output that is also a result file it reads (exit 2), and leaves the file untouched", async () => {
        const copy = join(tmp, "own.json");
        writeFileSync(copy, readFileSync(join(ROOT, "fixtures/reports/check-files.json")));
        const before = readFileSync(copy, "utf8");
        await usage([copy, "--sarif", copy], /own\.json is both a result file to read and a report output/);
        assert.equal(readFileSync(copy, "utf8"), before);
    });
});
