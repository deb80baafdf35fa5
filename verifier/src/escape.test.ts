import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import {
    encodeJsonOutput,
    escapeHtml,
    escapeJsonOutput,
    escapeMarkdown,
    escapeText,
    escapeTextOutput,
    escapeXml,
    guardCiLog,
    hasDelOrNonAscii,
    isAscii,
} from "./escape.js";
import { CONTROL_CHARACTER, showControl } from "oidc-guard-policypack/analysis";
import { textOf } from "./chunks.js";
import { runCli } from "./testing/cli.js";

/** Everything a hostile name can carry: OSC title, CSI clear, BEL, CR, C1 CSI, line separators, workflow commands. */
const HOSTILE =
    "evil\u001b]0;pwned\u0007\u001b[2J\r::error::forged\u009b31m\u2028::add-mask::x\u0085\u2029\u202e" +
    "\n::stop-commands::tok\n  ::warning::indented\n\u00a0::error::nbsp\n\u3000::notice::ideographic" +
    " ##[add-mask]gh ##vso[task.setvariable variable=OK]true ##VSO[task.complete]x\u061c";

/** Raw control characters no output may hold (newline and tab are the outputs' own). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** A line GitHub Actions would read as a workflow command (its runner trims every Unicode space first). */
const WORKFLOW_LINE = /^\s*::/m;
/** An in-line command: GitHub Actions' `##[command]` and Azure Pipelines' `##vso[command]`, anywhere in a line. */
const INLINE_COMMAND = /##(vso)?\[/i;

