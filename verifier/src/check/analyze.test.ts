import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { analysisFromTemplate, analyzeTrustPolicy } from "oidc-guard-policypack/analysis";
import { createChecker, DISTINCT_RUN, DISTINCT_SAMPLE, prefixPath, runCheck, worse } from "./analyze.js";
import { canonical } from "./canonical-json.js";
import type { ExtractedInput } from "./inputs.js";

const PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";

function policy(sub: string | null, aud = "aws:acme"): string {
    const condition: Record<string, string> = { "api.pulumi.com/oidc:aud": aud };
    if (sub !== null) condition["api.pulumi.com/oidc:sub"] = sub;
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: PROVIDER_ARN },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: condition },
            },
        ],
    });
}

/** A stack export of a Pulumi OIDC provider that lists `aws:acme`, and a role for each text, named `<prefix><index>`. */
function stackOfRoles(file: string, texts: readonly string[], prefix: string): string {
    const resources: unknown[] = [
        {
            urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
            type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
            outputs: { arn: PROVIDER_ARN },
        },
        ...texts.map((t, i) => ({ urn: `urn:pulumi:s::p::aws:iam/role:Role::${prefix}${i}`, type: "aws:iam/role:Role", outputs: { assumeRolePolicy: t } })),
    ];
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
    return path;
}

let dir: string;
before(() => {
    dir = mkdtempSync(join(tmpdir(), "oidc-guard-analyze-"));
});
after(() => {
    rmSync(dir, { recursive: true, force: true });
});

