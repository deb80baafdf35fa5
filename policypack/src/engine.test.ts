/**
 * Engine-protocol tests: the COMPILED pack (bin/, built by `npm test` or `npx tsc -p policypack/tsconfig.json`) is
 * started as the Pulumi CLI starts it and driven over gRPC as the engine drives it. One pack process per describe.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { UNKNOWN_SENTINELS } from "./analysis/index.js";
import { decodeAnalyzeResponse, DEFAULT_PACK_DIR, startAnalyzer, type AnalyzerClient, type AnalyzerDiagnostic } from "./testing/analyzer-client.js";
import { PolicyConfigError } from "./testing/policy-config.js";
import { AUD_ONLY, PINNED, PROVIDER_TYPE, providerOutputs, PULUMI_PROVIDER_ARN, ROLE_TYPE, roleOutputs } from "./testing/stack-resources.js";

const UNKNOWN = UNKNOWN_SENTINELS[0]!;
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const CONFIG_DIR = join(DEFAULT_PACK_DIR, "..", "fixtures", "policy-pack-config");
const VERSION = (JSON.parse(readFileSync(join(DEFAULT_PACK_DIR, "package.json"), "utf8")) as { version: string }).version;
const NAMES = [
    "pulumi-oidc-role-trust-pinned",
    "pulumi-oidc-role-trust-advisories",
    "pulumi-oidc-provider-config",
    "pulumi-oidc-role-provider-audiences",
    "pulumi-oidc-role-provider-outside-stack",
];

function readConfig(file: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(CONFIG_DIR, file), "utf8")) as Record<string, unknown>;
}

/** The engine runs bin/; testing a bin/ older than the sources would test the wrong code. */
function assertBuilt(): void {
    const bin = join(DEFAULT_PACK_DIR, "bin", "index.js");
    let built: number;
    try {
        built = statSync(bin).mtimeMs;
    } catch {
        throw new Error(`${bin} is missing: build the pack first (npx tsc -p policypack/tsconfig.json, or npm test)`);
    }
    const src = join(DEFAULT_PACK_DIR, "src");
    const newer: string[] = [];
    const walk = (dir: string): void => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
            const p = join(dir, e.name);
            if (e.isDirectory()) {
                if (e.name !== "testing") walk(p);
            } else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && statSync(p).mtimeMs > built) {
                newer.push(p);
            }
        }
    };
    walk(src);
    if (newer.length > 0) {
        throw new Error(`bin/ is older than ${newer.join(", ")}: rebuild the pack (npx tsc -p policypack/tsconfig.json)`);
    }
}

function role(policy: unknown, name = "esc-role", type = ROLE_TYPE) {
    const property = type === ROLE_TYPE ? "assumeRolePolicy" : "assumeRolePolicyDocument";
    return { type, name, properties: { [property]: policy } };
}

function brief(ds: AnalyzerDiagnostic[]) {
    return ds.map((d) => ({ policyName: d.policyName, enforcementLevel: d.enforcementLevel }));
}

