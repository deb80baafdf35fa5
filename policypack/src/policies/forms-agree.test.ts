/**
 * The pack judges each trust policy of fixtures/trust-policies as the analysis does, in every form a Pulumi program
 * can hand it: `aws:iam/role:Role`'s `assumeRolePolicy` as a JSON string, as an object (a `PolicyDocument`), as a
 * secret, and `aws-native:iam:Role`'s `assumeRolePolicyDocument` as an object. Called as the SDK calls the policies
 * (testing/policy-harness.ts): the mandatory policy reports one violation per mandatory finding (rule and statement),
 * the advisory policy one per advisory finding, and a document with values unknown at preview is left to update with
 * the SDK's advisory, never passed. The messages are the same in every form but for the property's name.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { analyzeTrustPolicy, type TrustAnalysis } from "../analysis/index.js";
import { runResourcePolicy, secret, type PolicyRun } from "../testing/policy-harness.js";
import { roleTrustAdvisories } from "./pulumi-oidc-role-trust-advisories.js";
import { roleTrustPinned } from "./pulumi-oidc-role-trust-pinned.js";

const POLICIES = join(__dirname, "..", "..", "..", "fixtures", "trust-policies");
const ORGS = { organizations: ["acme"] };
const CONFIG = { "pulumi-oidc-role-trust-pinned": ORGS, "pulumi-oidc-role-trust-advisories": ORGS };

/** The object fixtures (the pack reads a property that is an object or a string; a string is the form below). */
function fixtures(): { name: string; doc: Record<string, unknown> }[] {
    const out: { name: string; doc: Record<string, unknown> }[] = [];
    for (const dir of ["good", "bad"]) {
        for (const f of readdirSync(join(POLICIES, dir)).filter((x) => x.endsWith(".json") && !x.endsWith(".expected.json")).sort()) {
            const doc = JSON.parse(readFileSync(join(POLICIES, dir, f), "utf8")) as unknown;
            if (doc !== null && typeof doc === "object" && !Array.isArray(doc)) out.push({ name: `${dir}/${basename(f)}`, doc: doc as Record<string, unknown> });
        }
    }
    return out;
}

const FORMS: { form: string; type: string; property: string; value: (doc: Record<string, unknown>) => unknown }[] = [
    { form: "a JSON string", type: "aws:iam/role:Role", property: "assumeRolePolicy", value: (d) => JSON.stringify(d) },
    { form: "an object", type: "aws:iam/role:Role", property: "assumeRolePolicy", value: (d) => d },
    { form: "a secret", type: "aws:iam/role:Role", property: "assumeRolePolicy", value: (d) => secret(JSON.stringify(d)) },
    { form: "aws-native, an object", type: "aws-native:iam:Role", property: "assumeRolePolicyDocument", value: (d) => d },
];

/** The rule id and statement each violation names (`(<rule>, severity …)` ends it; its path starts it). */
function named(run: PolicyRun, property: string): string[] {
    return run.violations
        .map((v) => {
            const rule = /\((oidc-[a-z-]+), severity [a-z]+\)$/.exec(v.message)?.[1] ?? "?";
            const statement = new RegExp(`^${property}\\.Statement(?:\\[(\\d+)\\])?`).exec(v.message);
            return `${rule}@${statement ? (statement[1] ?? "0") : "-"}`;
        })
        .sort();
}

/** What the analysis says the two policies must report. */
function expected(a: TrustAnalysis): { mandatory: string[]; advisory: string[] } {
    const at = (f: TrustAnalysis["findings"][number]): string => `${f.ruleId}@${f.location?.statementIndex ?? (f.path.startsWith("Statement") ? "0" : "-")}`;
    return {
        mandatory: a.findings.filter((f) => !f.advisory).map(at).sort(),
        advisory: a.findings.filter((f) => f.advisory).map(at).sort(),
    };
}

describe("the pack judges every form of a role's trust policy as the analysis does", () => {
    const all = fixtures();

    it("holds the fixtures: every verdict among them", () => {
        assert.ok(all.length >= 60, `${all.length} fixtures`);
        assert.deepEqual(new Set(all.map(({ doc }) => analyzeTrustPolicy(doc, ORGS).verdict)), new Set(["pass", "fail", "unknown", "error"]));
    });

    for (const { form, type, property, value } of FORMS) {
        it(`${type}, ${property} as ${form}`, async () => {
            const problems: string[] = [];
            for (const { name, doc } of all) {
                const analysis = analyzeTrustPolicy(doc, ORGS);
                const props = { [property]: value(doc) };
                const pinned = await runResourcePolicy(roleTrustPinned, { type, props, config: CONFIG });
                const advisories = await runResourcePolicy(roleTrustAdvisories, { type, props, config: CONFIG });
                const want = expected(analysis);
                if (analysis.verdict === "unknown" && analysis.unknownPaths) {
                    // Unknown at preview: the SDK's advisory, no verdict, from both policies.
                    if (pinned.previewDiagnostic === null || pinned.violations.length > 0) problems.push(`${name}: unknown at preview, but ${JSON.stringify(pinned)}`);
                    continue;
                }
                if (pinned.previewDiagnostic !== null) problems.push(`${name}: a preview diagnostic for a known document: ${pinned.previewDiagnostic}`);
                const got = { mandatory: named(pinned, property), advisory: named(advisories, property) };
                if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${name} (${analysis.verdict}): want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
                // A pass reports nothing mandatory; anything else never passes silently.
                if ((analysis.verdict === "pass") !== (pinned.violations.length === 0)) problems.push(`${name}: verdict ${analysis.verdict} with ${pinned.violations.length} violations`);
            }
            assert.deepEqual(problems, []);
        });
    }

    it("says the same in every form, but for the property's name", async () => {
        // An object crosses the engine as a protobuf Struct, which keeps no key order: of a key written twice in
        // other case, the finding names the one that comes first, which is not the same one in every form.
        for (const { name, doc } of all.filter((f) => f.name !== "bad/error-duplicate-key-case.json")) {
            const messages = new Set<string>();
            for (const { type, property, value } of FORMS) {
                const run = await runResourcePolicy(roleTrustPinned, { type, props: { [property]: value(doc) }, config: CONFIG });
                // Where the unknown is: inside an object the SDK points at it; a string holding a sentinel is unknown whole.
                const diagnostic = run.previewDiagnostic?.replace(/\(unknown: [^)]*\)$/, "(unknown: …)") ?? null;
                messages.add(JSON.stringify([...run.violations.map((v) => v.message), diagnostic].map((m) => m?.replaceAll(property, "<property>"))));
            }
            assert.equal(messages.size, 1, `${name}: ${[...messages].join("\n")}`);
        }
    });
});