describe("runCheck", () => {
    it("analyses each distinct trust policy once and gives every role its own result", () => {
        const texts = [policy("pulumi:environments:org:acme:env:a/prod"), policy(null), policy(null, "acme")];
        const resources: unknown[] = [
            {
                urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
                type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                outputs: { arn: PROVIDER_ARN },
            },
        ];
        for (let i = 0; i < 60; i++) {
            resources.push({
                urn: `urn:pulumi:s::p::aws:iam/role:Role::r${i}`,
                type: "aws:iam/role:Role",
                outputs: { assumeRolePolicy: texts[i % 3] },
            });
        }
        const path = join(dir, "stack.json");
        writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
        const run = runCheck([{ path, shown: "stack.json", explicit: true }], { organizations: ["acme"] });
        assert.equal(run.stats.analyses, 3);
        assert.equal(run.stats.roles, 60);
        assert.equal(run.results.length, 61);
        const verdicts = (i: number) => run.results.find((r) => r.target.resource?.name === `r${i}`)!;
        assert.equal(verdicts(0).verdict, "pass");
        assert.equal(verdicts(1).verdict, "fail");
        // Every role sharing the document with the unlisted audience `acme` gets the stack finding, with its own path.
        const audMismatch = run.results.filter((r) => r.findings.some((f) => f.ruleId === "oidc-provider-audiences-match"));
        assert.deepEqual(
            audMismatch.map((r) => r.target.resource?.name),
            Array.from({ length: 20 }, (_, k) => `r${k * 3 + 2}`),
        );
        for (const r of audMismatch) {
            const f = r.findings.find((x) => x.ruleId === "oidc-provider-audiences-match")!;
            assert.ok(f.path.startsWith("assumeRolePolicy.Statement[0]"), f.path);
            assert.equal(r.verdict, "fail");
        }
        // Findings are copies: editing one result does not change another.
        verdicts(1).findings[0]!.message = "changed";
        assert.notEqual(verdicts(4).findings[0]!.message, "changed");
    });

    it("keeps each file's text for the located reports, and says which texts JSON.parse accepted as they are", () => {
        const files = {
            "policy.json": policy(null),
            "bom.json": `\ufeff${policy(null)}`,
            "template.yaml": `AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: ${policy(null)}\n`,
            "broken.json": `${policy(null)},`,
        };
        for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
        const inputs = Object.keys(files).map((name) => ({ path: join(dir, name), shown: name, explicit: true }));
        const run = runCheck(inputs, { organizations: ["acme"] });
        assert.deepEqual([...run.sources.keys()], Object.keys(files));
        // The reports parse the others again to locate findings in them (a byte order mark, YAML, or not JSON at all).
        assert.deepEqual([...run.validJson], ["policy.json"]);
        assert.equal(runCheck(inputs, { organizations: ["acme"] }, { keepSources: false }).validJson.size, 0);
    });

    it("gives roles made from one template each the analysis of its own text (read back from the template)", () => {
        const texts = Array.from({ length: 40 }, (_, i) =>
            i % 2 === 0 ? policy(`pulumi:environments:org:acme:env:team-${i}/svc`) : policy(null, `acme-${i}`),
        );
        // A role of the same template whose environment is a grammar word, and one whose name is the engine's
        // unknown sentinel: neither may take the template's answer.
        texts.push(policy("pulumi:environments:org:acme:env:prod/svc"), policy("pulumi:environments:org:acme:env:04da6b54-80e4-46f7-96ec-b56ff0331ba9/svc"));
        const resources = texts.map((t, i) => ({ urn: `urn:pulumi:s::p::aws:iam/role:Role::t${i}`, type: "aws:iam/role:Role", outputs: { assumeRolePolicy: t } }));
        const path = join(dir, "templated.json");
        writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
        const options = { organizations: ["acme"] };
        const run = runCheck([{ path, shown: "templated.json", explicit: true }], options);
        assert.equal(run.results.length, texts.length);
        // The sentinel's role is unknown where the text holds it (the analysis of the parsed value says where inside).
        texts.slice(0, -1).forEach((t, i) => {
            const result = run.results.find((r) => r.target.resource?.name === `t${i}`)!;
            const alone = analyzeTrustPolicy(JSON.parse(t) as unknown, options);
            assert.equal(result.verdict, alone.verdict, `t${i}`);
            assert.deepEqual(
                result.findings.map((f) => f.message),
                alone.findings.map((f) => f.message),
                `t${i}`,
            );
        });
        assert.equal(run.results.at(-1)!.verdict, "unknown");
        // The roles after the first two of each form were read from their template.
        assert.ok(analysisFromTemplate(texts[10]!, options) !== undefined && analysisFromTemplate(texts[11]!, options) !== undefined);
        assert.match(JSON.stringify(run.results.find((r) => r.target.resource?.name === "t7")), /acme-7/);
        assert.doesNotMatch(JSON.stringify(run.results), /zqzq|acme-7\b[^"]*acme-9/);
    });

    it("keeps a stack finding for a document seen again after thousands of others, and a template text's analysis from its second sighting", () => {
        // 2,100 distinct documents of one shape, each admitting an audience the provider does not list; then the first
        // and the sixth again (the sixth twice). The audience check's findings are kept with the analysis. Past the
        // first DISTINCT_RUN new texts, only a sample of texts is looked up in the caches, and these two are out of it:
        // each of the three repeats is read from its template again, with the same findings.
        const distinct = 2100;
        const texts = Array.from({ length: distinct }, (_, i) => policy(null, `acme-${i}`));
        texts.push(texts[0]!, texts[5]!, texts[5]!);
        const path = stackOfRoles("many.json", texts, "m");
        // Options of its own: templates are kept per set of options, and the tests above learned this shape's.
        const run = runCheck([{ path, shown: "many.json", explicit: true }], { organizations: ["acme", "many-test"] });
        assert.ok(distinct > DISTINCT_RUN + 2 && texts[0]!.length % DISTINCT_SAMPLE !== 0 && texts[5]!.length % DISTINCT_SAMPLE !== 0);
        assert.equal(run.stats.analyses, distinct + 3);
        const roles = run.results.filter((r) => r.target.resource !== undefined && r.target.resource.type === "aws:iam/role:Role");
        assert.equal(roles.length, texts.length);
        roles.forEach((r, i) => {
            const own = r.findings.filter((f) => f.ruleId === "oidc-provider-audiences-match");
            assert.equal(own.length, 1, `m${i}`);
            assert.equal(own[0]!.path, "assumeRolePolicy.Statement[0].Principal.Federated", `m${i}`);
            assert.match(own[0]!.message, new RegExp(`'acme-${i >= distinct ? [0, 5, 5][i - distinct] : i}'`), `m${i}`);
            assert.equal(r.verdict, "fail", `m${i}`);
        });
    });

    it("asks the text caches about a sample of texts only after a long run of new ones, and a repeat in the sample ends the run", () => {
        // One shape, each text new, padded so that the texts' lengths take every value modulo the sample.
        const n = DISTINCT_RUN + 200;
        const texts = Array.from({ length: n }, (_, i) => policy(null, `acme${"x".repeat(i % DISTINCT_SAMPLE)}-${i}`));
        const late = texts.slice(n - 100);
        // Two texts met after the run began: one out of the sample (so never remembered), one in it (remembered).
        const out = late.find((t) => t.length % DISTINCT_SAMPLE !== 0)!;
        const inSample = late.find((t) => t.length % DISTINCT_SAMPLE === 0)!;
        const sequence = [...texts, out, out, inSample, out, out, out];
        const path = stackOfRoles("distinct.json", sequence, "d");
        const options = { organizations: ["acme", "distinct-test"] };
        const run = runCheck([{ path, shown: "distinct.json", explicit: true }], options);
        // Every new text once. Then, in the run: `out` read again twice; `inSample` found seen before, kept, and the run
        // ends; `out` is then new to the caches (seen, then kept), and found the last time.
        assert.equal(run.stats.analyses, n + 5);
        // Whether looked up or read again, each role's result is its own text's, as one checked alone gives it.
        const roles = run.results.filter((r) => r.target.resource?.type === "aws:iam/role:Role");
        assert.equal(roles.length, sequence.length);
        const alone = (text: string) => {
            const single = stackOfRoles("single.json", [text], "one");
            const r = runCheck([{ path: single, shown: "single.json", explicit: true }], options).results[0]!;
            return { verdict: r.verdict, findings: r.findings.map((f) => [f.ruleId, f.message, f.path]) };
        };
        for (const i of [0, 1, n - 1, n, n + 1, n + 2, n + 3, n + 5]) {
            const r = roles[i]!;
            assert.deepEqual({ verdict: r.verdict, findings: r.findings.map((f) => [f.ruleId, f.message, f.path]) }, alone(sequence[i]!), `d${i}`);
        }
    });

    it("gives a stack finding to the role it is about when two roles share a URN", () => {
        // An export can hold a resource twice under one URN (a replacement pending deletion keeps it). The finding
        // used to be looked up by URN, so it went to whichever result came last.
        const urn = "urn:pulumi:s::p::aws:iam/role:Role::twin";
        const resources: unknown[] = [
            {
                urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
                type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                outputs: { arn: PROVIDER_ARN },
            },
            // Deployments' audience `acme`, which the provider does not list; then ESC's `aws:acme`, which it does.
            { urn, type: "aws:iam/role:Role", outputs: { assumeRolePolicy: policy(null, "acme") } },
            { urn, type: "aws:iam/role:Role", outputs: { assumeRolePolicy: policy(null) } },
        ];
        const path = join(dir, "twins.json");
        writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
        const run = runCheck([{ path, shown: "twins.json", explicit: true }], { organizations: ["acme"] });
        const roles = run.results.filter((r) => r.target.resource?.urn === urn);
        assert.equal(roles.length, 2);
        const mismatch = (i: number) => roles[i]!.findings.filter((f) => f.ruleId === "oidc-provider-audiences-match").length;
        assert.deepEqual([mismatch(0), mismatch(1)], [1, 0]);
    });

    it("checks the audiences of a policy text the analysis reads, a text with a byte order mark too", () => {
        // The audience check reads the document the analysis read (the text's parsed value). It used to parse the
        // text again with JSON.parse, which refuses a leading BOM, so such a role lost its audience check.
        const resources: unknown[] = [
            {
                urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
                type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                outputs: { arn: PROVIDER_ARN },
            },
            { urn: "urn:pulumi:s::p::aws:iam/role:Role::plain", type: "aws:iam/role:Role", outputs: { assumeRolePolicy: policy(null, "acme") } },
            { urn: "urn:pulumi:s::p::aws:iam/role:Role::bom", type: "aws:iam/role:Role", outputs: { assumeRolePolicy: `\ufeff${policy(null, "acme")}` } },
        ];
        const path = join(dir, "bom-stack.json");
        writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
        const run = runCheck([{ path, shown: "bom-stack.json", explicit: true }], { organizations: ["acme"] });
        for (const name of ["plain", "bom"]) {
            const r = run.results.find((x) => x.target.resource?.name === name)!;
            assert.deepEqual(
                r.findings.filter((f) => f.ruleId === "oidc-provider-audiences-match").map((f) => f.path),
                ["assumeRolePolicy.Statement[0].Principal.Federated"],
                name,
            );
        }
    });
});

describe("runCheck over Pulumi previews and stack exports that are easy to misread", () => {
    const ROOT = join(__dirname, "..", "..", "..");
    const OPTIONS = { organizations: ["acme"] };
    const check = (name: string, doc: unknown) => {
        const path = join(dir, name);
        writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
        return runCheck([{ path, shown: name, explicit: true }], OPTIONS).results;
    };
    const fixture = (file: string) => runCheck([{ path: join(ROOT, file), shown: file, explicit: true }], OPTIONS).results;
    const provider = (clientIdLists: unknown) => ({
        urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
        type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        inputs: { url: "https://api.pulumi.com/oidc", clientIdLists },
        outputs: { arn: PROVIDER_ARN, url: "api.pulumi.com/oidc", clientIdLists },
    });
    const pinned = policy("pulumi:environments:org:acme:env:infra/prod");

    it("a preview run with --refresh: the role the update would deploy decides, not the one refreshed before it", () => {
        const results = fixture("fixtures/preview-cases/refresh-aud-only.preview.json");
        assert.deepEqual(results.map((r) => [r.target.resource?.name, r.verdict]), [["esc-role", "fail"]]);
        assert.ok(results[0]!.findings.some((f) => f.ruleId === "oidc-trust-sub-pinned"));
    });

    it("a failed preview is an error of its own, naming the diagnostic; the roles it lists are still checked", () => {
        const failed = fixture("fixtures/preview-cases/failed-program.preview.json");
        assert.deepEqual(failed.map((r) => [r.target, r.verdict]), [[{ file: "fixtures/preview-cases/failed-program.preview.json" }, "error"]]);
        assert.match(failed[0]!.findings[0]!.message, /^fixtures\/preview-cases\/failed-program\.preview\.json is the output of a pulumi preview that failed: .*"Error: resource, variable, or config value \\"missing\\" not found"/);
        const urn = "urn:pulumi:s::p::aws:iam/role:Role::r";
        const results = check("failed-late.preview.json", {
            steps: [{ op: "create", urn, newState: { urn, type: "aws:iam/role:Role", inputs: { assumeRolePolicy: pinned } } }],
            diagnostics: [{ urn, severity: "error", message: "error: aws:iam/role:Role resource 'x' has a problem: boom\n" }],
            changeSummary: { create: 1 },
        });
        assert.deepEqual(results.map((r) => [r.target.resource?.name, r.verdict]), [[undefined, "error"], ["r", "pass"]]);
    });

    it("a role of a pending operation is checked, with a note: a stack whose only role is being created does not pass", () => {
        const urn = "urn:pulumi:s::p::aws:iam/role:Role::esc-new";
        const results = check("pending.stack.json", {
            version: 3,
            deployment: {
                resources: [{ urn: "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", type: "pulumi:pulumi:Stack" }],
                pending_operations: [{ resource: { urn, type: "aws:iam/role:Role", inputs: { assumeRolePolicy: policy(null) } }, type: "creating" }],
            },
        });
        assert.deepEqual(results.map((r) => [r.target.resource?.name, r.verdict]), [["esc-new", "fail"]]);
        assert.match(results[0]!.notes?.[0] ?? "", /^from a pending operation \(creating\) of an interrupted update/);
    });

    it("a role whose provider's client IDs cannot be read gets an advisory note, in a stack export as in a preview", () => {
        const role = { urn: "urn:pulumi:s::p::aws:iam/role:Role::r", type: "aws:iam/role:Role", outputs: { assumeRolePolicy: pinned } };
        const ciphertext = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:x" };
        const exported = check("secret-ids.stack.json", { version: 3, deployment: { resources: [role, provider(ciphertext)] } });
        const stateOf = (urn: string, inputs: unknown) => ({ urn, type: urn.split("::")[2], inputs });
        const previewed = check("secret-ids.preview.json", {
            steps: [
                { op: "create", urn: role.urn, newState: stateOf(role.urn, { assumeRolePolicy: pinned }) },
                { op: "create", urn: provider(0).urn, newState: stateOf(provider(0).urn, { url: "https://api.pulumi.com/oidc", clientIdLists: "[secret]" }) },
            ],
        });
        for (const [results, why] of [[exported, "are stored as an encrypted secret \\(ciphertext\\)"], [previewed, 'are a secret, which `pulumi preview --json` prints as "\\[secret\\]"']] as const) {
            assert.deepEqual(results.map((r) => r.verdict), ["pass", "unknown"]);
            assert.match(
                results[0]!.notes?.join("\n") ?? "",
                new RegExp(`^advisory \\(oidc-trust-unreadable\\): The client IDs of provider ${provider(0).urn.replace(/[/:$]/g, ".")} ${why}, so the role's audiences cannot be checked against them\\.$`, "m"),
            );
        }
        // A display-form unknown in the client IDs is an unknown, as the engine's own is.
        const unknownIds = check("unknown-ids.stack.json", { version: 3, deployment: { resources: [role, provider(["[unknown]"])] } });
        assert.match(unknownIds[0]!.notes?.join("\n") ?? "", /advisory \(oidc-trust-unknown-at-preview\): The client IDs of provider .* are unknown during preview/);
        assert.ok(!unknownIds[0]!.findings.some((f) => f.ruleId === "oidc-provider-audiences-match"));
    });
});

describe("helpers", () => {
    it("prefixPath joins property and path", () => {
        assert.equal(prefixPath("assumeRolePolicy", "Statement[0]"), "assumeRolePolicy.Statement[0]");
        assert.equal(prefixPath("assumeRolePolicy", ""), "assumeRolePolicy");
        assert.equal(prefixPath("x", "[1]"), "x[1]");
        assert.equal(prefixPath("", "Statement"), "Statement");
    });

    it("worse ranks error > fail > unknown > pass", () => {
        assert.equal(worse("pass", "unknown"), "unknown");
        assert.equal(worse("unknown", "fail"), "fail");
        assert.equal(worse("fail", "unknown"), "fail");
        assert.equal(worse("error", "fail"), "error");
    });
});

describe("canonical", () => {
    it("sorts keys at every level and walks 100,000 levels without recursion", () => {
        assert.equal(canonical({ b: [1, { z: null, a: "x" }, []], a: {}, c: 'q"' }), '{"a":{},"b":[1,{"a":"x","z":null},[]],"c":"q\\""}');
        let deep: unknown = 1;
        for (let i = 0; i < 100_000; i++) deep = [deep];
        assert.equal(canonical(deep), `${"[".repeat(100_000)}1${"]".repeat(100_000)}`);
    });
});

describe("createChecker", () => {
    it("gives the same results for an input checked twice: each check of it starts from its providers again", () => {
        const checker = createChecker({ organizations: ["acme"] });
        const input: ExtractedInput = {
            kind: "stack-export",
            roles: [
                {
                    target: { file: "s.json", resource: { urn: "urn:pulumi:s::p::aws:iam/role:Role::r", type: "aws:iam/role:Role", name: "r" } },
                    trustPolicy: policy(null, "aws:other"),
                    property: "assumeRolePolicy",
                },
            ],
            providers: [
                {
                    target: {
                        file: "s.json",
                        resource: { urn: "urn:pulumi:s::p::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc", type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider", name: "oidc" },
                    },
                    url: "https://api.pulumi.com/oidc",
                    clientIds: ["aws:acme"],
                    arn: PROVIDER_ARN,
                },
            ],
            stackScoped: true,
            entries: 2,
            notes: ["a note of the input"],
        };
        const first = checker.checkInput(input, "s.json");
        const second = checker.checkInput(input, "s.json");
        assert.deepEqual(second, first);
        // The input's note once per result, the provider's result included, however often the input is checked.
        for (const r of second) assert.equal(r.notes?.filter((n) => n === "a note of the input").length, 1, JSON.stringify(r.notes));
        assert.ok(second[0]!.findings.some((f) => f.ruleId === "oidc-provider-audiences-match"));
    });
});
