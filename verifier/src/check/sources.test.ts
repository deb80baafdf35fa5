/**
 * `oidc-guard check` over CloudFormation templates (YAML with short-form tags, JSON), a `cdk synth` folder,
 * Terraform plan and state JSON, Terraform source and standard input: in-process through the dispatcher, over the
 * realistic fixtures in fixtures/cloudformation, fixtures/cdk.out and fixtures/terraform.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import Ajv from "ajv";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { run } from "../cli.js";
import type { CliIO } from "../io.js";
import { buildModel } from "../report/model.js";
import type { CheckReport, CheckResult } from "../results.js";
import { runCheck } from "./analyze.js";
import { jsonResourceLines, parseYamlTemplate } from "./cloudformation.js";
import { readStdin } from "./stdin.js";
import { applyUnknown } from "./terraform.js";
import { textOf, type OutputChunk } from "../chunks.js";

const ROOT = join(__dirname, "..", "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-sources-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function check(args: string[], stdin?: string | Buffer): Promise<{ code: number; out: string; err: string }> {
    let out = "";
    let err = "";
    const io: CliIO = {
        stdout: { write: (s: OutputChunk) => (out += textOf(s)), isTTY: false },
        stderr: { write: (s: string) => (err += s), isTTY: false },
        env: {},
        cwd: ROOT,
        ...(stdin !== undefined ? { stdin: Readable.from([typeof stdin === "string" ? Buffer.from(stdin) : stdin]) } : {}),
    };
    const code = await run(["check", ...args], io);
    return { code, out, err };
}

const validate = new Ajv({ allErrors: true, strict: true }).compile(
    JSON.parse(readFileSync(join(ROOT, "verifier", "schemas", "check-result.schema.json"), "utf8")) as object,
);

/** `check --format json`; the output must match the published schema. */
async function checkJson(args: string[], stdin?: string): Promise<{ code: number; report: CheckReport; err: string }> {
    const r = await check([...args, "--format", "json"], stdin);
    const report = JSON.parse(r.out) as unknown;
    assert.ok(validate(report), JSON.stringify(validate.errors));
    return { code: r.code, report: report as CheckReport, err: r.err };
}

function byName(report: CheckReport): Map<string, CheckResult> {
    return new Map(report.results.map((r) => [r.target.resource?.name ?? r.target.file, r]));
}

