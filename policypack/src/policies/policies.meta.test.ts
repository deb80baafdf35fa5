import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { RULES } from "../analysis/index.js";
import { policies } from "./index.js";
import { metadataFromRules, rulesOfPolicy } from "./support/metadata.js";

const NAME = /^[a-zA-Z0-9-_.]{1,100}$/;
const dir = __dirname;

describe("policy registry", () => {
    it("registers each policy once, under a valid, unique name", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(policies).size, policies.length, "a policy object is listed twice");
        assert.equal(new Set(names).size, names.length, `duplicate names: ${names.join(", ")}`);
        for (const name of names) {
            assert.match(name, NAME);
            assert.notEqual(name, "all");
        }
    });

    it("has one source file and one test file per policy, and no unregistered policy file", () => {
        const names = new Set(policies.map((p) => p.name));
        for (const name of names) {
            assert.ok(existsSync(join(dir, `${name}.ts`)), `policies/${name}.ts missing`);
            assert.ok(existsSync(join(dir, `${name}.test.ts`)), `policies/${name}.test.ts missing`);
        }
        const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "index.ts");
        for (const f of files) assert.ok(names.has(f.slice(0, -3)), `policies/${f} is not registered in policies/index.ts`);
    });

    it("gives every policy full metadata and the shared config schema", () => {
        for (const p of policies) {
            for (const field of ["description", "displayName", "remediationSteps", "url"] as const) {
                assert.ok(typeof p[field] === "string" && p[field].length > 0, `${p.name}: ${field}`);
            }
            assert.ok(p.severity && ["low", "medium", "high", "critical"].includes(p.severity), `${p.name}: severity`);
            assert.ok(p.enforcementLevel && ["advisory", "mandatory"].includes(p.enforcementLevel), `${p.name}: enforcementLevel`);
            assert.ok(p.tags && p.tags.length > 0, `${p.name}: tags`);
            assert.match(p.url ?? "", /^https:\/\//);
            const props = Object.keys(p.configSchema?.properties ?? {}).sort();
            assert.deepEqual(props, ["allowedSubjects", "audiences", "issuers", "organizations", "subjectScope", "timeBudgetMs"], p.name);
            assert.ok(!props.includes("enforcementLevel"));
        }
    });

    it("takes texts and severity from the rule catalog, and every catalog policy is registered", () => {
        const byName = new Map(policies.map((p) => [p.name, p]));
        for (const r of RULES) {
            const p = byName.get(r.policy);
            assert.ok(p, `rule ${r.id} names unregistered policy ${r.policy}`);
            assert.ok(p.remediationSteps?.includes(r.remediation), `${p.name} remediation lacks rule ${r.id}`);
            const together = RULES.filter((x) => x.policy === r.policy);
            if (together.length === 1) assert.equal(p.description, r.description, `${p.name} description is not its rule's`);
            else assert.ok(p.remediationSteps?.includes(`- ${r.title}: `), `${p.name} remediation does not name rule ${r.id}`);
        }
        for (const p of policies) {
            const rules = RULES.filter((r) => r.policy === p.name);
            if (rules.length === 0) continue;
            const order = ["low", "medium", "high", "critical"];
            const max = rules.map((r) => r.severity).sort((a, b) => order.indexOf(b) - order.indexOf(a))[0];
            assert.equal(p.severity, max, p.name);
            assert.equal(p.url, rules[0]!.url, p.name);
        }
    });

    it("describes each policy in one sentence: the SDK puts it in front of every violation's message", () => {
        for (const p of policies) {
            assert.ok(p.description.length <= 250, `${p.name}: description of ${p.description.length} characters`);
            assert.equal(p.description.match(/[.!?](\s|$)/g)?.length, 1, `${p.name}: not one sentence: ${p.description}`);
        }
    });

    it("refuses to make the description of a policy reporting several rules from theirs", () => {
        const rules = rulesOfPolicy("pulumi-oidc-role-trust-pinned");
        assert.ok(rules.length > 1);
        assert.throws(() => metadataFromRules(rules), /needs a display name and description of its own/);
        const own = metadataFromRules(rules, { displayName: "d", description: "One sentence." });
        assert.equal(own.description, "One sentence.");
        assert.equal(own.displayName, "d");
        assert.equal(metadataFromRules([rules[0]!]).description, rules[0]!.description);
    });

    it("the role trust policy is mandatory by default; the outside-stack report is advisory", () => {
        const level = (name: string) => policies.find((p) => p.name === name)?.enforcementLevel;
        assert.equal(level("pulumi-oidc-role-trust-pinned"), "mandatory");
        assert.equal(level("pulumi-oidc-role-provider-audiences"), "mandatory");
        assert.equal(level("pulumi-oidc-role-provider-outside-stack"), "advisory");
    });
});
