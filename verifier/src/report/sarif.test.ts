import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import { RULES } from "oidc-guard-policypack/analysis";
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
        tool: { driver: { name: string; rules: { id: string; helpUri: string; help: { text: string }; shortDescription: { text: string }; properties: Record<string, unknown> }[] } };
        results: SarifResult[];
        properties: { compliant: { target: string; admits?: { audiences: string[] | null; subjects: string[] }[] }[] };
    }[];
}

// The official OASIS schema (draft-04), copied into testdata/ (see testdata/README.md).
const schema = JSON.parse(readFileSync(join(__dirname, "testdata", "sarif-schema-2.1.0.json"), "utf8")) as object;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);

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
