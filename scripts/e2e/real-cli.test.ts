/**
 * The policy pack under the real Pulumi CLI, end to end and offline: `pulumi preview/up/destroy --policy-pack
 * policypack` on the fixture programs, with the stand-in AWS provider in a private PULUMI_HOME and a local file
 * backend; policy events read from the streaming JSON event log. The CLI comes from scripts/build-pulumi-cli.sh
 * (or $OIDC_GUARD_PULUMI_BIN). Scenarios and exit codes: docs/real-cli.md.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe as suite, it } from "node:test";
import {
    PACK_DIR,
    PulumiWorld,
    REPO,
    describe,
    locateCli,
    policyEvents,
    type CliLocation,
    type CliResult,
    type PolicyEvent,
    type Stack,
} from "./pulumi-cli.js";

const TRUST_PINNED = "pulumi-oidc-role-trust-pinned";
const VALID_CONFIG = join(REPO, "fixtures", "policy-pack-config", "policy-pack-config.json");
const INVALID_CONFIG = join(REPO, "fixtures", "policy-pack-config", "invalid-policy-pack-config.json");
const PACK = ["--policy-pack", PACK_DIR];
const ROLE_TYPE = "aws:iam/role:Role";
const PROVIDER_TYPE = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";

let location: CliLocation | { error: string };
try {
    location = locateCli();
} catch (e) {
    location = { error: e instanceof Error ? e.message : String(e) };
}
const skip = "skip" in location ? location.skip : false;

function mandatory(r: CliResult): PolicyEvent[] {
    return policyEvents(r).filter((e) => e.enforcementLevel === "mandatory");
}

function isRole(urn: string | undefined): boolean {
    return urn?.includes(`::${ROLE_TYPE}::`) ?? false;
}

/** Runs `oidc-guard check` (the built CLI) on a file; returns the exit code and the JSON report. */
function oidcGuardCheck(file: string, flags: string[] = []): { code: number | null; report: CheckJson; stderr: string } {
    const r = spawnSync(process.execPath, [join(REPO, "verifier", "oidc-guard.js"), "check", file, "--format", "json", ...flags], {
        encoding: "utf8",
        timeout: 60_000,
    });
    return { code: r.status, report: JSON.parse(r.stdout) as CheckJson, stderr: r.stderr };
}

interface CheckJson {
    results: { target: { resource?: { name: string; type: string } }; verdict: string; findings: { ruleId: string; message: string }[] }[];
}

function verdicts(report: CheckJson): Record<string, string> {
    return Object.fromEntries(report.results.map((r) => [r.target.resource?.name ?? "?", r.verdict]));
}

if ("error" in location) {
    const why = location.error;
    it("the real Pulumi CLI is available (scripts/build-pulumi-cli.sh)", () => {
        assert.fail(`the real Pulumi CLI is not available: ${why}`);
    });
}

