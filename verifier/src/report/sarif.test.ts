import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { RULES } from "oidc-guard-policypack/analysis";
import type { CheckReport } from "../results.js";
import { VERIFY_RULES } from "../verify/rules.js";
import { buildModel } from "./model.js";
import { fileUri, renderSarif } from "./sarif.js";
import { FIXTURES, lineOf, sampleInput } from "./testdata/load.js";

interface SarifResult {
    ruleId: string;
    ruleIndex: number;
    level: string;
    message: { text: string };
    locations: {
        physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number; startColumn?: number } };
        logicalLocations?: { fullyQualifiedName: string; kind: string }[];
    }[];
    partialFingerprints: Record<string, string>;
}
interface SarifLog {
    version: string;
    runs: {
        tool: { driver: { name: string; rules: { id: string; helpUri: string; help: { text: string; markdown: string }; shortDescription: { text: string }; properties: Record<string, unknown> }[] } };
        results: SarifResult[];
        properties: { compliant: { target: string; admits?: { audiences: string[] | null; subjects: string[] }[] }[] };
    }[];
}

// The official OASIS schema (draft-04), copied into testdata/ (see testdata/README.md).
const schema = JSON.parse(readFileSync(join(__dirname, "testdata", "sarif-schema-2.1.0.json"), "utf8")) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
/** The schema's format of `artifactLocation.uri`, as ajv-formats checks it. */
const uriReference = ajv.compile({ type: "string", format: "uri-reference" });

const sarifText = renderSarif(buildModel(sampleInput()));
const sarif = JSON.parse(sarifText) as SarifLog;
const run = sarif.runs[0]!;

describe("SARIF", () => {
    it("is valid against the official SARIF 2.1.0 schema", () => {
        const ok = validate(sarif);
        assert.equal(ok, true, ajv.errorsText(validate.errors));
        // The validator is live: a broken log fails.
        assert.equal(validate({ ...sarif, version: "2.0.0" }), false);
        assert.equal(validate({ version: "2.1.0", runs: [{ tool: { driver: {} }, results: [] }] }), false);
    });

    it("lists every pack rule with help text and URL from RULES", () => {
        const rules = run.tool.driver.rules;
        for (const meta of RULES) {
            const r = rules.find((x) => x.id === meta.id);
            assert.ok(r, meta.id);
            assert.equal(r.helpUri, meta.url);
            assert.equal(r.shortDescription.text, meta.title);
            assert.ok(r.help.text.includes(meta.remediation));
            assert.ok(Number(r.properties["security-severity"]) > 0);
        }
        for (const res of run.results) assert.equal(rules[res.ruleIndex]?.id, res.ruleId);
    });

    it("puts file findings on the line of the offending condition key", () => {
        const text = readFileSync(join(FIXTURES, "sources", "trust-policy-sub-wildcard.json"), "utf8");
        const res = run.results.find((r) => r.locations[0]?.physicalLocation.artifactLocation.uri.endsWith("trust-policy-sub-wildcard.json"));
        assert.ok(res);
        assert.equal(res.ruleId, "oidc-trust-sub-pinned");
        assert.equal(res.level, "error");
        assert.equal(res.locations[0]?.physicalLocation.region.startLine, lineOf(text, '"api.pulumi.com/oidc:sub"', 1));
        assert.equal(res.locations[0]?.physicalLocation.artifactLocation.uriBaseId, "%SRCROOT%");
        assert.match(res.message.text, /A token that gets in: iss=api\.pulumi\.com\/oidc aud=aws:acme sub=pulumi:environments:org:acme:env:sandbox\/scratch/);
        assert.match(res.message.text, /Fix: /);
    });

    it("gives stack findings the resource URN as a logical location, and the file line of its policy", () => {
        const urn = "urn:pulumi:prod::aws-oidc::aws:iam/role:Role::deployments-role";
        const res = run.results.find((r) => r.locations[0]?.logicalLocations?.[0]?.fullyQualifiedName === urn);
        assert.ok(res);
        assert.equal(res.locations[0]?.logicalLocations?.[0]?.kind, "resource");
        const text = readFileSync(join(FIXTURES, "sources", "stack-export.json"), "utf8");
        assert.equal(res.locations[0]?.physicalLocation.region.startLine, lineOf(text, '"assumeRolePolicy"'));
    });

    it("gives every result a physical location with a line (GitHub rejects the whole upload otherwise)", () => {
        assert.equal(run.results.length, 4); // two sub-pinned findings, one unknown at preview, one failed verify check
        for (const r of run.results) {
            assert.ok(r.locations.length > 0);
            assert.ok(r.locations[0]!.physicalLocation.artifactLocation.uri.length > 0);
            assert.ok(r.locations[0]!.physicalLocation.region.startLine >= 1);
            assert.match(r.partialFingerprints["oidcGuardFinding/v1"] ?? "", /^[0-9a-f]{64}$/);
        }
        const verify = run.results.find((r) => r.ruleId === "esc-verify/environment-opens");
        assert.equal(verify?.locations[0]?.logicalLocations?.[0]?.fullyQualifiedName, "acme/payments/prod");
        const unknown = run.results.find((r) => r.ruleId === "oidc-trust-unknown-at-preview");
        assert.equal(unknown?.level, "warning");
    });

    it("keeps the positive evidence of compliant roles in the run's properties", () => {
        const c = run.properties.compliant.find((x) => x.target.endsWith("trust-policy-pinned.json"));
        assert.deepEqual(c?.admits, [
            {
                issuer: "api.pulumi.com/oidc",
                audiences: ["aws:acme"],
                subjects: ["pulumi:environments:org:acme:env:payments/prod", "pulumi:environments:org:acme:env:payments/staging"],
            },
        ]);
    });

    it("has stable fingerprints across runs", () => {
        const again = JSON.parse(renderSarif(buildModel({ ...sampleInput(), generatedAt: new Date() }))) as SarifLog;
        assert.deepEqual(
            again.runs[0]!.results.map((r) => r.partialFingerprints),
            run.results.map((r) => r.partialFingerprints),
        );
    });

    it("encodes file paths as URI references", () => {
        assert.deepEqual(fileUri("stacks/my stack #1.json"), { uri: "stacks/my%20stack%20%231.json", uriBaseId: "%SRCROOT%" });
        assert.deepEqual(fileUri("/abs/p.json"), { uri: "file:///abs/p.json" });
        assert.deepEqual(fileUri("C:\\x\\p.json"), { uri: "file:///C:/x/p.json" });
    });

    it("is valid for an empty report too", () => {
        const empty = JSON.parse(renderSarif(buildModel({}))) as SarifLog;
        assert.equal(validate(empty), true, ajv.errorsText(validate.errors));
        assert.deepEqual(empty.runs[0]?.results, []);
    });
});

