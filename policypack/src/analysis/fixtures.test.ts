/**
 * Runs analyzeTrustPolicy over every fixture in fixtures/trust-policies/{good,bad} and compares it with the
 * `<name>.expected.json` beside it; every counterexample is replayed through the independent reference evaluator.
 * Comparison rules: see fixtures/README.md.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { analyzeTrustPolicy, DEFAULT_ISSUERS, RULES, type AnalysisOptions, type Finding, type Verdict } from "./index.js";
import {
    allowedAudiences,
    candidateTokens,
    checkAgainstCandidates,
    checkCounterexamples,
    compileEvaluator,
    describeFinding,
    inScope,
} from "../testing/reference-evaluator.js";

const FIXTURES = join(__dirname, "..", "..", "..", "fixtures", "trust-policies");

interface ExpectedFinding {
    ruleId: string;
    statementIndex?: number;
    conditionKey?: string;
}
interface Expected {
    options?: AnalysisOptions;
    verdict: Verdict;
    findings: ExpectedFinding[];
    usableFromPulumi?: boolean;
}
interface Fixture {
    kind: "good" | "bad";
    name: string;
    doc: unknown;
    expected: Expected;
}

function loadFixtures(): Fixture[] {
    const out: Fixture[] = [];
    for (const kind of ["good", "bad"] as const) {
        const dir = join(FIXTURES, kind);
        for (const file of readdirSync(dir).sort()) {
            if (!file.endsWith(".json") || file.endsWith(".expected.json")) continue;
            const name = file.slice(0, -".json".length);
            const expectedFile = join(dir, `${name}.expected.json`);
            assert.ok(existsSync(expectedFile), `${kind}/${file} has no ${name}.expected.json`);
            out.push({
                kind,
                name,
                doc: JSON.parse(readFileSync(join(dir, file), "utf8")) as unknown,
                expected: JSON.parse(readFileSync(expectedFile, "utf8")) as Expected,
            });
        }
    }
    return out;
}

/** Does an actual finding agree with an expected one on every field the expected one states? */
function agrees(actual: Finding, expected: ExpectedFinding): boolean {
    return (
        actual.ruleId === expected.ruleId &&
        (expected.statementIndex === undefined || actual.location.statementIndex === expected.statementIndex) &&
        (expected.conditionKey === undefined || actual.location.conditionKey === expected.conditionKey)
    );
}

const fixtures = loadFixtures();

describe("trust-policy fixtures", () => {
    it("has at least 12 good and 20 bad fixtures, each with an expected result", () => {
        assert.ok(fixtures.filter((f) => f.kind === "good").length >= 12);
        assert.ok(fixtures.filter((f) => f.kind === "bad").length >= 20);
    });

    it("good fixtures expect pass, bad ones expect fail, error or unknown, with known rule ids", () => {
        const ids = new Set(RULES.map((r) => r.id));
        const advisory = new Set(RULES.filter((r) => r.policy === "pulumi-oidc-role-trust-advisories").map((r) => r.id));
        for (const f of fixtures) {
            assert.equal(f.expected.verdict === "pass", f.kind === "good", `${f.kind}/${f.name}: verdict ${f.expected.verdict}`);
            const mandatory = f.expected.findings.filter((e) => !advisory.has(e.ruleId));
            assert.equal(mandatory.length === 0, f.expected.verdict === "pass", `${f.kind}/${f.name}: findings`);
            for (const e of f.expected.findings) assert.ok(ids.has(e.ruleId), `${f.kind}/${f.name}: unknown rule ${e.ruleId}`);
        }
    });

    it("fixtures/README.md has a line for every fixture", () => {
        const readme = readFileSync(join(FIXTURES, "..", "README.md"), "utf8");
        for (const f of fixtures) assert.ok(readme.includes(`${f.kind}/${f.name}.json`), `README misses ${f.kind}/${f.name}.json`);
    });

    it("the reference evaluator agrees with every fixture's expectation where it can decide it", () => {
        for (const f of fixtures) {
            if (f.expected.verdict !== "pass" && f.expected.verdict !== "fail") continue;
            const options = f.expected.options ?? {};
            const issuers = options.issuers ?? DEFAULT_ISSUERS;
            const decide = compileEvaluator(f.doc, issuers);
            const admitted = candidateTokens(f.doc, issuers).filter((t) => decide(t) === "allow");
            if (f.expected.usableFromPulumi !== undefined) {
                assert.equal(admitted.length > 0, f.expected.usableFromPulumi, `${f.kind}/${f.name}: usable`);
            }
            if (allowedAudiences(options) && options.allowedSubjects) {
                // A token outside the pin means fail; a fail may also rest on an audience no issuable token pairs
                // with the statement's subjects (the audience rule fails whatever the subject).
                const outside = admitted.filter((t) => !inScope(t, options));
                if (outside.length > 0) assert.equal(f.expected.verdict, "fail", `${f.kind}/${f.name}: ${JSON.stringify(outside[0])}`);
            }
        }
    });

    for (const f of fixtures) {
        it(`${f.kind}/${f.name} → ${f.expected.verdict}`, () => {
            const options = f.expected.options ?? {};
            const result = analyzeTrustPolicy(f.doc, options);
            const got = result.findings.map(describeFinding).join("\n  ");
            assert.equal(result.verdict, f.expected.verdict, `verdict; findings:\n  ${got}`);
            for (const e of f.expected.findings) {
                assert.ok(result.findings.some((a) => agrees(a, e)), `missing finding ${JSON.stringify(e)}; got:\n  ${got}`);
            }
            for (const a of result.findings) {
                assert.ok(f.expected.findings.some((e) => agrees(a, e)), `unexpected finding ${describeFinding(a)}`);
            }
            if (f.expected.usableFromPulumi !== undefined) {
                assert.equal(result.usableFromPulumi, f.expected.usableFromPulumi, "usableFromPulumi");
                if (!f.expected.usableFromPulumi) assert.ok(result.notes.length > 0, "an unusable role carries a note");
            }
            if (f.expected.findings.some((e) => e.ruleId === "oidc-trust-unknown-at-preview")) {
                assert.ok(result.unknownPaths && result.unknownPaths.length > 0, "unknownPaths names the unknown values");
            }
            checkCounterexamples(f.doc, options, result);
            checkAgainstCandidates(f.doc, options, result);
        });
    }
});
