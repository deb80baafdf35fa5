/**
 * The pack's resource policies on mutated fixtures, called as the SDK calls them (testing/policy-harness.ts): the
 * trust policies of fixtures/trust-policies and the roles and providers of the stack exports in fixtures/stacks,
 * mutated by testing/mutate.ts with a seed (`OIDC_GUARD_MUTATION_SEED` explores others), each carrying its marker (a
 * bidi override, BEL, an ANSI colour, a Pulumi colour directive, a new line starting a CI workflow command).
 *
 * The pack's configuration is mutated too: the engine's schema check or the pack refuses it, naming the setting, or
 * the policies run under it.
 *
 * Whatever the mutation does, no policy throws anything but the SDK's own exceptions (the harness rethrows any other),
 * and every message it hands the SDK (violations, the preview reason, a not-applicable reason) is fit for Pulumi's
 * display: no control character but its own line breaks, no colour delimiter, no line that starts with `::`.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { CONTROL_CHARACTER } from "../analysis/index.js";
import { generator, mutate, mutationSeed, type Json } from "../testing/mutate.js";
import { PolicyConfigError } from "../testing/policy-config.js";
import { PolicyPackError } from "./support/sdk.js";
import { runResourcePolicy, type PolicyRun } from "../testing/policy-harness.js";
import { providerConfig } from "./pulumi-oidc-provider-config.js";
import { roleTrustAdvisories } from "./pulumi-oidc-role-trust-advisories.js";
import { roleTrustPinned } from "./pulumi-oidc-role-trust-pinned.js";

const FIXTURES = join(__dirname, "..", "..", "..", "fixtures");
const CASES = 8;

function jsonFiles(dir: string): string[] {
    return readdirSync(dir)
        .filter((f) => f.endsWith(".json") && !f.endsWith(".expected.json"))
        .sort()
        .map((f) => join(dir, f));
}

function assertDisplayable(what: string, run: PolicyRun): void {
    const messages = [...run.violations.map((v) => v.message), run.previewDiagnostic, run.notApplicable].filter((m): m is string => m !== null);
    for (const m of messages) {
        const raw = [...m].filter((c) => c !== "\n" && CONTROL_CHARACTER.test(c));
        assert.deepEqual(raw, [], `${what}: a control character in ${JSON.stringify(m)}`);
        assert.ok(!m.includes("<{%") && !m.includes("%}>"), `${what}: a colour delimiter in ${JSON.stringify(m)}`);
        for (const line of m.split("\n")) assert.ok(!line.trimStart().startsWith("::"), `${what}: a line starts a workflow command: ${JSON.stringify(line)}`);
    }
}

interface Resource {
    type: string;
    props: Record<string, unknown>;
}

const SIG = "4dabf18193072939515e22adb298388d";

/**
 * `value` with each secret envelope of a stack export replaced by its plaintext: the SDK unwraps secrets before a
 * policy reads them, and a mutated envelope is refused by the engine's own deserializer, never sent to a pack.
 */
function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const rec = value as Record<string, unknown>;
    if (SIG in rec) {
        if (typeof rec["plaintext"] === "string") return JSON.parse(rec["plaintext"]) as unknown;
        // An export without --show-secrets holds only the ciphertext: the engine would decrypt it; text stands in here.
        return "value" in rec ? unwrapSecrets(rec["value"]) : "(a secret of the export, encrypted)";
    }
    return Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** The roles and providers of the stack exports (their inputs, as `pulumi preview` hands them to the pack). */
function stackResources(): Resource[] {
    const out: Resource[] = [];
    for (const file of jsonFiles(join(FIXTURES, "stacks"))) {
        const doc = JSON.parse(readFileSync(file, "utf8")) as { deployment?: { resources?: { type: string; inputs?: Record<string, unknown> }[] } };
        for (const r of doc.deployment?.resources ?? []) {
            if (/^aws(-native)?:iam/.test(r.type) && r.inputs) out.push({ type: r.type, props: unwrapSecrets(r.inputs) as Record<string, unknown> });
        }
    }
    return out;
}