describe("escaping, one function per medium", () => {
    it("text: every control character is shown, none is left raw", () => {
        assert.equal(escapeText("a\u001b[31mb\rc\nd\u0007e\u009bf\u2028g"), "a\\x1b[31mb\\rc\\nd\\x07e\\x9bf\\u2028g");
        assert.equal(escapeText("a\nb\tc\rd", { keepNewlines: true }), "a\nb\tc\\rd");
        assert.doesNotMatch(escapeText(HOSTILE), RAW_CONTROL);
        assert.doesNotMatch(escapeText(HOSTILE), /\n/);
    });

    it("CI log: no line starts with '::' (also after spaces), other '::' (URNs) stay", () => {
        assert.equal(guardCiLog("ok\n::error::x\n  ::add-mask::y\nurn:pulumi:s::p::t::n"), "ok\n\\::error::x\n  \\::add-mask::y\nurn:pulumi:s::p::t::n");
        assert.doesNotMatch(escapeTextOutput(HOSTILE), WORKFLOW_LINE);
    });

    it("CI log: `##[` and `##vso[` (any case) anywhere in a line are spelt so that no runner reads them, each medium its way", () => {
        const text = "r ##[add-mask]x a##vso[task.setvariable variable=OK]true ##VSO[x] # [ok] ## [ok] #[ok]";
        assert.equal(guardCiLog(text), "r ##\\[add-mask]x a##vso\\[task.setvariable variable=OK]true ##VSO\\[x] # [ok] ## [ok] #[ok]");
        assert.equal(escapeText(text), guardCiLog(text));
        // JSON: a string escape, so the parsed value is the input's.
        const json = escapeJsonOutput(JSON.stringify({ name: text }));
        assert.doesNotMatch(json, INLINE_COMMAND);
        assert.deepEqual(JSON.parse(json), { name: text });
        const bytes = Buffer.from(encodeJsonOutput(JSON.stringify([text, "é##[x]"]))).toString("utf8");
        assert.doesNotMatch(bytes, INLINE_COMMAND);
        assert.deepEqual(JSON.parse(bytes), [text, "é##[x]"]);
        // XML and HTML: a character reference, read back as `[`; Markdown: its own escape of `[`.
        for (const out of [escapeXml(text), escapeHtml(text), escapeMarkdown(text), guardCiLog(text, "xml"), guardCiLog(text, "html")]) assert.doesNotMatch(out, INLINE_COMMAND);
        assert.ok(escapeXml(text).includes("##&#91;add-mask]") && escapeHtml(text).includes("##vso&#91;task"));
        assert.ok(escapeMarkdown(text).includes("##\\[add-mask\\]"));
    });

    it("CI log: a `::` after any Unicode space at a line's start is guarded (GitHub's runner trims them all)", () => {
        for (const space of ["\u00a0", "\u3000", "\u2003", "\u000b", "\u000c", "\ufeff"]) {
            assert.equal(guardCiLog(`ok\n${space}::error::x`), `ok\n${space}\\::error::x`, JSON.stringify(space));
        }
        assert.doesNotMatch(escapeTextOutput(HOSTILE), WORKFLOW_LINE);
        assert.doesNotMatch(escapeTextOutput(HOSTILE), INLINE_COMMAND);
    });

    it("CI log: the guard is the multi-line expression it stands for, on any text (the `indexOf` pass only skips work)", () => {
        const expression = (text: string): string =>
            text.replace(/##(vso)?\[/gi, (_m, vso: string | undefined) => `##${vso ?? ""}\\[`).replace(/^([^\S\n\r\u2028\u2029]*)::/gm, "$1\\::");
        for (const text of [":::", "a:::\n:::", " \t::", "x::\r::", "\u2028 ::", "\u2029::", "\u0085::", "::a::", "a::b\n c::", "\u00a0::"]) {
            assert.equal(guardCiLog(text), expression(text), JSON.stringify(text));
        }
        const piece = fc.constantFrom(":", "::", " ", "\t", "\n", "\r", "\u2028", "\u2029", "\u0085", "\u00a0", "\u3000", "a", "urn:pulumi:s::p::t::n", "#", "##", "[", "vso", "VsO");
        fc.assert(
            fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
                const text = parts.join("");
                assert.equal(guardCiLog(text), expression(text));
            }),
            { numRuns: 2000 },
        );
    });

    it("Markdown: a bare CR, U+2028, U+2029 and NEL cannot end the line; markup is inert", () => {
        const md = escapeMarkdown("role\r| pass | ![x](http://e/x.png) <img src=x>\u2028# fake\u0085line\u2029");
        assert.doesNotMatch(md, /[\r\n\u2028\u2029\u0085]/);
        assert.ok(md.includes("\\r") && md.includes("\\u2028") && md.includes("\\x85") && md.includes("\\u2029"));
        assert.ok(md.includes("&lt;img") && md.includes("!\\[x\\]"));
    });

    it("HTML and XML: entities, and controls shown", () => {
        assert.equal(escapeHtml(`<a href="x">'&\u001b`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;\\x1b");
        assert.equal(escapeXml(`<&"'>\u0001\ud800`), "&lt;&amp;&quot;&apos;&gt;\\x01\ufffd");
        assert.equal(escapeXml("a\nb", { keepNewlines: true }), "a\nb");
    });

    it("HTML, XML and Markdown: one pass gives what one replacement after another gives (& first), for any text", () => {
        // The replacements as they were written before round 24, one after another; since round 31 the `[` of an
        // in-line CI command as a character reference at the end (Markdown escapes every `[` already).
        const controls = (v: string, keepNewlines: boolean): string =>
            v.replace(new RegExp(CONTROL_CHARACTER.source, "g"), (c) => (keepNewlines && (c === "\n" || c === "\t") ? c : showControl(c)));
        const inline = (v: string): string => v.replace(/##(vso)?\[/gi, (_m, vso: string | undefined) => `##${vso ?? ""}&#91;`);
        const html = (v: string, keepNewlines: boolean): string =>
            inline(controls(v, keepNewlines).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"));
        const xml = (v: string, keepNewlines: boolean): string =>
            inline(
                controls(v, keepNewlines)
                    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
                    .replace(/[\ufffe\uffff]/g, "\ufffd")
                    .replace(/&/g, "&amp;")
                    .replace(/</g, "&lt;")
                    .replace(/>/g, "&gt;")
                    .replace(/"/g, "&quot;")
                    .replace(/'/g, "&apos;"),
            );
        const md = (v: string): string => controls(v, false).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/([\\`*_[\]~])/g, "\\$1");
        const unit = fc.constantFrom(..."&<>\"'\\`*_[]~;a #\n\t\r\u0001\u2028\ufffe\uffff\ud800\udc00é", "\ud83d\ude00", "&amp;", "&lt;", "##", "##[", "vso[", "VSO");
        const text = fc.array(unit, { maxLength: 30 }).map((u) => u.join(""));
        fc.assert(
            fc.property(text, fc.boolean(), (v, keep) => {
                assert.equal(escapeHtml(v, { keepNewlines: keep }), html(v, keep));
                assert.equal(escapeXml(v, { keepNewlines: keep }), xml(v, keep));
                assert.equal(escapeMarkdown(v), md(v));
            }),
            { numRuns: 3000 },
        );
    });

    it("JSON: C1, DEL and line separators as \\u escapes, the parsed value unchanged", () => {
        const json = escapeJsonOutput(JSON.stringify({ v: HOSTILE }));
        assert.doesNotMatch(json, RAW_CONTROL);
        assert.deepEqual(JSON.parse(json), { v: HOSTILE });
    });

    it("JSON: the fast tests for DEL or non-ASCII, and for ASCII, agree with the expressions they replace, on every kind of string", () => {
        const delOrNonAscii = /[\u007f-\uffff]/;
        const nonAscii = /[\u0080-\uffff]/;
        const check = (s: string): void => {
            assert.equal(hasDelOrNonAscii(s), delOrNonAscii.test(s), JSON.stringify(s));
            assert.equal(isAscii(s), !nonAscii.test(s), JSON.stringify(s));
        };
        // Edges: DEL, the first non-ASCII code unit, Latin-1 (a one-byte string in V8), lone and paired surrogates,
        // and ASCII text that V8 keeps as a two-byte string (a slice of one that held a non-ASCII character).
        const twoByteAscii = "é-plain-ascii-after".slice(1);
        for (const s of ["", "plain", "\u007e", "\u007f", "a\u007fb", "\u0080", "café", "\u00ff", "\ud800", "x\udc00", "😀", "\uffff", twoByteAscii]) check(s);
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: "grapheme-ascii", maxLength: 40 }), (a, b) => {
                for (const s of [a, b, a + b, (a + b).slice(a.length)]) check(s);
            }),
            { numRuns: 2000 },
        );
    });

    it("JSON as bytes: exactly the UTF-8 a string writer makes of the escaped text, in a buffer of its own", () => {
        const check = (s: string): void => {
            const bytes = encodeJsonOutput(s);
            assert.deepEqual(Buffer.from(bytes), Buffer.from(escapeJsonOutput(s), "utf8"), JSON.stringify(s));
            // Transferable to another thread: the whole of its buffer, shared with nothing.
            assert.equal(bytes.byteOffset, 0);
            assert.equal(bytes.buffer.byteLength, bytes.length);
        };
        const twoByteAscii = "é-plain-ascii-after".slice(1);
        for (const s of ["", "plain", "a\u007fb", "\u0085", "café", "\ud800", "😀", HOSTILE, JSON.stringify({ v: HOSTILE }), twoByteAscii]) check(s);
        fc.assert(
            fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ unit: "grapheme-ascii", maxLength: 40 }), (a, b) => {
                // a.slice(1) cuts an astral character in two when a starts with one: a lone surrogate.
                for (const s of [a, b, a + b, b + "\u007f", a.slice(1), (a + b).slice(a.length)]) check(s);
            }),
            { numRuns: 2000 },
        );
        assert.doesNotMatch(textOf(encodeJsonOutput(JSON.stringify({ v: HOSTILE }))), RAW_CONTROL);
    });
});