suite("the policy pack under the real Pulumi CLI", { skip: "error" in location ? "the CLI is not available" : skip }, () => {
    let world: PulumiWorld;
    const reference = { organization: "acme", escEnvironments: '["infra/prod"]', permissions: "none" };

    before(async () => {
        if ("bin" in location) world = await PulumiWorld.create(location.bin);
    });
    after(() => world?.dispose());

    async function originalExample(): Promise<Stack> {
        return world.stack("original-example", { escProject: "infra", escEnvironmentName: "prod" });
    }

    it("preview of the original example: only the advisory 'cannot be verified during preview' while its provider is new (exit 0)", async () => {
        const stack = await originalExample();
        const r = await stack.preview(PACK);
        assert.equal(r.code, 0, describe(r));
        const onRole = policyEvents(r).filter((e) => e.policyName === TRUST_PINNED && isRole(e.resourceUrn));
        assert.equal(onRole.length, 1, describe(r));
        assert.equal(onRole[0]!.enforcementLevel, "advisory");
        assert.match(onRole[0]!.message, /^can't run policy 'pulumi-oidc-role-trust-pinned' from policy pack 'pulumi-oidc-guard@v0\.1\.0' during preview: assumeRolePolicy cannot be verified during preview; enforced at update/);
        assert.deepEqual(mandatory(r), []);
        // `oidc-guard check` on the same preview's --json digest agrees: unknown, not pass.
        const digest = await stack.cli(["preview", "--json"]);
        assert.equal(digest.code, 0, describe(digest));
        const file = join(world.root, `${stack.name}.preview.json`);
        writeFileSync(file, digest.stdout);
        const check = oidcGuardCheck(file);
        assert.equal(check.code, 1, check.stderr);
        assert.equal(verdicts(check.report)["pulumi-cloud-admin"], "unknown");
    });

    it("preview once the provider exists: the mandatory violation with a token that gets in, exit 1; check agrees", async () => {
        const stack = await originalExample();
        const providerUrn = `urn:pulumi:${stack.name}::aws-ts-oidc-provider-pulumi-cloud::${PROVIDER_TYPE}::oidcProvider`;
        const target = await stack.up(["--target", providerUrn]);
        assert.equal(target.code, 0, describe(target));
        const r = await stack.preview(PACK);
        assert.equal(r.code, 1, describe(r));
        const violations = mandatory(r);
        assert.equal(violations.length, 1, describe(r));
        const v = violations[0]!;
        assert.equal(v.policyName, TRUST_PINNED);
        assert.ok(isRole(v.resourceUrn), v.resourceUrn);
        assert.match(v.message, /api\.pulumi\.com\/oidc:sub/);
        // The counterexample: a subject the role lets in although it is not pinned.
        assert.match(v.message, /Counterexample token: iss api\.pulumi\.com\/oidc, aud "aws:organization", sub "pulumi:environments:org:organization:env:[^"]+"/);
        const digest = await stack.cli(["preview", "--json"]);
        const file = join(world.root, `${stack.name}.preview.json`);
        writeFileSync(file, digest.stdout);
        const check = oidcGuardCheck(file);
        assert.equal(check.code, 1, check.stderr);
        assert.equal(verdicts(check.report)["pulumi-cloud-admin"], "fail");
        assert.ok(check.report.results.some((x) => x.findings.some((f) => f.ruleId === "oidc-trust-sub-pinned")));
    });

    it("up of the original example fails (exit 1) and the role is not in the stack's state", async () => {
        const stack = await originalExample();
        const r = await stack.up(PACK);
        assert.equal(r.code, 1, describe(r));
        assert.ok(mandatory(r).some((e) => e.policyName === TRUST_PINNED && isRole(e.resourceUrn)), describe(r));
        const state = await stack.export();
        const types = (state.json.deployment.resources ?? []).map((x) => x.type);
        assert.ok(!types.includes(ROLE_TYPE), `role in state: ${types.join(", ")}`);
        // What was created before the role stays: the deployment stopped at the role.
        assert.ok(types.includes(PROVIDER_TYPE), `provider not in state: ${types.join(", ")}`);
    });

    it("up of the reference program succeeds; a config change that widens sub is refused; destroy works", async () => {
        const stack = await world.stack("aws-oidc-reference", reference);
        const config = ["--policy-pack-config", VALID_CONFIG];
        const up = await stack.up([...PACK, ...config]);
        assert.equal(up.code, 0, describe(up));
        assert.deepEqual(mandatory(up), []);
        const before = await stack.export();
        const role = (state: typeof before) => state.json.deployment.resources?.find((x) => x.type === ROLE_TYPE);
        assert.ok(role(before), "role created");
        // Every environment of project payments: outside the configured allowedSubjects (infra/*).
        await stack.setConfig("escProjects", '["payments"]');
        const widened = await stack.up([...PACK, ...config]);
        assert.equal(widened.code, 1, describe(widened));
        const v = mandatory(widened).filter((e) => e.policyName === TRUST_PINNED);
        assert.equal(v.length, 1, describe(widened));
        assert.match(v[0]!.message, /payments/);
        const afterRefusal = await stack.export();
        assert.deepEqual(role(afterRefusal)?.outputs?.["assumeRolePolicy"], role(before)?.outputs?.["assumeRolePolicy"]);
        const destroy = await stack.destroy();
        assert.equal(destroy.code, 0, describe(destroy));
        assert.deepEqual((await stack.export()).json.deployment.resources ?? [], []);
    });

    it("--policy-pack-config is applied: without it the stack's organization rules and the acme provider is refused", async () => {
        // A file backend's organization is "organization"; the reference program is configured for acme.
        const stack = await world.stack("aws-oidc-reference", reference);
        const without = await stack.preview(PACK);
        assert.equal(without.code, 1, describe(without));
        const refused = mandatory(without);
        assert.deepEqual(refused.map((e) => e.policyName), ["pulumi-oidc-provider-config"], describe(without));
        assert.match(refused[0]!.message, /Client ID 'aws:acme' .* is not an allowed audience \(allowed: 'aws:organization', 'organization'\)/);
        const withConfig = await stack.preview([...PACK, "--policy-pack-config", VALID_CONFIG]);
        assert.equal(withConfig.code, 0, describe(withConfig));
        assert.deepEqual(mandatory(withConfig), []);
    });

    it("the same aud-only role in a Pulumi YAML program is caught at preview (exit 1): the pack works for any language", async () => {
        const stack = await world.stack("yaml-aud-only");
        const r = await stack.preview(PACK);
        assert.equal(r.code, 1, describe(r));
        const v = mandatory(r);
        assert.deepEqual(v.map((e) => [e.policyName, e.resourceUrn]), [[TRUST_PINNED, `urn:pulumi:${stack.name}::yaml-aud-only::${ROLE_TYPE}::pulumi-cloud-admin`]]);
        assert.match(v[0]!.message, /Counterexample token: iss api\.pulumi\.com\/oidc, aud "aws:organization", sub "pulumi:environments:org:organization:env:[^"]+"/);
    });

    it("a colour directive in the trust policy is shown as text: the CLI's colorizer neither panics nor drops it", async () => {
        const stack = await world.stack("yaml-color-directive");
        // The terminal display with colour, where the colorizer reads `<{%…%}>` (it panicked: exit 2, a Go stack trace).
        const coloured = await stack.cli(["preview", ...PACK, "--color", "always"]);
        assert.equal(coloured.code, 1, describe(coloured));
        assert.doesNotMatch(coloured.stdout + coloured.stderr, /panic|goroutine/, describe(coloured));
        assert.match(coloured.stdout, /unknown condition operator \\?"StringEquals<\{\\u0025evil\\u0025\}>\\?"/, describe(coloured));
        // Without colour the directive was dropped from the message, which then named a known operator.
        const plain = await stack.cli(["preview", ...PACK, "--color", "never"]);
        assert.equal(plain.code, 1, describe(plain));
        assert.match(plain.stdout, /StringEquals<\{\\u0025evil\\u0025\}>/, describe(plain));
        const events = await stack.preview(PACK);
        assert.match(mandatory(events)[0]?.message ?? "", /unknown condition operator "StringEquals<\{\\u0025evil\\u0025\}>"/, describe(events));
    });

    it("the real stack export (with and without --show-secrets) goes through oidc-guard check and agrees with the pack", async () => {
        // The original example deployed without the pack (as it was before the pack existed).
        const stack = await originalExample();
        const up = await stack.up();
        assert.equal(up.code, 0, describe(up));
        const pack = await stack.preview(PACK);
        assert.equal(pack.code, 1, describe(pack));
        assert.ok(mandatory(pack).some((e) => e.policyName === TRUST_PINNED && isRole(e.resourceUrn)), describe(pack));
        for (const showSecrets of [false, true]) {
            const state = await stack.export(showSecrets);
            const file = join(world.root, `${stack.name}${showSecrets ? ".show-secrets" : ""}.stack.json`);
            writeFileSync(file, state.text);
            const check = oidcGuardCheck(file);
            assert.equal(check.code, 1, check.stderr);
            assert.equal(verdicts(check.report)["pulumi-cloud-admin"], "fail");
            assert.equal(verdicts(check.report)["oidcProvider"], "pass");
        }
        // preview --json of this unchanged stack lists no step for the role (only changes): see the preview tests above.
    });

    it("the invalid config example is refused by the engine's own validation before any policy runs", async () => {
        const stack = await world.stack("aws-oidc-reference", reference);
        const r = await stack.preview([...PACK, "--policy-pack-config", INVALID_CONFIG]);
        assert.equal(r.code, 1, describe(r));
        assert.match(r.stderr + r.stdout, /validating policy config: pulumi-oidc-guard 0\.1\.0 {2}pulumi-oidc-role-trust-pinned: /);
        assert.match(r.stderr + r.stdout, /organizations: Invalid type\. Expected: array, given: string/);
        assert.deepEqual(policyEvents(r), []);
    });
});
