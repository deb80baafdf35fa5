import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PolicyConfigError } from "../testing/policy-config.js";
import { PACK_VERSION, runResourcePolicy, secret, UNKNOWN } from "../testing/policy-harness.js";
import { AUD_ONLY, PINNED, trustPolicy } from "../testing/stack-resources.js";
import { roleTrustPinned } from "./pulumi-oidc-role-trust-pinned.js";
import { CONTROL_CHARACTER } from "../analysis/index.js";

const ROLE = "aws:iam/role:Role";
const NATIVE_ROLE = "aws-native:iam:Role";
const acme = { "pulumi-oidc-role-trust-pinned": { organizations: ["acme"] } };
const doc = trustPolicy;
const pinned = PINNED;
// The shape of the public example and of `pulumi env setup aws`: aud only.
const audOnly = AUD_ONLY;
const subOnly = doc({ StringEquals: { "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/dev" } });

describe("pulumi-oidc-role-trust-pinned", () => {
    it("passes a role pinning aud and sub, as a JSON string and as an object", async () => {
        for (const assumeRolePolicy of [JSON.stringify(pinned), pinned]) {
            const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy }, config: acme });
            assert.deepEqual(r, { violations: [], notApplicable: null, previewDiagnostic: null });
        }
    });

    it("flags the aud-only trust policy with the statement, a token that gets in and the fix (mandatory)", async () => {
        const r = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: JSON.stringify(audOnly) },
            config: acme,
        });
        assert.equal(r.violations.length, 1);
        const v = r.violations[0]!;
        assert.equal(v.enforcementLevel, "mandatory");
        assert.match(v.message, /^assumeRolePolicy\.Statement\[0\]: /);
        assert.match(v.message, /api\.pulumi\.com\/oidc:sub/);
        assert.match(v.message, /aud "aws:acme", sub "pulumi:environments:org:acme:env:[^"]+"/);
        assert.match(v.message, /\nFix: Add `"StringEquals": \{"api\.pulumi\.com\/oidc:sub"/);
        assert.match(v.message, /\(oidc-trust-sub-pinned, severity high\)$/);
    });

    it("answers within the time budget: a policy too complex to decide is a violation, not a 12-second stall", async () => {
        const pat = (seed: string): string => Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "*?" : i % 3 === 1 ? "?*" : seed)).join("");
        const subs = Array.from({ length: 12 }, (_, i) => `pulumi:environments:org:acme:env:${pat(String.fromCharCode(97 + i))}`);
        const heavy = doc({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" }, StringLike: { "api.pulumi.com/oidc:sub": subs } });
        const r = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: heavy },
            config: { "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], timeBudgetMs: 50 } },
        });
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!.message, /too complex to decide within 50 ms/);
    });

    it("flags a missing aud pin (critical)", async () => {
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: subOnly }, config: acme });
        assert.deepEqual(
            r.violations.map((v) => /\((oidc-[a-z-]+), severity (\w+)\)$/.exec(v.message)?.slice(1)),
            [["oidc-trust-aud-pinned", "critical"]],
        );
    });

    it("checks aws-native roles' assumeRolePolicyDocument", async () => {
        const bad = await runResourcePolicy(roleTrustPinned, {
            type: NATIVE_ROLE,
            props: { assumeRolePolicyDocument: audOnly },
            config: acme,
        });
        assert.equal(bad.violations.length, 1);
        assert.match(bad.violations[0]!.message, /^assumeRolePolicyDocument\.Statement\[0\]/);
        const good = await runResourcePolicy(roleTrustPinned, {
            type: NATIVE_ROLE,
            props: { assumeRolePolicyDocument: pinned },
            config: acme,
        });
        assert.deepEqual(good.violations, []);
    });

    it("analyzes secret-wrapped trust policies (the SDK unwraps secrets)", async () => {
        const r = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: secret(JSON.stringify(audOnly)) },
            config: acme,
        });
        assert.equal(r.violations.length, 1);
        assert.match(r.violations[0]!.message, /oidc-trust-sub-pinned/);
    });

    it("at preview, a wholly unknown trust policy is reported as unverifiable, never passed", async () => {
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: UNKNOWN }, config: acme });
        assert.deepEqual(r.violations, []);
        assert.equal(r.notApplicable, null);
        assert.equal(
            r.previewDiagnostic,
            `can't run policy 'pulumi-oidc-role-trust-pinned' from policy pack 'pulumi-oidc-guard@v${PACK_VERSION}' during preview: assumeRolePolicy cannot be verified during preview; enforced at update (unknown: assumeRolePolicy)`,
        );
    });

    it("finds every nested unknown (a new provider's ARN, an unknown subject)", async () => {
        const nested = doc(
            { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": UNKNOWN } },
            UNKNOWN,
        );
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: nested }, config: acme });
        assert.deepEqual(r.violations, []);
        const listed = /enforced at update \(unknown: (.*)\)$/.exec(r.previewDiagnostic ?? "")?.[1]?.split(", ");
        assert.deepEqual(listed?.sort(), [
            'assumeRolePolicy.Statement[0].Condition.StringEquals["api.pulumi.com/oidc:sub"]',
            "assumeRolePolicy.Statement[0].Principal.Federated",
        ]);
    });

    it("passes a role no Pulumi token can use", async () => {
        const service = { Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: service } });
        assert.deepEqual(r.violations, []);
    });

    it("fails closed on a malformed or missing trust policy", async () => {
        const bad = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: "{not json" } });
        assert.equal(bad.violations.length, 1);
        assert.match(bad.violations[0]!.message, /^assumeRolePolicy: not valid JSON/);
        assert.match(bad.violations[0]!.message, /oidc-trust-document-valid/);
        // A grammar error inside the document: its path is said once, after the property's name.
        const emptyList = doc({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": [] } });
        const grammar = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: JSON.stringify(emptyList) } });
        assert.equal(grammar.violations.length, 1);
        assert.equal(
            grammar.violations[0]!.message.split("\n")[0],
            'assumeRolePolicy.Statement[0].Condition.StringEquals["api.pulumi.com/oidc:sub"]: condition StringEquals on "api.pulumi.com/oidc:sub" has an empty value list',
        );
        const missing = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: {} });
        assert.equal(missing.violations.length, 1);
        assert.match(missing.violations[0]!.message, /has no trust policy.*failing closed/);
    });

    it("is not applicable to other resource types", async () => {
        const r = await runResourcePolicy(roleTrustPinned, { type: "aws:s3/bucket:Bucket", props: { bucket: "x" } });
        assert.equal(r.notApplicable, "Policy only applies to resources of type 'aws:iam/role:Role' or 'aws-native:iam:Role'");
        assert.deepEqual(r.violations, []);
    });

    it("without configured organizations uses the stack's organization from the environment", async () => {
        const other = doc({
            StringEquals: {
                "api.pulumi.com/oidc:aud": "aws:other",
                "api.pulumi.com/oidc:sub": "pulumi:environments:org:other:env:infra/dev",
            },
        });
        const asAcme = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: other },
            env: { PULUMI_ORGANIZATION: "acme", PULUMI_NODEJS_ORGANIZATION: undefined },
        });
        assert.ok(asAcme.violations.some((v) => /aws:other.*not an allowed audience/.test(v.message)));
        const asOther = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: other },
            env: { PULUMI_ORGANIZATION: undefined, PULUMI_NODEJS_ORGANIZATION: "other" },
        });
        assert.deepEqual(asOther.violations, []);
        // Configured organizations win over the environment.
        const configured = await runResourcePolicy(roleTrustPinned, {
            type: ROLE,
            props: { assumeRolePolicy: other },
            config: acme,
            env: { PULUMI_ORGANIZATION: "other" },
        });
        assert.ok(configured.violations.length > 0);
    });

    it("honours allowedSubjects", async () => {
        const config = {
            "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:infra/prod"] },
        };
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: pinned }, config });
        assert.deepEqual(
            r.violations.map((v) => /\((oidc-[a-z-]+),/.exec(v.message)?.[1]),
            ["oidc-trust-sub-pinned"],
        );
    });

    it("takes its enforcement level from the config (`all`, then per policy)", async () => {
        const input = { type: ROLE, props: { assumeRolePolicy: audOnly } };
        const advisory = await runResourcePolicy(roleTrustPinned, { ...input, config: { all: "advisory" } });
        assert.equal(advisory.violations[0]?.enforcementLevel, "advisory");
        const back = await runResourcePolicy(roleTrustPinned, {
            ...input,
            config: { all: "advisory", "pulumi-oidc-role-trust-pinned": { enforcementLevel: "mandatory" } },
        });
        assert.equal(back.violations[0]?.enforcementLevel, "mandatory");
    });

    it("refuses configuration the schema forbids, and unknown keys the schema cannot", async () => {
        const input = { type: ROLE, props: { assumeRolePolicy: pinned } };
        await assert.rejects(
            runResourcePolicy(roleTrustPinned, { ...input, config: { "pulumi-oidc-role-trust-pinned": { organizations: ["acme*"] } } }),
            (e: unknown) =>
                e instanceof PolicyConfigError &&
                e.message ===
                    `validating policy config: pulumi-oidc-guard ${PACK_VERSION}  pulumi-oidc-role-trust-pinned: organizations.0: Does not match pattern '^[A-Za-z0-9][A-Za-z0-9._-]*$'`,
        );
        await assert.rejects(
            runResourcePolicy(roleTrustPinned, { ...input, config: { "pulumi-oidc-role-trust-pinned": { organisations: ["acme"] } } }),
            /policy pack config for 'pulumi-oidc-role-trust-pinned': unknown property 'organisations'; known: organizations, allowedSubjects, issuers, audiences, timeBudgetMs, subjectScope\./,
        );
    });
    it("shows values from the trust policy so that Pulumi's display prints them as text, never as colours or a crash", async () => {
        // The real CLI's colorizer panics on an unknown `<{%…%}>` directive (scripts/e2e/real-cli.test.ts shows it).
        const odd = "\u202e\u0007\u001b[31m<{%evil%}>\n  ::error::x";
        const bad = {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc${odd}` },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: { [`StringEquals${odd}`]: { "api.pulumi.com/oidc:aud": "aws:acme" } },
                },
            ],
        };
        const r = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: JSON.stringify(bad) }, config: acme });
        assert.equal(r.violations.length, 1);
        const message = r.violations[0]!.message;
        assert.match(message, /unknown condition operator "StringEquals\\u202e\\x07\\x1b\[31m<\{\\u0025evil\\u0025\}>\\n {2}::error::x"/);
        assert.ok(!message.includes("<{%") && !message.includes("%}>"), message);
        const raw = [...message].filter((c) => c !== "\n" && CONTROL_CHARACTER.test(c));
        assert.deepEqual(raw, [], "no control character but the pack's own line breaks");
        for (const line of message.split("\n")) assert.ok(!line.trimStart().startsWith("::"), line);

        // An unknown under such a key: the "can't run policy during preview" reason names its path, shown the same way.
        const unknown = await runResourcePolicy(roleTrustPinned, { type: ROLE, props: { assumeRolePolicy: { ...PINNED, [`x<{%k%}>${odd}`]: UNKNOWN } }, config: acme });
        assert.match(unknown.previewDiagnostic ?? "", /unknown: assumeRolePolicy\["x<\{\\u0025k\\u0025\}>\\u202e/);
        assert.ok(!(unknown.previewDiagnostic ?? "").includes("<{%"));
    });
});