describe("every output path with hostile values", () => {
    let tmp: string;
    before(() => {
        tmp = mkdtempSync(join(tmpdir(), "oidc-guard-escape-"));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    function assertSafe(name: string, text: string): void {
        assert.doesNotMatch(text, RAW_CONTROL, `${name} holds a raw control character`);
        assert.doesNotMatch(text, WORKFLOW_LINE, `${name} has a line starting with '::'`);
        assert.doesNotMatch(text, INLINE_COMMAND, `${name} holds an in-line CI command`);
    }

    it("check (every format, stdout, files, stderr) and report over its result", async () => {
        const dir = join(tmp, "in");
        mkdirSync(dir);
        // A hostile file name (Linux allows anything but '/' and NUL) holding an aud-only policy, and a stack whose
        // role has a hostile name and URN.
        const fileName = `${HOSTILE.replace(/\//g, "_")}.json`;
        const policy = (sid: string): object => ({
            Version: "2012-10-17",
            Statement: [
                {
                    Sid: `${sid}${HOSTILE}`,
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    // aud only: fails, and the findings quote the statement (with its hostile Sid).
                    Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } },
                },
            ],
        });
        writeFileSync(join(dir, fileName), JSON.stringify(policy("a")));
        const urn = `urn:pulumi:prod::p::aws:iam/role:Role::${HOSTILE}`;
        writeFileSync(
            join(dir, "stack.json"),
            JSON.stringify({ version: 3, deployment: { resources: [{ urn, type: "aws:iam/role:Role", custom: true, inputs: { assumeRolePolicy: JSON.stringify(policy("b")) } }] } }),
        );
        const outDir = join(tmp, "out");
        const formats = ["text", "json", "sarif", "junit", "markdown", "html"];
        for (const format of formats) {
            const r = await runCli(["check", dir, "--org", "acme", "--format", format], tmp);
            assert.equal(r.code, 1, `${format}: ${r.err}`);
            assert.ok(r.out.includes("pwned"), `${format}: the hostile value is shown (escaped)`);
            assertSafe(`check --format ${format} (stdout)`, r.out);
            assertSafe(`check --format ${format} (stderr)`, r.err);
        }
        const files = formats.filter((f) => f !== "text" && f !== "json").flatMap((f) => [`--${f}`, join(outDir, `r.${f}`)]);
        const toFiles = await runCli(["check", dir, "--org", "acme", "--format", "json", "--output", join(outDir, "check.json"), ...files], tmp);
        assert.equal(toFiles.code, 1);
        assertSafe("check stderr (files)", toFiles.err);
        assert.equal((await runCli(["check", dir, "--org", "acme", "--output", join(outDir, "check.txt")], tmp)).code, 1);
        for (const f of readdirSync(outDir)) assertSafe(`check file ${f}`, readFileSync(join(outDir, f), "utf8"));

        // report over the result, every format to stdout; a missing source named by the result goes to stderr.
        for (const format of ["markdown", "html", "junit", "sarif", "json"]) {
            const r = await runCli(["report", join(outDir, "check.json"), "--format", format, "--source-root", join(tmp, "elsewhere")], tmp);
            assertSafe(`report --format ${format} (stdout)`, r.out);
            assertSafe(`report --format ${format} (stderr)`, r.err);
        }

        // A hostile path that does not exist: the error path of the CLI itself.
        const missing = await runCli(["check", join(tmp, HOSTILE)], tmp);
        assert.equal(missing.code, 2);
        assertSafe("check error path", missing.err);
        assert.match(missing.err, /\\x1b\]0;pwned\\x07/);
    });

    it("check and report: a hostile file name on stderr starts no line of its own (its line break is shown)", async () => {
        const dir = join(tmp, "bad-files");
        mkdirSync(dir);
        // A file that is not JSON: its problem is named on stderr, with its name.
        const name = `c\n\u00a0::error::pwned ##[add-mask]x.json`;
        writeFileSync(join(dir, name), "{bad");
        const { code, err } = await runCli(["check", dir, "--org", "acme"], tmp);
        assert.equal(code, 2);
        assertSafe("check stderr (a file that is not JSON)", err);
        assert.match(err, /^oidc-guard check: .*bad-files\/c\\n\u00a0::error::pwned ##\\\[add-mask\]x\.json: /m);
        // report: a result file naming a checked file that is not there, by a name with a line break.
        const result = join(tmp, "named.json");
        writeFileSync(
            result,
            JSON.stringify({
                tool: { name: "oidc-guard", version: "0.1.0" },
                results: [
                    {
                        target: { file: "x.json\noidc-guard report: 0 target(s)\n##vso[task.complete]x\n  ::error::x" },
                        verdict: "fail",
                        findings: [{ ruleId: "oidc-trust-sub-pinned", severity: "high", message: "m", path: "", location: {}, remediation: "r", counterexample: null }],
                    },
                ],
                summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
            }),
        );
        const r = await runCli(["report", result, "--format", "junit", "--source-root", join(tmp, "elsewhere")], tmp);
        assert.match(r.err, /note: cannot read checked file 'x\.json\\noidc-guard report: 0 target\(s\)\\n##vso\\\[task/);
        assertSafe("report stderr (a note naming a file)", r.err);
        assert.equal(r.err.split("\n").filter((l) => l.startsWith("oidc-guard report: 0 target(s)")).length, 0, r.err);
    });

    it("verify: a hostile environment name and stack-outputs values reach no output raw", async () => {
        const outputs = join(tmp, "outputs.json");
        writeFileSync(outputs, JSON.stringify({ roleArn: `arn:aws:iam::123456789012:role/${HOSTILE}`, escEnvironments: [`acme/p/${HOSTILE}`] }));
        const env = { PULUMI_ACCESS_TOKEN: `pul-${"0f".repeat(20)}`, PULUMI_BACKEND_URL: "http://127.0.0.1:1", AWS_REGION: "eu-west-1" };
        for (const argv of [[`acme/platform/${HOSTILE}`], ["--stack-outputs", outputs], ["--stack-outputs", outputs, "--format", "json"], ["--stack-outputs", outputs, "--format", "junit"]]) {
            const r = await runCli(["verify", ...argv, "--timeout", "2"], tmp, env);
            assertSafe(`verify ${argv.join(" ")} (stdout)`, r.out);
            assertSafe(`verify ${argv.join(" ")} (stderr)`, r.err);
            assert.ok(`${r.out}${r.err}`.includes("pwned"), `verify ${argv.join(" ")}: the hostile value is shown (escaped)`);
        }
    });
});
