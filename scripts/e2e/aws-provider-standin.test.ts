/**
 * The stand-in AWS provider's own behaviour, without the CLI: what Check, Diff, Create and the policy document data
 * source return (the end-to-end tests exercise them through the engine).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ACCOUNT_ID, UNKNOWN, check, create, diff, invoke, renderPolicyDocument, schema } from "./aws-provider-standin.js";

const ROLE = "aws:iam/role:Role";
const PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider";
const URN = "urn:pulumi:dev::p::aws:iam/role:Role::admin";
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
const DOC = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRoleWithWebIdentity" }] };

describe("aws provider stand-in", () => {
    it("Check renders a policy object to JSON text, also inside a secret, and leaves strings and unknowns alone", () => {
        assert.equal(check(ROLE, URN, { name: "r", assumeRolePolicy: DOC }, {})["assumeRolePolicy"], JSON.stringify(DOC));
        assert.deepEqual(check(ROLE, URN, { name: "r", assumeRolePolicy: { ...SECRET, value: DOC } }, {})["assumeRolePolicy"], {
            ...SECRET,
            value: JSON.stringify(DOC),
        });
        assert.equal(check(ROLE, URN, { name: "r", assumeRolePolicy: "{}" }, {})["assumeRolePolicy"], "{}");
        assert.equal(check(ROLE, URN, { name: "r", assumeRolePolicy: UNKNOWN }, {})["assumeRolePolicy"], UNKNOWN);
    });

    it("Check auto-names a role once and keeps the name on later checks", () => {
        const first = check(ROLE, URN, { assumeRolePolicy: "{}" }, {})["name"];
        assert.ok(typeof first === "string" && /^admin-[0-9a-f]{7}$/.test(first), `name ${JSON.stringify(first)}`);
        assert.equal(check(ROLE, URN, { assumeRolePolicy: "{}" }, { name: first })["name"], first);
    });

    it("Diff lists changed inputs and which of them replace", () => {
        assert.deepEqual(diff(ROLE, { name: "a", description: "x" }, { name: "b", description: "y" }), {
            diffs: ["description", "name"],
            replaces: ["name"],
        });
        assert.deepEqual(diff(ROLE, { name: "a" }, { name: "a" }), { diffs: [], replaces: [] });
    });

    it("Create gives AWS-shaped ids and ARNs, unknown during preview", () => {
        const made = create(ROLE, URN, { name: "r", assumeRolePolicy: "{}" }, false);
        assert.equal(made.id, "r");
        assert.equal(made.outputs["arn"], `arn:aws:iam::${ACCOUNT_ID}:role/r`);
        assert.equal(create(ROLE, URN, { name: "r" }, true).outputs["arn"], UNKNOWN);
        const provider = create(PROVIDER, URN, { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] }, false);
        assert.equal(provider.id, `arn:aws:iam::${ACCOUNT_ID}:oidc-provider/api.pulumi.com/oidc`);
        assert.equal(provider.outputs["url"], "api.pulumi.com/oidc");
    });

    it("getPolicyDocument renders statements as the real data source does (single values unwrapped)", () => {
        const json = renderPolicyDocument({
            statements: [
                {
                    effect: "Allow",
                    actions: ["sts:AssumeRoleWithWebIdentity"],
                    principals: [{ type: "Federated", identifiers: ["arn:p"] }],
                    conditions: [{ test: "StringEquals", variable: "api.pulumi.com/oidc:aud", values: ["aws:acme", "acme"] }],
                },
            ],
        });
        assert.deepEqual(JSON.parse(json), {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Principal: { Federated: "arn:p" },
                    Condition: { StringEquals: { "api.pulumi.com/oidc:aud": ["aws:acme", "acme"] } },
                },
            ],
        });
        assert.equal(invoke("aws:iam/getPolicyDocument:getPolicyDocument", { statements: [] })["json"], renderPolicyDocument({ statements: [] }));
        assert.throws(() => invoke("aws:s3/getBucket:getBucket", {}), /does not implement aws:s3\/getBucket:getBucket/);
    });

    it("the schema names the four IAM resources for Pulumi YAML", () => {
        const s = JSON.parse(schema()) as { name: string; resources: Record<string, unknown> };
        assert.equal(s.name, "aws");
        assert.deepEqual(Object.keys(s.resources).sort(), [
            "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        ]);
    });
});