/** A check result of one failing target in `file`, with one finding of rule `ruleId`. */
function oneFinding(file: string, ruleId = "oidc-trust-sub-pinned", remediation = "r"): CheckReport {
    return {
        tool: { name: "oidc-guard", version: "0.1.0" },
        results: [{ target: { file }, verdict: "fail", findings: [{ ruleId, severity: "high", message: "m", path: "", location: {}, remediation, counterexample: null }] }],
        summary: { pass: 0, fail: 1, unknown: 0, error: 0 },
    };
}

function sarifOf(report: CheckReport): SarifLog {
    const log = JSON.parse(renderSarif(buildModel({ checks: [report] }))) as SarifLog;
    assert.equal(validate(log), true, ajv.errorsText(validate.errors));
    return log;
}

describe("SARIF: file names from input", () => {
    it("writes a lone surrogate in a file name as U+FFFD, percent-encoded, rather than throw", () => {
        assert.deepEqual(fileUri("a\ud800.json"), { uri: "a%EF%BF%BD.json", uriBaseId: "%SRCROOT%" });
        assert.deepEqual(fileUri("\udc00/b\ud83d"), { uri: "%EF%BF%BD/b%EF%BF%BD", uriBaseId: "%SRCROOT%" });
        // A pair stays the character it encodes.
        assert.deepEqual(fileUri("\ud83d\ude00.json"), { uri: "%F0%9F%98%80.json", uriBaseId: "%SRCROOT%" });
        const log = sarifOf(oneFinding("a\ud800.json"));
        assert.equal(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, "a%EF%BF%BD.json");
    });

    it("keeps a target that is a URI (scan aws) and percent-encodes, as a path, one with characters a URI cannot hold", () => {
        for (const uri of ["aws://123456789012", "aws://caller", "x-y.z+1://user:p%41ss@host-1.example:8443", "a://b!$&'()*+,;=~._-"]) {
            assert.deepEqual(fileUri(uri), { uri });
            assert.equal(uriReference(uri), true, uri);
        }
        assert.deepEqual(fileUri("xy://a<b>"), { uri: "xy%3A//a%3Cb%3E", uriBaseId: "%SRCROOT%" });
        assert.deepEqual(fileUri('xy://a"<>{}|^`'), { uri: "xy%3A//a%22%3C%3E%7B%7D%7C%5E%60", uriBaseId: "%SRCROOT%" });
        // One letter before `:/` reads as a Windows drive.
        assert.deepEqual(fileUri("x://a<b>"), { uri: "file:///x://a%3Cb%3E" });
        for (const notUri of ["xy://a<b>", 'xy://a"<>{}|^`', "xy://a%zz", "xy://a%4", "xy://a\\b", "xy://a[b]", "xy://a#b#c", "xy://a:b", "xy://a?b", "xy://é", "xy://a\u0000"]) {
            const { uri, uriBaseId } = fileUri(notUri);
            assert.equal(uriBaseId, "%SRCROOT%", notUri);
            assert.equal(uriReference(uri), true, `${notUri} -> ${uri}`);
        }
        // A URI a viewer's link would run is a path too.
        assert.deepEqual(fileUri("javascript://%0aalert(1)"), { uri: "javascript%3A//%250aalert(1)", uriBaseId: "%SRCROOT%" });
        assert.deepEqual(fileUri("VBScript://x"), { uri: "VBScript%3A//x", uriBaseId: "%SRCROOT%" });
        const log = sarifOf(oneFinding('xy://a"<>{}|^`'));
        assert.equal(log.runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, "xy%3A//a%22%3C%3E%7B%7D%7C%5E%60");
        assert.equal(sarifOf(oneFinding("x://a<b>")).runs[0]?.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, "file:///x://a%3Cb%3E");
    });

    it("gives every file name, whatever it holds, a URI reference of the schema's format", () => {
        const uriish = fc
            .tuple(fc.constantFrom("aws", "x", "file", "a+b.c-d"), fc.string({ unit: fc.constantFrom(..."aZ09-._~!$&'()*+,;=:@%/?#[]<>\"{}|^` \t\u00e9\ud800\udc00") }))
            .map(([scheme, rest]) => `${scheme}://${rest}`);
        fc.assert(
            fc.property(fc.oneof(fc.string({ unit: "binary" }), uriish), (path) => {
                const { uri } = fileUri(path);
                assert.equal(uriReference(uri), true, `${JSON.stringify(path)} -> ${uri}`);
            }),
            { numRuns: 3000 },
        );
    });
});