describe("CloudFormation YAML template with short-form intrinsics", () => {
    it("resolves !Ref defaults, !Sub, !Join, !FindInMap and !GetAtt of the provider; Fn::If takes the worse branch", async () => {
        const { code, report } = await checkJson(["fixtures/cloudformation/pulumi-oidc.yaml", "--org", "acme"]);
        assert.equal(code, 1);
        const r = byName(report);
        assert.deepEqual(
            [...r].map(([n, x]) => [n, x.verdict, x.target.line]),
            [
                ["DeployRole", "pass", 38],
                ["MaybePinnedRole", "fail", 62],
                ["ImportedProviderRole", "unknown", 81],
                ["PulumiOidcProvider", "pass", 28],
            ],
        );
        assert.equal(r.get("DeployRole")!.target.resource!.type, "AWS::IAM::Role");
        assert.ok(r.get("DeployRole")!.notes!.some((n) => n.includes("PulumiOrg, Environment taken at their defaults")));
        const maybe = r.get("MaybePinnedRole")!;
        assert.deepEqual(maybe.findings.map((f) => f.ruleId), ["oidc-trust-sub-pinned"]);
        assert.ok(maybe.notes!.some((n) => /ShouldPinSubject true: pass; condition ShouldPinSubject false: fail/.test(n)));
        const imported = r.get("ImportedProviderRole")!;
        assert.equal(imported.findings[0]!.ruleId, "oidc-trust-unknown-at-preview");
        assert.match(imported.findings[0]!.message, /decided only when the stack is deployed/);
        assert.ok(imported.notes!.some((n) => n.includes("Fn::ImportValue")));
    });

    it("the text report names the template's file and line with the logical id", async () => {
        const r = await check(["fixtures/cloudformation/pulumi-oidc.yaml", "--org", "acme"]);
        assert.match(r.out, /^FAIL fixtures\/cloudformation\/pulumi-oidc\.yaml:62 › MaybePinnedRole \(AWS::IAM::Role\)$/m);
    });

    it("points SARIF findings at the template's line, with the logical id as the location name", async () => {
        const r = await check(["fixtures/cloudformation/pulumi-oidc.yaml", "--org", "acme", "--format", "sarif"]);
        const sarif = JSON.parse(r.out) as {
            runs: { results: { ruleId: string; locations: { physicalLocation: { region: { startLine: number } }; logicalLocations: { name: string }[] }[] }[] }[];
        };
        const sub = sarif.runs[0]!.results.find((x) => x.ruleId === "oidc-trust-sub-pinned")!;
        // Line 68 is `- Effect: Allow`, the statement of MaybePinnedRole.
        assert.equal(sub.locations[0]!.physicalLocation.region.startLine, 68);
        assert.equal(sub.locations[0]!.logicalLocations[0]!.name, "MaybePinnedRole");
    });

    it("an unresolvable value that decides the verdict is unknown, never pass; one that does not decide it still passes", async () => {
        const file = join(tmp, "t.yaml");
        writeFileSync(
            file,
            [
                "Parameters:",
                "  Org: {Type: String}",
                "  Env: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /pulumi/env}",
                "Resources:",
                "  R:",
                "    Type: AWS::IAM::Role",
                "    Properties:",
                "      AssumeRolePolicyDocument:",
                "        Statement:",
                "          - Effect: Allow",
                "            Principal: {Federated: !Sub 'arn:aws:iam::${AWS::AccountId}:oidc-provider/api.pulumi.com/oidc'}",
                "            Action: sts:AssumeRoleWithWebIdentity",
                "            Condition:",
                "              StringEquals:",
                "                api.pulumi.com/oidc:aud: aws:acme",
                "                api.pulumi.com/oidc:sub: !Sub 'pulumi:environments:org:${Org}:env:p/e'",
                "  U:",
                "    Type: AWS::IAM::Role",
                "    Properties:",
                "      AssumeRolePolicyDocument:",
                "        Statement:",
                "          - Effect: Allow",
                "            Principal: {Federated: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/api.pulumi.com/oidc'}",
                "            Action: sts:AssumeRoleWithWebIdentity",
                "            Condition:",
                "              StringEquals:",
                "                api.pulumi.com/oidc:aud: aws:acme",
                "                api.pulumi.com/oidc:sub: !Sub 'pulumi:environments:org:acme:env:${Env}'",
                "  S:",
                "    Type: AWS::IAM::Role",
                "    Properties:",
                "      RoleName: !Ref AWS::StackName",
                "      AssumeRolePolicyDocument:",
                "        Statement:",
                "          - {Effect: Allow, Principal: {Service: !Sub 'lambda.${AWS::URLSuffix}'}, Action: sts:AssumeRole}",
            ].join("\n"),
        );
        const { report } = await checkJson([file, "--org", "acme"]);
        const r = byName(report);
        assert.equal(r.get("R")!.verdict, "unknown");
        assert.ok(r.get("R")!.notes!.some((n) => n.includes("Ref Org (a parameter without a default)")));
        assert.equal(r.get("U")!.verdict, "unknown");
        assert.ok(r.get("U")!.notes!.some((n) => n.includes("Ref Env (an SSM parameter value)")));
        assert.equal(r.get("S")!.verdict, "pass");
    });

    it("says that a transformed (SAM) template's generated roles were not checked", async () => {
        const file = join(tmp, "sam.yaml");
        writeFileSync(file, "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Handler: index.handler}\n");
        const { report } = await checkJson([file]);
        assert.equal(report.results.length, 1);
        assert.equal(report.results[0]!.verdict, "pass");
        assert.ok(report.results[0]!.notes!.some((n) => /Transform AWS::Serverless-2016-10-31: .* not checked/.test(n)));
    });

    it("reads the line of each resource of a JSON template: the first Resources only, escaped ids, a byte order mark", () => {
        const template = [
            "{",
            '  "Description": {"Resources": {"NotThis": {}}},',
            '  "Resources": {',
            '    "Role": {"Type": "AWS::IAM::Role", "Properties": {"Resources": {"Inner": 1}}},',
            '    "Pro\\u0076ider": {"Type": "AWS::IAM::OIDCProvider"},',
            "",
            '    "Last": {}',
            "  },",
            '  "Outputs": {"Resources": {"Nor": {}}}',
            "}",
        ].join("\n");
        const want = new Map([["Role", 4], ["Provider", 5], ["Last", 7]]);
        assert.deepEqual(jsonResourceLines(template), want);
        // A byte order mark is not a character of the file's first line; `parsed` skips the second parse, same lines.
        assert.deepEqual(jsonResourceLines(`\ufeff${template}`, true), want);
        // Not JSON (and not parsed): no lines, not a throw.
        assert.deepEqual(jsonResourceLines("{\"Resources\": {\"A\": "), new Map());
        assert.deepEqual(jsonResourceLines('{"Resources": []}'), new Map());
    });

    it("parses every short-form tag in scalar and sequence form", () => {
        const y = parseYamlTemplate(
            [
                "Resources:",
                "  X:",
                "    Type: AWS::S3::Bucket",
                "    Properties:",
                "      A: [!Ref p, !Sub s, !GetAtt r.Arn, !Join ['', [a]], !If [c, 1, 2], !Select [0, [a]], !Split [',', 'a,b']]",
                "      B: [!FindInMap [m, a, b], !Equals [a, b], !Not [!Condition c], !And [!Condition c], !Or [!Condition c]]",
                "      C: [!ImportValue v, !GetAZs '', !Base64 x, !Cidr [10.0.0.0/16, 2, 8]]",
            ].join("\n"),
        );
        assert.ok(y.ok);
        const props = ((y.value as { Resources: { X: { Properties: Record<string, unknown[]> } } }).Resources.X.Properties);
        const names = [...props.A!, ...props.B!, ...props.C!].map((v) => Object.keys(v as object)[0]);
        assert.deepEqual(names, [
            "Ref", "Fn::Sub", "Fn::GetAtt", "Fn::Join", "Fn::If", "Fn::Select", "Fn::Split",
            "Fn::FindInMap", "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or",
            "Fn::ImportValue", "Fn::GetAZs", "Fn::Base64", "Fn::Cidr",
        ]);
        assert.deepEqual(props.A![2], { "Fn::GetAtt": ["r", "Arn"] });
        assert.deepEqual((props.B![2] as Record<string, unknown>)["Fn::Not"], [{ Condition: "c" }]);
    });

    it("a broken YAML template is an error with its line (exit 2), not a JSON complaint", async () => {
        const file = join(tmp, "broken.yaml");
        writeFileSync(file, "Resources:\n  R:\n    Type: AWS::IAM::Role\n   Properties: [\n");
        const r = await check([file]);
        assert.equal(r.code, 2);
        assert.match(r.err, /broken\.yaml: not a valid YAML CloudFormation template: .* at line \d+ column \d+/);
    });
});