// The four packs run side by side (startup dominates the run time); the tests of each run in order.
describe("engine protocol", { concurrency: true }, () => {
    describe("engine protocol: analyzer info and configuration", { concurrency: 1 }, () => {
        let pack: AnalyzerClient;
        before(async () => {
            assertBuilt();
            pack = await startAnalyzer();
        });
        after(() => pack?.close());

        it("GetAnalyzerInfo names the pack and its policies, with metadata and config schemas", async () => {
            const info = await pack.getAnalyzerInfo();
            assert.equal(info.name, "pulumi-oidc-guard");
            assert.equal(info.version, VERSION);
            assert.equal(info.supportsconfig, true);
            assert.deepEqual(info.policiesList.map((p) => p.name), NAMES);
            for (const p of info.policiesList) {
                assert.ok(p.displayname && p.description && p.remediationSteps && p.url, p.name);
                assert.ok(p.tagsList.length > 0, p.name);
                const schema = p.configschema?.properties?.fieldsMap.map(([k]) => k).sort();
                assert.deepEqual(schema, ["allowedSubjects", "audiences", "issuers", "organizations", "subjectScope", "timeBudgetMs"], p.name);
            }
            const byName = new Map(info.policiesList.map((p) => [p.name, p]));
            // Enums from analyzer.proto: MANDATORY 1, ADVISORY 0; POLICY_TYPE_RESOURCE 1, _STACK 2; severity CRITICAL 4.
            assert.equal(byName.get("pulumi-oidc-role-trust-pinned")?.enforcementlevel, 1);
            assert.equal(byName.get("pulumi-oidc-role-trust-pinned")?.severity, 4);
            assert.equal(byName.get("pulumi-oidc-role-trust-pinned")?.policyType, 1);
            assert.equal(byName.get("pulumi-oidc-role-provider-audiences")?.policyType, 2);
            assert.equal(byName.get("pulumi-oidc-role-provider-outside-stack")?.enforcementlevel, 0);
        });

        it("GetPluginInfo reports the policy SDK version", async () => {
            assert.match((await pack.getPluginInfo()).version, /^\d+\.\d+\.\d+/);
        });

        it("Configure applies the example config file: `all`, per-policy levels and properties", async () => {
            await pack.configure(readConfig("policy-pack-config.json"));
            // allowedSubjects of the example admit infra/* only: an otherwise pinned role for another project fails.
            const otherProject = JSON.stringify(PINNED).replace("env:infra/dev", "env:billing/dev");
            const ds = await pack.analyze(role(otherProject));
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" }]);
            assert.deepEqual(await pack.analyze(role(JSON.stringify(PINNED))), []);
            // `all: mandatory` raised the outside-stack report, and its own entry set it back to advisory.
            const stack = await pack.analyzeStack([{ ...role(JSON.stringify(PINNED)), properties: roleOutputs(PINNED) }]);
            assert.deepEqual(brief(stack), [{ policyName: "pulumi-oidc-role-provider-outside-stack", enforcementLevel: "advisory" }]);
        });

        it("Configure refuses the invalid config file with the engine's schema errors, and the pack keeps its config", async () => {
            await pack.configure({ all: "advisory", "pulumi-oidc-role-trust-pinned": { organizations: ["acme"] } });
            await assert.rejects(pack.configure(readConfig("invalid-policy-pack-config.json")), (e: unknown) => {
                assert.ok(e instanceof PolicyConfigError);
                assert.deepEqual(e.message.split("\n").sort(), [
                    `validating policy config: pulumi-oidc-guard ${VERSION}  pulumi-oidc-role-trust-pinned: audiences.0: Does not match pattern '^[^\\s*?]+$'`,
                    `validating policy config: pulumi-oidc-guard ${VERSION}  pulumi-oidc-role-trust-pinned: organizations: Invalid type. Expected: array, given: string`,
                ]);
                return true;
            });
            // Still the previous configuration (advisory, organizations ["acme"]): Configure was never sent.
            assert.deepEqual(brief(await pack.analyze(role(JSON.stringify(AUD_ONLY)))), [
                { policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "advisory" },
            ]);
        });

        it("Configure refuses an invalid enforcement level and an empty organization list", async () => {
            await assert.rejects(pack.configure({ all: "strict" }), /"strict" is not a valid enforcement level/);
            await assert.rejects(
                pack.configure({ "pulumi-oidc-provider-config": { organizations: [] } }),
                /pulumi-oidc-provider-config: organizations: Array must have at least 1 items/,
            );
        });

        it("a config key the schema allows but the pack does not know fails the operation with a clear error", async () => {
            await pack.configure({ "pulumi-oidc-role-trust-pinned": { organisations: ["acme"] } });
            await assert.rejects(
                pack.analyze(role(JSON.stringify(PINNED))),
                /unknown property 'organisations'; known: organizations, allowedSubjects, issuers, audiences, timeBudgetMs, subjectScope\./,
            );
            await pack.configure({});
        });
    });

    describe("engine protocol: Analyze during an update", { concurrency: 1 }, () => {
        let pack: AnalyzerClient;
        before(async () => {
            assertBuilt();
            pack = await startAnalyzer({ env: { PULUMI_ORGANIZATION: "acme" }, dryRun: false });
        });
        after(() => pack?.close());

        it("passes a pinned role given as a JSON string and as an object", async () => {
            assert.deepEqual(await pack.analyze(role(JSON.stringify(PINNED))), []);
            assert.deepEqual(await pack.analyze(role(PINNED)), []);
        });

        it("flags the aud-only role (the public example) as a mandatory violation with token and fix", async () => {
            for (const policy of [JSON.stringify(AUD_ONLY), AUD_ONLY]) {
                const ds = await pack.analyze(role(policy));
                assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" }]);
                const d = ds[0]!;
                assert.equal(d.policyPackName, "pulumi-oidc-guard");
                assert.equal(d.urn, "urn:pulumi:dev::oidc-guard-test::aws:iam/role:Role::esc-role");
                assert.equal(d.severity, "critical");
                assert.match(d.message, /\nassumeRolePolicy\.Statement\[0\]: .*api\.pulumi\.com\/oidc:sub/);
                assert.match(d.message, /aud "aws:acme", sub "pulumi:environments:org:acme:/);
                assert.match(d.message, /\nFix: /);
            }
        });

        it("uses the stack's organization (PULUMI_ORGANIZATION) when none is configured", async () => {
            const other = JSON.stringify(PINNED).replace(/acme/g, "other");
            const ds = await pack.analyze(role(other));
            assert.ok(ds.some((d) => /not an allowed audience/.test(d.message)));
        });

        it("unwraps secret-wrapped trust policies and still checks them", async () => {
            const ds = await pack.analyze(role({ [SECRET_SIG]: SECRET, value: JSON.stringify(AUD_ONLY) }));
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" }]);
            assert.doesNotMatch(ds[0]!.message, new RegExp(SECRET));
        });

        it("checks aws-native roles", async () => {
            const ds = await pack.analyze(role(AUD_ONLY, "native", "aws-native:iam:Role"));
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" }]);
            assert.match(ds[0]!.message, /assumeRolePolicyDocument\.Statement\[0\]/);
        });

        it("fails closed on a malformed trust policy", async () => {
            const ds = await pack.analyze(role("{not json"));
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" }]);
            assert.match(ds[0]!.message, /oidc-trust-document-valid/);
        });

        it("checks Pulumi OIDC providers and ignores others", async () => {
            const good = await pack.analyze({ type: PROVIDER_TYPE, name: "pulumi", properties: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] } });
            assert.deepEqual(good, []);
            const bad = await pack.analyze({
                type: PROVIDER_TYPE,
                name: "pulumi",
                properties: { url: "http://api.pulumi.com/oidc", clientIdLists: ["aws:acme", "aws:evil"] },
            });
            assert.deepEqual(brief(bad), [
                { policyName: "pulumi-oidc-provider-config", enforcementLevel: "mandatory" },
                { policyName: "pulumi-oidc-provider-config", enforcementLevel: "mandatory" },
            ]);
            const native = await pack.analyze({
                type: "aws-native:iam:OidcProvider",
                name: "pulumi",
                properties: { url: "https://api.pulumi.com/oidc", clientIdList: ["aws:evil"] },
            });
            assert.match(native[0]?.message ?? "", /clientIdList\[0\]: Client ID 'aws:evil'/);
            const github = await pack.analyze({
                type: PROVIDER_TYPE,
                name: "github",
                properties: { url: "https://token.actions.githubusercontent.com", clientIdLists: ["sts.amazonaws.com"] },
            });
            assert.deepEqual(github, []);
        });

        it("reports nothing for unrelated resources", async () => {
            assert.deepEqual(await pack.analyze({ type: "aws:s3/bucket:Bucket", name: "b", properties: { bucket: "b" } }), []);
        });

        it("answers the benchmark's undecoded call with the bytes of the same response", async () => {
            // The bench times analyzeBytes (the round trip as the engine sees it); it must be the same call.
            const r = role(JSON.stringify(AUD_ONLY));
            const bytes = await pack.analyzeBytes(r);
            const urn = "urn:pulumi:dev::oidc-guard-test::aws:iam/role:Role::esc-role";
            assert.deepEqual(decodeAnalyzeResponse(bytes, urn), await pack.analyze(r));
            assert.equal(decodeAnalyzeResponse(bytes, urn).length, 1);
            assert.equal((await pack.analyzeBytes({ type: "aws:s3/bucket:Bucket", name: "b", properties: {} })).length > 0, true);
        });
    });

    describe("engine protocol: preview", { concurrency: 1 }, () => {
        let pack: AnalyzerClient;
        before(async () => {
            assertBuilt();
            pack = await startAnalyzer({ dryRun: true });
            await pack.configure({ "pulumi-oidc-role-trust-pinned": { organizations: ["acme"] } });
        });
        after(() => pack?.close());

        const PREFIX = `can't run policy 'pulumi-oidc-role-trust-pinned' from policy pack 'pulumi-oidc-guard@v${VERSION}' during preview: `;

        it("a trust policy unknown at preview gets the advisory 'cannot be verified' diagnostic, never a silent pass", async () => {
            const ds = await pack.analyze(role(UNKNOWN));
            assert.deepEqual(ds.map((d) => [d.policyName, d.enforcementLevel, d.message]), [
                [
                    "pulumi-oidc-role-trust-pinned",
                    "advisory",
                    `${PREFIX}assumeRolePolicy cannot be verified during preview; enforced at update (unknown: assumeRolePolicy)`,
                ],
            ]);
        });

        it("names nested unknowns (a new provider's ARN) in object documents", async () => {
            const nested = JSON.parse(JSON.stringify(PINNED).replace(PULUMI_PROVIDER_ARN, UNKNOWN)) as unknown;
            const ds = await pack.analyze(role(nested));
            assert.deepEqual(ds.map((d) => [d.enforcementLevel, d.message]), [
                [
                    "advisory",
                    `${PREFIX}assumeRolePolicy cannot be verified during preview; enforced at update (unknown: assumeRolePolicy.Statement[0].Principal.Federated)`,
                ],
            ]);
        });

        it("known documents are still enforced at preview", async () => {
            assert.deepEqual(brief(await pack.analyze(role(JSON.stringify(AUD_ONLY)))), [
                { policyName: "pulumi-oidc-role-trust-pinned", enforcementLevel: "mandatory" },
            ]);
        });

        it("a provider whose url is unknown is reported, not assumed to be someone else's", async () => {
            const ds = await pack.analyze({ type: PROVIDER_TYPE, name: "p", properties: { url: UNKNOWN, clientIdLists: ["aws:acme"] } });
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-provider-config", enforcementLevel: "advisory" }]);
            assert.match(ds[0]!.message, /during preview: url cannot be verified during preview; enforced at update/);
        });
    });

    describe("engine protocol: AnalyzeStack and shutdown", { concurrency: 1 }, () => {
        let pack: AnalyzerClient;
        before(async () => {
            assertBuilt();
            pack = await startAnalyzer({ env: { PULUMI_ORGANIZATION: "acme" } });
        });
        after(() => pack?.close());

        const providerRes = (ids: string[]) => ({ type: PROVIDER_TYPE, name: "pulumi-oidc", properties: providerOutputs(ids) });
        const roleRes = (policy: unknown, name = "esc-role") => ({ type: ROLE_TYPE, name, properties: roleOutputs(policy, name) });

        it("a provider and a pinned role whose audience it lists: no diagnostics", async () => {
            assert.deepEqual(await pack.analyzeStack([providerRes(["aws:acme"]), roleRes(PINNED)]), []);
        });

        it("flags each role admitting an audience the provider does not list, against the role's URN", async () => {
            const ds = await pack.analyzeStack([providerRes(["acme"]), roleRes(PINNED), roleRes(PINNED, "second")]);
            assert.deepEqual(
                ds.map((d) => [d.policyName, d.enforcementLevel, d.urn]),
                [
                    ["pulumi-oidc-role-provider-audiences", "mandatory", "urn:pulumi:dev::oidc-guard-test::aws:iam/role:Role::esc-role"],
                    ["pulumi-oidc-role-provider-audiences", "mandatory", "urn:pulumi:dev::oidc-guard-test::aws:iam/role:Role::second"],
                ],
            );
            assert.match(ds[0]!.message, /admits aud 'aws:acme'/);
        });

        it("reports a role whose provider lives outside the stack as advisory", async () => {
            const ds = await pack.analyzeStack([roleRes(PINNED)]);
            assert.deepEqual(brief(ds), [{ policyName: "pulumi-oidc-role-provider-outside-stack", enforcementLevel: "advisory" }]);
            assert.ok(ds[0]!.message.includes(PULUMI_PROVIDER_ARN));
        });

        it("close() ends the pack process: its port stops accepting connections", async () => {
            const { port } = pack;
            await pack.close();
            const refused = await new Promise<boolean>((resolve) => {
                const socket = connect(port, "127.0.0.1");
                socket.once("connect", () => {
                    socket.destroy();
                    resolve(false);
                });
                socket.once("error", () => resolve(true));
            });
            assert.equal(refused, true);
        });
    });
});