describe("SARIF: Markdown help", () => {
    it("escapes the remediation of a rule this version does not know, as the Markdown report does", () => {
        const hostile = "see [docs](javascript:alert(1))\n# Owned\n<img src=https://evil.example/t.png>\n<!-- hidden *x* _y_";
        const log = sarifOf(oneFinding("a.json", "zz-newer-rule", hostile));
        const rule = log.runs[0]?.tool.driver.rules.find((r) => r.id === "zz-newer-rule");
        assert.ok(rule);
        const md = rule.help.markdown;
        assert.ok(!md.includes("<img") && !md.includes("<!--"), md);
        assert.ok(!md.includes("[docs]("), md);
        assert.ok(!/\*x\*|_y_/.test(md.replace(/\\[*_]/g, "")), md);
        // The value stays on its line: no heading, no HTML block of its own.
        assert.ok(!md.split("\n").some((l) => l.startsWith("#") || l.startsWith("<")), md);
        // Shown as the Markdown report shows it: `\n` as a backslash (itself escaped) and an n.
        assert.match(md, /\*\*Fix:\*\* see \\\[docs\\\]\(javascript:alert\(1\)\)\\\\n# Owned\\\\n&lt;img /);
        // The plain-text help keeps the value as it is.
        assert.ok(rule.help.text.includes(hostile));
    });

    it("escapes a rule id this version does not know wherever help Markdown shows it", () => {
        const id = "zz-<b>-*x*";
        const log = sarifOf(oneFinding("a.json", id));
        const md = log.runs[0]?.tool.driver.rules.find((r) => r.id === id)?.help.markdown ?? "";
        assert.ok(md.includes("zz-&lt;b&gt;-\\*x\\*"), md);
        assert.ok(!md.includes("<b>"), md);
    });

    it("writes the catalog's own Markdown for the rules it knows", () => {
        for (const meta of [...RULES, ...VERIFY_RULES]) {
            const r = run.tool.driver.rules.find((x) => x.id === meta.id);
            assert.equal(r?.help.markdown, `${meta.description}\n\n**Fix:** ${meta.remediation}\n\nSee [the documentation](${meta.url}).`, meta.id);
        }
    });
});