describe("terminal safety", () => {
    it("a logical id with terminal control sequences is shown escaped in the text report", async () => {
        const file = join(tmp, "evil.yaml");
        writeFileSync(
            file,
            'Resources:\n  "\\e[2J\\e]0;owned\\aRole":\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n' +
                "        Statement:\n          - {Effect: Allow, Principal: '*', Action: sts:AssumeRoleWithWebIdentity}\n",
        );
        const r = await check([file, "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.ok(!r.out.includes("\u001b") && !r.out.includes("\u0007"), JSON.stringify(r.out.slice(0, 200)));
        assert.match(r.out, /\\x1b\[2J\\x1b\]0;owned\\x07Role/);
    });
});

describe("cdk synth output", () => {
    it("checks the templates of a cdk.out folder and skips manifest, tree, assets and asset folders quietly", async () => {
        const { code, report, err } = await checkJson(["fixtures/cdk.out", "--org", "acme"]);
        assert.equal(code, 1);
        assert.equal(err, "");
        assert.deepEqual(new Set(report.results.map((r) => r.target.file)), new Set(["fixtures/cdk.out/PulumiOidcStack.template.json"]));
        const r = byName(report);
        // The role trusts CDK's custom-resource provider through Ref, which is the provider's ARN.
        assert.equal(r.get("EscRole4A7B9E21")!.verdict, "pass");
        assert.equal(r.get("DeploymentsRoleC0FFEE11")!.verdict, "fail");
        assert.equal(r.get("PulumiProvider6B1D0C39")!.target.resource!.type, "Custom::AWSCDKOpenIdConnectProvider");
        assert.equal(r.get("PulumiProvider6B1D0C39")!.verdict, "pass");
        assert.equal(r.get("EscRole4A7B9E21")!.target.line !== undefined, true);
    });

    it("names a metadata file passed by itself as not a template", async () => {
        const r = await check(["fixtures/cdk.out/manifest.json"]);
        assert.equal(r.code, 1);
        assert.match(r.out, /cdk synth metadata/);
    });

    it("leaves YAML files that are not templates out of a directory walk, naming each on stderr", async () => {
        const dir = join(tmp, "walk");
        const { mkdirSync } = await import("node:fs");
        mkdirSync(dir);
        writeFileSync(join(dir, "Pulumi.yaml"), "name: x\nruntime: nodejs\n");
        writeFileSync(join(dir, "role.json"), JSON.stringify({ Statement: [] }));
        const { report, err } = await checkJson([dir]);
        assert.match(err, /^oidc-guard check: skipped .*walk\/Pulumi\.yaml: YAML that is not a CloudFormation template \(no top-level Resources map of typed resources\)\n$/);
        assert.deepEqual(report.results.map((r) => r.target.file.endsWith("role.json")), [true]);
    });
});

describe("Terraform", () => {
    it("a plan: after_unknown values are unknown, delete-only changes and data sources are left out", async () => {
        const { code, report } = await checkJson(["fixtures/terraform/plan-unknown-provider.json", "--org", "acme"]);
        assert.equal(code, 1);
        const r = byName(report);
        assert.deepEqual(
            [...r].map(([n, x]) => [n, x.verdict]),
            [
                ["aws_iam_role.esc_deploy", "unknown"],
                ["aws_iam_role.legacy", "fail"],
                ["aws_iam_openid_connect_provider.pulumi", "pass"],
            ],
        );
        const esc = r.get("aws_iam_role.esc_deploy")!;
        assert.match(esc.findings[0]!.message, /known only after apply/);
        assert.match(esc.findings[0]!.remediation, /terraform show -json/);
        assert.equal(r.get("aws_iam_role.legacy")!.findings[0]!.ruleId, "oidc-trust-sub-pinned");
    });

    it("state: roles in child modules (nested) are found", async () => {
        const { report } = await checkJson(["fixtures/terraform/state-modules.json", "--org", "acme"]);
        assert.deepEqual(
            report.results.map((r) => [r.target.resource!.name, r.verdict]),
            [
                ["aws_iam_role.esc_deploy", "pass"],
                ["module.deployments.aws_iam_role.this", "fail"],
                ["module.deployments.module.ci.aws_iam_role.this", "fail"],
                ["aws_iam_openid_connect_provider.pulumi", "pass"],
            ],
        );
    });

    it("reads the Cloud Control provider's awscc_iam_role and awscc_iam_oidc_provider too", async () => {
        const file = join(tmp, "awscc-state.json");
        const policy = JSON.stringify({
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } },
                },
            ],
        });
        writeFileSync(
            file,
            JSON.stringify({
                format_version: "1.0",
                terraform_version: "1.9.8",
                values: {
                    root_module: {
                        resources: [
                            { address: "awscc_iam_role.r", mode: "managed", type: "awscc_iam_role", name: "r", values: { assume_role_policy_document: policy } },
                            { address: "awscc_iam_oidc_provider.p", mode: "managed", type: "awscc_iam_oidc_provider", name: "p", values: { url: "https://api.pulumi.com/oidc", client_id_list: ["aws:acme"], arn: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" } },
                        ],
                    },
                },
            }),
        );
        const { report } = await checkJson([file, "--org", "acme"]);
        assert.deepEqual(
            report.results.map((r) => [r.target.resource!.name, r.verdict]),
            [
                ["awscc_iam_role.r", "fail"],
                ["awscc_iam_oidc_provider.p", "pass"],
            ],
        );
    });

    it("applyUnknown masks whole values, list elements and nested attributes", () => {
        assert.equal(applyUnknown("x", true), "04da6b54-80e4-46f7-96ec-b56ff0331ba9");
        assert.deepEqual(applyUnknown({ a: ["k", null], b: 1 }, { a: [false, true] }), {
            a: ["k", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"],
            b: 1,
        });
    });

    it("applyUnknown keeps a `__proto__` attribute an own attribute, never the copy's prototype", () => {
        const U = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const masked = applyUnknown(JSON.parse('{"name": "r"}'), JSON.parse('{"__proto__": {"assume_role_policy": true}}')) as Record<string, unknown>;
        assert.equal(Object.getPrototypeOf(masked), Object.prototype);
        assert.equal(masked["assume_role_policy"], undefined, "no attribute inherited");
        assert.deepStrictEqual(masked, JSON.parse(`{"name": "r", "__proto__": {"assume_role_policy": "${U}"}}`));
        const kept = applyUnknown(JSON.parse('{"__proto__": {"a": 1}, "b": 2}'), JSON.parse('{"__proto__": {"c": true}}'));
        assert.deepStrictEqual(kept, JSON.parse(`{"__proto__": {"a": 1, "c": "${U}"}, "b": 2}`));
    });

    it("a .tf.json configuration is named as such, with how to produce the plan JSON", async () => {
        const file = join(tmp, "main.tf.json");
        writeFileSync(file, JSON.stringify({ resource: { aws_iam_role: { r: { name: "r", assume_role_policy: "${data.x.json}" } } } }));
        const r = await check([file]);
        assert.equal(r.code, 1);
        assert.match(r.out, /Terraform configuration in JSON syntax \(\.tf\.json\), not a plan/);
    });

    it("a .tf file is refused with how to produce the plan JSON (exit 2)", async () => {
        const file = join(tmp, "main.tf");
        writeFileSync(file, 'resource "aws_iam_role" "r" {\n  name = "r"\n}\n');
        const r = await check([file]);
        assert.equal(r.code, 2);
        assert.match(r.err, /main\.tf: Terraform source \(HCL\), not JSON: .*terraform plan -out plan\.tfplan && terraform show -json plan\.tfplan > plan\.json/);
    });
});

describe("standard input", () => {
    it("check - reads one document, named <stdin>", async () => {
        const role = {
            Role: {
                RoleName: "r",
                Arn: "arn:aws:iam::123456789012:role/r",
                AssumeRolePolicyDocument: {
                    Statement: [
                        {
                            Effect: "Allow",
                            Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                            Action: "sts:AssumeRoleWithWebIdentity",
                            Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } },
                        },
                    ],
                },
            },
        };
        const { code, report } = await checkJson(["-", "--org", "acme"], JSON.stringify(role));
        assert.equal(code, 1);
        assert.equal(report.results[0]!.target.file, "<stdin>");
        assert.equal(report.results[0]!.verdict, "fail");
        const yaml = await checkJson(["-"], "Resources:\n  R:\n    Type: AWS::S3::Bucket\n");
        assert.equal(yaml.report.results[0]!.target.file, "<stdin>");
    });

    it("refuses a terminal, too much input and input that never ends", async () => {
        const tty = Object.assign(Readable.from([]), { isTTY: true });
        await assert.rejects(readStdin(tty), /standard input is a terminal/);
        await assert.rejects(readStdin(Readable.from([Buffer.alloc(2048)]), { maxBytes: 1024 }), /larger than 1024 bytes/);
        const never = new Readable({ read() {} });
        await assert.rejects(readStdin(never, { timeoutMs: 50 }), /did not end within/);
        never.destroy();
    });

    it("decodes standard input as strictly as a file: not UTF-8 is exit 2 naming the byte, UTF-16 named", async () => {
        // A Latin-1 policy ("é" as the byte E9): by name it is "not valid UTF-8 (... byte 12)", exit 2; piped, the same.
        const latin1 = Buffer.concat([Buffer.from('{"Sid": "caf'), Buffer.of(0xe9), Buffer.from('", "Statement": []}')]);
        const file = join(tmp, "latin1.json");
        writeFileSync(file, latin1);
        const named = await check([file]);
        assert.equal(named.code, 2);
        assert.match(named.err, /latin1\.json: not valid UTF-8 \(invalid byte sequence at byte 12\)/);
        await assert.rejects(readStdin(Readable.from([latin1])), (e: Error) => /^-: standard input is not valid UTF-8 \(invalid byte sequence at byte 12\)\nhint: /.test(e.message));
        const piped = await check(["-"], latin1);
        assert.equal(piped.code, 2);
        assert.match(piped.err, /^oidc-guard check: -: standard input is not valid UTF-8 \(invalid byte sequence at byte 12\)\nhint: convert it to UTF-8/);
        const utf16 = Buffer.concat([Buffer.of(0xff, 0xfe), Buffer.from('{"Statement": []}', "utf16le")]);
        await assert.rejects(readStdin(Readable.from([utf16])), /-: standard input is not UTF-8 but UTF-16 little-endian \(byte-order mark FF FE\)/);
        // Split anywhere, UTF-8 is put together before it is decoded.
        const text = '{"Sid": "caf\u00e9", "Statement": []}';
        const bytes = Buffer.from(text);
        assert.equal(await readStdin(Readable.from([bytes.subarray(0, 13), bytes.subarray(13)])), text);
    });

    it("a pipe named as an input that does not end is an error of its own, advising to write the document to a file", () => {
        const fifo = join(tmp, "never.json");
        if (spawnSync("mkfifo", [fifo]).status !== 0) assert.fail("mkfifo is needed for this test");
        // No writer opens the FIFO in time (this one opens it after 5 s): a read without a time limit fails the
        // test rather than hanging it.
        const writer = spawn(process.execPath, ["-e", `setTimeout(() => require("fs").closeSync(require("fs").openSync(process.argv[1], "w")), 5000);`, fifo], {
            stdio: "ignore",
        });
        try {
            const checked = runCheck([{ path: fifo, shown: "never.json", explicit: true }], { organizations: ["acme"] }, { streamTimeoutMs: 200 });
            const message = "a pipe (FIFO) that did not end within 0.2 s; write the document to a file and check that";
            assert.deepEqual(checked.fileProblems, [{ file: "never.json", message }]);
            assert.equal(checked.results.length, 1);
            assert.equal(checked.results[0]!.verdict, "error");
            assert.equal(checked.results[0]!.findings[0]!.message, `never.json: ${message}.`);
            assert.equal(checked.results[0]!.findings[0]!.remediation, "Write the document to a file and check that.");
        } finally {
            writer.kill();
        }
    });

    it("the report model locates findings read from <stdin>", async () => {
        const text = JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "sts:AssumeRoleWithWebIdentity" }] }, null, 2);
        const { report } = await checkJson(["-", "--org", "acme"], text);
        const model = buildModel({ checks: [report], sources: new Map([["<stdin>", text]]) });
        assert.ok(model.entries.length > 0);
    });
});
