import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeAwsPolicyDocument, extractInput, nameFromUrn } from "./inputs.js";

const POLICY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }] };

describe("extractInput", () => {
    it("detects a bare trust policy, as an object or as a JSON string", () => {
        const a = extractInput("p.json", POLICY);
        assert.equal(a.kind, "trust-policy");
        assert.deepEqual(a.roles, [{ target: { file: "p.json" }, trustPolicy: POLICY, property: "" }]);
        const text = JSON.stringify(POLICY);
        const b = extractInput("p.json", text);
        assert.equal(b.kind, "trust-policy");
        assert.equal(b.roles[0]!.trustPolicy, text);
        // A string holding broken object text is still a policy: the analysis says where it breaks.
        assert.equal(extractInput("p.json", '{"Version": "2012-10-17", "Statement": [').kind, "trust-policy");
        assert.equal(extractInput("p.json", { Version: "2012-10-17" }).kind, "trust-policy");
    });

    it("reads roles from stack export outputs first, providers' URL and client IDs from inputs", () => {
        const urn = (t: string, n: string): string => `urn:pulumi:prod::proj::${t}::${n}`;
        const doc = {
            version: 3,
            deployment: {
                resources: [
                    { urn: urn("pulumi:pulumi:Stack", "proj-prod"), type: "pulumi:pulumi:Stack", outputs: { x: 1 } },
                    {
                        urn: urn("aws:iam/role:Role", "r"),
                        type: "aws:iam/role:Role",
                        inputs: { assumeRolePolicy: "in" },
                        outputs: { assumeRolePolicy: "out" },
                    },
                    {
                        urn: urn("aws-native:iam:Role", "n"),
                        type: "aws-native:iam:Role",
                        inputs: { assumeRolePolicyDocument: POLICY },
                    },
                    {
                        urn: urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "p"),
                        type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                        inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                        outputs: { url: "api.pulumi.com/oidc", clientIdLists: ["aws:acme"], arn: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                    },
                    { urn: urn("aws:s3/bucket:Bucket", "b"), type: "aws:s3/bucket:Bucket", inputs: {} },
                ],
            },
        };
        const x = extractInput("s.json", doc);
        assert.equal(x.kind, "stack-export");
        assert.equal(x.stackScoped, true);
        assert.equal(x.entries, 5);
        assert.deepEqual(
            x.roles.map((r) => [r.target.resource?.name, r.target.resource?.type, r.trustPolicy, r.property]),
            [
                ["r", "aws:iam/role:Role", "out", "assumeRolePolicy"],
                ["n", "aws-native:iam:Role", POLICY, "assumeRolePolicyDocument"],
            ],
        );
        assert.deepEqual(x.providers.map((p) => [p.target.resource?.name, p.url, p.clientIds, p.arn]), [
            ["p", "https://api.pulumi.com/oidc", ["aws:acme"], "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"],
        ]);
    });

    it("reads a preview's newState inputs, skips deletes and counts a replaced resource once", () => {
        const urn = "urn:pulumi:dev::p::aws:iam/role:Role::r";
        const gone = "urn:pulumi:dev::p::aws:iam/role:Role::gone";
        const x = extractInput("pv.json", {
            steps: [
                { op: "create-replacement", urn, newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: "new" } } },
                { op: "replace", urn, newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: "new" } } },
                { op: "delete", urn: gone, oldState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: "old" } } },
            ],
            changeSummary: { replace: 1, delete: 1 },
        });
        assert.equal(x.kind, "preview");
        assert.deepEqual(x.roles.map((r) => [r.target.resource?.urn, r.trustPolicy]), [[urn, "new"]]);
    });

    it("reads AWS CLI outputs with ARN as urn and AWS::IAM::* types", () => {
        const role = { RoleName: "r1", Arn: "arn:aws:iam::123456789012:role/r1", AssumeRolePolicyDocument: POLICY };
        const g = extractInput("g.json", { Role: role });
        assert.equal(g.kind, "aws-get-role");
        assert.deepEqual(g.roles[0]!.target.resource, { urn: role.Arn, type: "AWS::IAM::Role", name: "r1" });
        assert.equal(extractInput("a.json", { RoleDetailList: [role, role], UserDetailList: [] }).roles.length, 2);
        assert.equal(extractInput("l.json", { Roles: [role] }).kind, "aws-list-roles");
        const p = extractInput("o.json", { Url: "api.pulumi.com/oidc", ClientIDList: ["aws:acme"], ThumbprintList: [] });
        assert.equal(p.kind, "aws-oidc-provider");
        assert.equal(p.providers[0]!.url, "https://api.pulumi.com/oidc");
    });

    it("says what it expected and what it found for anything else", () => {
        const x = extractInput("x.json", { foo: 1, bar: 2 });
        assert.equal(x.kind, "unrecognized");
        assert.match(x.problem ?? "", /expected an IAM trust policy .*`pulumi stack export`.*found an object with keys "foo", "bar"/);
        assert.match(extractInput("x.json", [POLICY.Statement[0]]).problem ?? "", /found an array of 1 element/);
        assert.match(extractInput("x.json", 42).problem ?? "", /found a number/);
        assert.equal(extractInput("x.json", "just text").kind, "unrecognized");
    });

    it("recognizes its own results", () => {
        assert.equal(extractInput("r.json", { tool: { name: "oidc-guard", version: "0.1.0" }, results: [], summary: {} }).kind, "check-result");
    });
});

describe("decodeAwsPolicyDocument", () => {
    it("decodes URL-encoded documents and leaves JSON and objects alone", () => {
        const text = JSON.stringify(POLICY);
        assert.equal(decodeAwsPolicyDocument(encodeURIComponent(text)), text);
        assert.equal(decodeAwsPolicyDocument(encodeURIComponent(text).replace(/%20/g, "+")), text);
        assert.equal(decodeAwsPolicyDocument(text), text);
        assert.equal(decodeAwsPolicyDocument(POLICY), POLICY);
        assert.equal(decodeAwsPolicyDocument("%E0%A4%A"), "%E0%A4%A");
    });
});

describe("nameFromUrn", () => {
    it("takes everything after the type", () => {
        assert.equal(nameFromUrn("urn:pulumi:s::p::aws:iam/role:Role::my-role"), "my-role");
        assert.equal(nameFromUrn("urn:pulumi:s::p::a$aws:iam/role:Role::odd::name"), "odd::name");
    });

    it("agrees with splitting at every `::` and joining the parts after the third, on any text", () => {
        const bySplit = (urn: string): string => {
            const parts = urn.split("::");
            return parts.length >= 4 ? parts.slice(3).join("::") : urn;
        };
        for (const urn of ["", "::", "::::::", ":::::::", "a:::b::c::d", "urn:pulumi:s::p::t::", "urn:pulumi:s::p::t::::x", "no separators"]) {
            assert.equal(nameFromUrn(urn), bySplit(urn), JSON.stringify(urn));
        }
        fc.assert(
            fc.property(fc.array(fc.constantFrom(":", "::", ":::", "a", "b$c", "/"), { maxLength: 14 }), (pieces) => {
                const urn = pieces.join("");
                assert.equal(nameFromUrn(urn), bySplit(urn));
            }),
            { numRuns: 3000 },
        );
    });
});