describe("the pack's resource policies on mutated fixtures", () => {
    it("never throw, and every message is fit for Pulumi's display", async () => {
        const random = generator(mutationSeed());
        const config = (name: string): Record<string, unknown> => ({ [name]: { organizations: ["acme"], timeBudgetMs: 2000 } });
        const policies: ResourceValidationPolicy[] = [roleTrustPinned, roleTrustAdvisories, providerConfig];
        const documents = ["good", "bad"].flatMap((d) => jsonFiles(join(FIXTURES, "trust-policies", d))).map((f) => readFileSync(f, "utf8"));
        const resources = stackResources();
        assert.ok(documents.length >= 20 && resources.length >= 4, `${documents.length} documents, ${resources.length} resources`);
        let violations = 0;
        for (const [i, text] of documents.entries()) {
            for (let c = 0; c < 2; c++) {
                const doc = mutate(JSON.parse(text) as Json, random);
                const assumeRolePolicy = random() < 0.5 ? JSON.stringify(doc) : doc;
                for (const policy of [roleTrustPinned, roleTrustAdvisories]) {
                    const run = await runResourcePolicy(policy, { type: "aws:iam/role:Role", props: { assumeRolePolicy }, config: config(policy.name) });
                    assertDisplayable(`${policy.name}, document ${i} case ${c}`, run);
                    violations += run.violations.length;
                }
            }
        }
        for (const [i, r] of resources.entries()) {
            for (let c = 0; c < CASES; c++) {
                const props = mutate(structuredClone(r.props) as Json, random) as Record<string, unknown>;
                for (const policy of policies) {
                    const run = await runResourcePolicy(policy, { type: r.type, props, config: config(policy.name) });
                    assertDisplayable(`${policy.name}, ${r.type} ${i} case ${c}`, run);
                    violations += run.violations.length;
                }
            }
        }
        assert.ok(violations > 0, "no mutated input was reported: the cases never reached the analysis");
    });
    it("with the pack's configuration mutated: refused by the engine's schema check, or applied, and still displayable", async () => {
        // What `--policy-pack-config` (or a policy group's configuration) holds: organizations, subjects, issuers.
        const random = generator(mutationSeed() + 6);
        const original = JSON.parse(readFileSync(join(FIXTURES, "policy-pack-config", "policy-pack-config.json"), "utf8")) as Json;
        const role = JSON.parse(readFileSync(jsonFiles(join(FIXTURES, "trust-policies", "bad"))[0]!, "utf8")) as unknown;
        const provider = stackResources().find((r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
        assert.ok(provider, "no OIDC provider in the stack exports");
        let refused = 0;
        let ran = 0;
        for (let c = 0; c < 60; c++) {
            const config = mutate(structuredClone(original), random) as Record<string, unknown>;
            for (const policy of [roleTrustPinned, roleTrustAdvisories, providerConfig]) {
                const resource = policy === providerConfig ? { type: provider.type, props: provider.props } : { type: "aws:iam/role:Role", props: { assumeRolePolicy: JSON.stringify(role) } };
                let run: PolicyRun;
                try {
                    run = await runResourcePolicy(policy, { ...resource, config });
                } catch (e) {
                    // The engine checks the configuration against the policy's schema before the pack sees it; the
                    // pack refuses what the schema lets through (an unknown setting, a bad pattern), naming it.
                    if (e instanceof PolicyPackError) {
                        assertDisplayable(`${policy.name}, configuration case ${c}`, { violations: [], previewDiagnostic: null, notApplicable: e.message });
                    } else assert.ok(e instanceof PolicyConfigError, `${policy.name}, case ${c}: ${String(e)}`);
                    refused++;
                    continue;
                }
                assertDisplayable(`${policy.name}, configuration case ${c}`, run);
                ran++;
            }
        }
        assert.ok(refused > 0 && ran > 0, `${refused} refused, ${ran} ran`);
    });
});
