import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decodeAwsPolicyDocument, extractInput, nameFromUrn } from "./inputs.js";

const ROOT = join(__dirname, "..", "..", "..");
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

    describe("a preview run with --refresh (a refresh step for every resource, then the planned steps)", () => {
        const role = "aws:iam/role:Role";
        const urn = (name: string): string => `urn:pulumi:prod::p::${role}::${name}`;
        const state = (inputs: unknown, outputs?: unknown) => ({ urn: "", type: role, inputs: { assumeRolePolicy: inputs }, ...(outputs === undefined ? {} : { outputs: { assumeRolePolicy: outputs } }) });
        const pinned = '{"Version":"2012-10-17","Statement":[]}';

        it("checks the state the planned step leaves, not the refreshed one before it", () => {
            // What the real CLI prints (fixtures/preview-cases): the refresh step holds the deployed, pinned policy,
            // the update step after it the aud-only one the update would set.
            const x = extractInput("pv.json", JSON.parse(readFileSync(join(ROOT, "fixtures/preview-cases/refresh-aud-only.preview.json"), "utf8")) as unknown);
            assert.deepEqual(x.roles.length, 1);
            const policy = JSON.parse(x.roles[0]!.trustPolicy as string) as { Statement: { Condition: { StringEquals: Record<string, string> } }[] };
            assert.deepEqual(Object.keys(policy.Statement[0]!.Condition.StringEquals), ["api.pulumi.com/oidc:aud"]);
            assert.match(x.roles[0]!.notes?.join("\n") ?? "", /read another trust policy from the cloud than the one this update sets/);
        });

        it("a refresh step alone, or followed by `same`: the resource stays as refreshed (its outputs first); a refresh then a delete: nothing", () => {
            const x = extractInput("pv.json", {
                steps: [
                    { op: "refresh", urn: urn("kept"), newState: state("as-deployed", "as-aws-holds-it") },
                    // `same` (shown with --show-sames): the update leaves the role as AWS holds it.
                    { op: "refresh", urn: urn("left"), newState: state("as-deployed", "drifted") },
                    { op: "same", urn: urn("left"), newState: state("as-deployed") },
                    { op: "refresh", urn: urn("gone"), newState: state("old") },
                    { op: "refresh", urn: urn("same"), newState: state(pinned, pinned) },
                    { op: "delete", urn: urn("gone"), oldState: state("old") },
                    // The same document written otherwise: no note.
                    { op: "update", urn: urn("same"), newState: state('{ "Statement": [], "Version": "2012-10-17" }') },
                ],
                changeSummary: { update: 1, delete: 1 },
            });
            assert.deepEqual(
                x.roles.map((r) => [r.target.resource?.name, r.trustPolicy, r.notes]),
                [
                    ["kept", "as-aws-holds-it", undefined],
                    ["left", "drifted", undefined],
                    ["same", '{ "Statement": [], "Version": "2012-10-17" }', undefined],
                ],
            );
        });

        it("in whatever order the steps come", () => {
            const x = extractInput("pv.json", {
                steps: [
                    { op: "update", urn: urn("r"), newState: state("planned") },
                    { op: "refresh", urn: urn("r"), newState: state("refreshed", "refreshed") },
                ],
            });
            assert.deepEqual(x.roles.map((r) => r.trustPolicy), ["planned"]);
        });
    });

    describe("a failed preview (its diagnostics report an error)", () => {
        it("is incomplete, naming the first error, its terminal escapes removed and its length bounded", () => {
            // The real CLI, a Pulumi YAML program that names a resource it does not declare: the error arrives as what
            // the program wrote on standard error (`info#err`), coloured.
            const real = extractInput("f.json", JSON.parse(readFileSync(join(ROOT, "fixtures/preview-cases/failed-program.preview.json"), "utf8")) as unknown);
            assert.equal(real.kind, "preview");
            assert.match(real.incomplete?.message ?? "", /pulumi preview that failed: its diagnostics report an error, the first "Error: resource, variable, or config value \\"missing\\" not found"/);
            assert.ok(!real.incomplete!.message.includes("\u001b"));
            assert.match(real.incomplete!.remediation, /Fix the error/);
            const long = extractInput("f.json", {
                steps: [],
                diagnostics: [
                    { severity: "error", message: `error: ${"x".repeat(5000)}\n\u001b]8;;http://e\u0007link\u001b]8;;\u0007` },
                    { severity: "error", message: "error: update failed" },
                ],
            });
            assert.match(long.incomplete?.message ?? "", /report 2 errors, the first "error: x{190,}…"/);
            assert.ok(long.incomplete!.message.length < 600, `${long.incomplete!.message.length} characters`);
        });

        it("is complete when the diagnostics hold only warnings, information and standard error that is not an error", () => {
            const x = extractInput("f.json", {
                steps: [],
                diagnostics: [
                    { severity: "warning", message: "warning: deprecated" },
                    { severity: "info", message: "error: this is what the program printed on standard output" },
                    { severity: "info#err", message: "(node:12) [DEP0040] DeprecationWarning: The `punycode` module is deprecated." },
                ],
                changeSummary: {},
            });
            assert.equal(x.incomplete, undefined);
            for (const message of ["panic: runtime error", "\u001b[31mError\u001b[0m: x"]) {
                assert.ok(extractInput("f.json", { steps: [], diagnostics: [{ severity: "info#err", message }] }).incomplete, message);
            }
        });
    });

    describe("the pending operations of an interrupted update", () => {
        const role = "aws:iam/role:Role";
        const urn = (name: string): string => `urn:pulumi:prod::p::${role}::${name}`;
        const resource = (name: string, policy: string, outputs = policy) => ({ urn: urn(name), type: role, inputs: { assumeRolePolicy: policy }, outputs: { assumeRolePolicy: outputs } });
        const deployment = {
            resources: [resource("r", "deployed")],
            pending_operations: [
                { resource: resource("new", "being-created", "being-created"), type: "creating" },
                // Deleting the resource the stack lists, in the same state: not checked twice.
                { resource: resource("r", "deployed"), type: "deleting" },
                // Updating it: the state being written (its inputs), where its outputs are still the old ones.
                { resource: resource("r", "being-written", "deployed"), type: "updating" },
                { resource: resource("odd", "x"), type: "\u001b[31m".repeat(30) },
            ],
        };

        it("are checked as the stack's resources, each with a note saying so", () => {
            for (const doc of [{ version: 3, deployment }, { version: 3, checkpoint: { latest: deployment } }]) {
                const x = extractInput("s.json", doc);
                assert.equal(x.entries, 5);
                const typeOf = (note: string): string | undefined => /^from a pending operation \(([^)]*)\) of an interrupted update: /.exec(note)?.[1];
                assert.deepEqual(
                    x.roles.map((r) => [r.target.resource?.name, r.trustPolicy, (r.notes ?? []).map(typeOf)]),
                    [
                        ["r", "deployed", ["deleting"]],
                        ["new", "being-created", ["creating"]],
                        ["r", "being-written", ["updating"]],
                        // A type the input makes up is quoted, escaped and bounded.
                        ["odd", "x", [`"${"\\u001b[31m".repeat(8)}…"`]],
                    ],
                );
                assert.match(x.roles[1]!.notes![0]!, /it may exist in AWS although the stack's resources do not list it/);
            }
        });
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

    it("a resource type that names a property every object has is no role and no provider, in every kind of input", () => {
        for (const type of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
            const props = { url: "https://api.pulumi.com/oidc", assumeRolePolicy: "p", assume_role_policy: "p", client_id_list: ["aws:acme"] };
            const stack = { version: 3, deployment: { resources: [{ urn: `urn:pulumi:prod::p::${type}::x`, type, inputs: props, outputs: props }] } };
            const preview = { steps: [{ op: "create", urn: `urn:pulumi:prod::p::${type}::x`, newState: { type, inputs: props } }] };
            const tfResource = { address: `${type}.x`, mode: "managed", type, name: "x", values: props };
            const state = { format_version: "1.0", values: { root_module: { resources: [tfResource] } } };
            const plan = {
                format_version: "1.2",
                resource_changes: [{ address: `${type}.x`, mode: "managed", type, name: "x", change: { actions: ["create"], before: null, after: props, after_unknown: {} } }],
            };
            const template = {
                AWSTemplateFormatVersion: "2010-09-09",
                Resources: { B: { Type: "AWS::S3::Bucket" }, X: { Type: type, Properties: { Url: "https://api.pulumi.com/oidc", AssumeRolePolicyDocument: POLICY } } },
            };
            for (const [what, doc] of Object.entries({ stack, preview, state, plan, template })) {
                const x = extractInput("t.json", doc);
                assert.notEqual(x.kind, "unrecognized", `${type} in a ${what}: ${x.problem ?? ""}`);
                assert.deepEqual([x.roles.length, x.providers.length], [0, 0], `${type} in a ${what} (${x.kind})`);
            }
        }
    });

    it("a CloudFormation name like `__proto__` in Ref, Fn::GetAtt or Fn::FindInMap is read as any name the template lacks", () => {
        const template = (name: string): unknown => ({
            AWSTemplateFormatVersion: "2010-09-09",
            Parameters: { Org: { Type: "String", Default: "acme" } },
            Mappings: { M: { a: { b: "x" } } },
            Resources: {
                R: {
                    Type: "AWS::IAM::Role",
                    Properties: {
                        AssumeRolePolicyDocument: {
                            Version: "2012-10-17",
                            Statement: [
                                {
                                    Effect: "Allow",
                                    Principal: { Federated: { Ref: name } },
                                    Action: "sts:AssumeRoleWithWebIdentity",
                                    Condition: {
                                        StringEquals: {
                                            "api.pulumi.com/oidc:aud": { "Fn::FindInMap": [name, name, "toString"] },
                                            "api.pulumi.com/oidc:sub": { "Fn::GetAtt": [name, "Arn"] },
                                        },
                                    },
                                },
                            ],
                        },
                    },
                },
            },
        });
        const notes = (name: string): string[] => (extractInput("t.json", JSON.parse(JSON.stringify(template(name)))).roles[0]!.notes ?? []).map((n) => n.split(name).join("NAME"));
        const missing = notes("Missing");
        assert.deepEqual(missing, ["decided only at deployment, so unknown here: Fn::FindInMap of keys that are not known; Fn::GetAtt NAME.Arn; Ref NAME"]);
        for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"]) assert.deepEqual(notes(name), missing, name);
    });

    it("Fn::Sub reads `${toString}` as the parameter of that name, not as a variable every object has", () => {
        const audOf = (sub: unknown): unknown => {
            const statement = { ...POLICY.Statement[0], Condition: { StringEquals: { "api.pulumi.com/oidc:aud": { "Fn::Sub": sub } } } };
            const doc = {
                AWSTemplateFormatVersion: "2010-09-09",
                Parameters: { toString: { Type: "String", Default: "acme" } },
                Resources: { R: { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: { ...POLICY, Statement: [statement] } } } },
            };
            const policy = extractInput("t.json", JSON.parse(JSON.stringify(doc))).roles[0]!.trustPolicy as typeof doc.Resources.R.Properties.AssumeRolePolicyDocument;
            return policy.Statement[0]!.Condition.StringEquals["api.pulumi.com/oidc:aud"];
        };
        assert.equal(audOf("aws:${toString}"), "aws:acme");
        assert.equal(audOf(["aws:${toString}", {}]), "aws:acme");
        assert.equal(audOf(["aws:${toString}", { toString: "other" }]), "aws:other");
        assert.match(String(audOf("aws:${constructor}")), /^aws:04da6b54-/);
    });

    it("a CloudFormation trust policy's `__proto__` key stays an own key when its intrinsics are resolved", () => {
        const text = JSON.stringify({ ...POLICY, Sid: { Ref: "AWS::Region" } }).replace('{"Version"', '{"__proto__": {"Statement": []}, "Version"');
        const doc = JSON.parse(`{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ${text}}}}}`) as unknown;
        const policy = extractInput("t.json", doc).roles[0]!.trustPolicy as Record<string, unknown>;
        assert.equal(Object.getPrototypeOf(policy), Object.prototype);
        assert.deepEqual(Object.keys(policy), ["__proto__", "Version", "Statement", "Sid"]);
        assert.deepStrictEqual(policy["__proto__"], { Statement: [] });
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
