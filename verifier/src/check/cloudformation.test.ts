/**
 * cloudformation.ts: templates that must never pass by being left out or read in part. `Fn::ForEach` loops and
 * quoted top-level keys (a template is recognized, its plain roles checked, the loop an unknown of its own), keys a
 * trust policy repeats (an error, as in any other input), and nested stacks (named in a note).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runCli } from "../testing/cli.js";
import type { CheckReport, CheckResult } from "../results.js";
import { isCloudFormationTemplate, looksLikeYamlTemplate } from "./cloudformation.js";

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-cfn-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function file(rel: string, text: string): string {
    const p = join(tmp, rel);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, text);
    return rel;
}

function check(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return runCli(["check", ...args], tmp);
}

async function checkJson(args: string[]): Promise<{ code: number; report: CheckReport; err: string }> {
    const r = await check([...args, "--format", "json"]);
    return { code: r.code, report: JSON.parse(r.out) as CheckReport, err: r.err };
}

function byName(report: CheckReport): Map<string, CheckResult> {
    return new Map(report.results.map((r) => [r.target.resource?.name ?? r.target.file, r]));
}

/** A statement trusting Pulumi's provider, pinned on `aud` alone (fails) or on `aud` and `sub` (passes). */
function statement(pinned: boolean): object {
    return {
        Effect: "Allow",
        Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
            StringEquals: {
                "api.pulumi.com/oidc:aud": "aws:acme",
                ...(pinned ? { "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/prod" } : {}),
            },
        },
    };
}

const FOR_EACH_YAML = `AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::LanguageExtensions
Resources:
  AudOnlyRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal:
              Federated: !Sub "arn:aws:iam::\${AWS::AccountId}:oidc-provider/api.pulumi.com/oidc"
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals:
                api.pulumi.com/oidc:aud: aws:acme
  Fn::ForEach::EnvRoles:
    - Env
    - [dev, prod]
    - EscRole\${Env}:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument:
            Statement:
              - Effect: Allow
                Principal: {Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}
                Action: sts:AssumeRoleWithWebIdentity
  Fn::ForEach::Buckets:
    - Name
    - [a, b]
    - Bucket\${Name}:
        Type: AWS::S3::Bucket
`;

describe("Fn::ForEach (AWS::LanguageExtensions)", () => {
    it("a YAML template with a loop is checked in a walk and by name: plain roles checked, a loop making roles unknown", async () => {
        file("foreach/roles.yaml", FOR_EACH_YAML);
        file("foreach/provider.json", JSON.stringify({ Url: "api.pulumi.com/oidc", ClientIDList: ["aws:acme"] }));
        for (const args of [["foreach"], ["foreach/roles.yaml"]]) {
            const { code, report, err } = await checkJson([...args, "--org", "acme"]);
            assert.equal(code, 1, args.join(" "));
            const r = byName(report);
            assert.equal(r.get("AudOnlyRole")?.verdict, "fail", args.join(" "));
            assert.equal(r.get("AudOnlyRole")?.target.line, 4);
            const loop = r.get("Fn::ForEach::EnvRoles");
            assert.equal(loop?.verdict, "unknown");
            assert.deepEqual(loop.target.resource, { urn: "Fn::ForEach::EnvRoles", type: "Fn::ForEach", name: "Fn::ForEach::EnvRoles" });
            assert.equal(loop.target.line, 16);
            assert.ok(loop.notes!.some((n) => /Fn::ForEach::EnvRoles makes IAM roles .* not expanded here/.test(n)));
            assert.match(loop.findings[0]!.remediation, /For roles made by Fn::ForEach, check the processed template/);
            // A loop that makes no role is no result, but the note names it; the note replaces the Transform note.
            assert.equal(r.has("Fn::ForEach::Buckets"), false);
            const notes = r.get("AudOnlyRole")!.notes!;
            assert.ok(notes.some((n) => n.includes("the template uses Fn::ForEach::EnvRoles, Fn::ForEach::Buckets (transform AWS::LanguageExtensions)")));
            assert.ok(!notes.some((n) => n.startsWith("the template uses Transform")));
            assert.doesNotMatch(err, /not valid JSON|skipped/);
        }
    });

    it("a JSON template with a loop is a template too, and a loop alone makes one", async () => {
        const loop = ["Env", ["dev"], { "Role${Env}": { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: { Statement: [statement(true)] } } } }];
        const template = {
            Transform: "AWS::LanguageExtensions",
            Resources: { Pinned: { Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: { Statement: [statement(true)] } } }, "Fn::ForEach::Roles": loop },
        };
        assert.equal(isCloudFormationTemplate(template), true);
        assert.equal(isCloudFormationTemplate({ Resources: { "Fn::ForEach::Roles": loop } }), true);
        // Not a loop: an entry that is neither a resource nor a loop still makes the map no template.
        assert.equal(isCloudFormationTemplate({ Resources: { "Fn::ForEach::Roles": {}, R: { Type: "AWS::S3::Bucket" } } }), false);
        const { code, report } = await checkJson([file("foreach-json/t.json", JSON.stringify(template)), "--org", "acme"]);
        assert.equal(code, 1);
        assert.deepEqual(report.results.map((r) => [r.target.resource?.name, r.verdict]), [["Pinned", "pass"], ["Fn::ForEach::Roles", "unknown"]]);
    });
});

describe("Fn::ForEach inside a trust policy", () => {
    it("a loop that makes condition keys leaves the object unknown (never a condition no token carries, which would pass)", async () => {
        const text = [
            "Transform: AWS::LanguageExtensions",
            "Resources:",
            "  R:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      AssumeRolePolicyDocument:",
            "        Statement:",
            "          - Effect: Allow",
            "            Principal: {Federated: arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc}",
            "            Action: sts:AssumeRoleWithWebIdentity",
            "            Condition:",
            "              StringLike:",
            "                api.pulumi.com/oidc:aud: aws:acme",
            "                Fn::ForEach::Keys:",
            "                  - K",
            "                  - [sub]",
            "                  - api.pulumi.com/oidc:${K}: '*'",
            "",
        ].join("\n");
        const { code, report } = await checkJson([file("foreach-inside/t.yaml", text), "--org", "acme"]);
        assert.equal(code, 1);
        const r = report.results[0]!;
        assert.equal(r.verdict, "unknown");
        assert.match(r.findings[0]!.path, /^AssumeRolePolicyDocument\.Statement\[0\]\.Condition\.StringLike/);
        assert.ok(r.notes!.some((n) => n.includes("Fn::ForEach::Keys (Fn::ForEach is not expanded here)")));
    });
});

describe("YAML templates a walk recognizes", () => {
    it("quoted top-level keys (single, double), after a byte-order mark too", async () => {
        assert.equal(looksLikeYamlTemplate("'AWSTemplateFormatVersion': '2010-09-09'\n"), true);
        assert.equal(looksLikeYamlTemplate('Description: x\n"Resources":\n'), true);
        assert.equal(looksLikeYamlTemplate("\ufeffResources:\n"), true);
        assert.equal(looksLikeYamlTemplate("'Resources\":\n"), false);
        assert.equal(looksLikeYamlTemplate("name: x\nresources:\n  Resources: 1\n"), false);
        const quoted = [
            "'AWSTemplateFormatVersion': '2010-09-09'",
            "'Resources':",
            "  'AudOnlyRole':",
            "    'Type': 'AWS::IAM::Role'",
            "    'Properties':",
            "      'AssumeRolePolicyDocument':",
            "        'Statement':",
            "          - 'Effect': 'Allow'",
            "            'Principal': {'Federated': 'arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc'}",
            "            'Action': 'sts:AssumeRoleWithWebIdentity'",
            "            'Condition': {'StringEquals': {'api.pulumi.com/oidc:aud': 'aws:acme'}}",
            "",
        ].join("\n");
        file("quoted/roles.yml", quoted);
        file("quoted/bom.yaml", `\ufeff${quoted.replace("AudOnlyRole", "BomRole").replace("'AWSTemplateFormatVersion': '2010-09-09'\n", "")}`);
        const { code, report } = await checkJson(["quoted", "--org", "acme"]);
        assert.equal(code, 1);
        assert.deepEqual(
            report.results.map((r) => [r.target.file, r.target.resource?.name, r.verdict, r.target.line]),
            [
                ["quoted/bom.yaml", "BomRole", "fail", 2],
                ["quoted/roles.yml", "AudOnlyRole", "fail", 3],
            ],
        );
    });

    it("names on stderr (and in the text report) a YAML file it leaves out because it is no template", async () => {
        file("yaml-skip/Pulumi.yaml", "name: x\nruntime: nodejs\n");
        file("yaml-skip/notes.template", "Resources:\n  - not a map\n");
        file("yaml-skip/role.json", JSON.stringify({ Statement: [statement(true)] }));
        const r = await check(["yaml-skip", "--org", "acme"]);
        assert.equal(r.code, 0);
        const reason = "YAML that is not a CloudFormation template (no top-level Resources map of typed resources)";
        for (const name of ["Pulumi.yaml", "notes.template"]) {
            assert.ok(r.err.includes(`oidc-guard check: skipped yaml-skip/${name}: ${reason}\n`), r.err);
            assert.ok(r.out.includes(`skipped yaml-skip/${name}: ${reason}\n`), r.out);
        }
        const json = await check(["yaml-skip", "--org", "acme", "--format", "json"]);
        assert.match(json.err, /skipped yaml-skip\/Pulumi\.yaml: YAML that is not a CloudFormation template/);
    });
});

describe("keys a template repeats", () => {
    it("a trust policy repeating a key is an error, as in a bare policy, a stack export or Terraform state", async () => {
        const policy = `{"Statement": [{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc"}, "Action": "sts:AssumeRoleWithWebIdentity", "Condition": {"StringEquals": {"api.pulumi.com/oidc:aud": "aws:acme"}, "StringEquals": {"api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/prod"}}}]}`;
        const bare = await checkJson([file("dup/bare.json", policy), "--org", "acme"]);
        assert.equal(bare.report.results[0]!.verdict, "error");
        const template = `{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": ${policy}}}}}`;
        const { code, report } = await checkJson([file("dup/template.json", template), "--org", "acme"]);
        assert.equal(code, 1);
        const r = report.results[0]!;
        assert.equal(r.verdict, "error");
        assert.equal(r.findings[0]!.ruleId, "oidc-trust-document-valid");
        assert.match(r.findings[0]!.message, /key "StringEquals" appears twice in the same object \(Resources\.R\.Properties\.AssumeRolePolicyDocument\.Statement\[0\]\.Condition\) at line 1 column \d+/);

        // With Fn::If (each combination is a copy of its own), and an intrinsic written twice in one object.
        const withIf = template.replace('"api.pulumi.com/oidc:aud": "aws:acme"}, "StringEquals"', '"api.pulumi.com/oidc:aud": {"Fn::If": ["C", "aws:acme", "aws:acme"]}}, "StringEquals"');
        const ifs = await checkJson([file("dup/if.json", withIf), "--org", "acme"]);
        assert.equal(ifs.report.results[0]!.verdict, "error");
        const twice = template.replace(
            /"StringEquals": \{"api\.pulumi\.com\/oidc:aud": "aws:acme"\}, "StringEquals": \{"api\.pulumi\.com\/oidc:aud": "aws:acme"/,
            '"StringEquals": {"api.pulumi.com/oidc:aud": {"Fn::Sub": "aws:acme", "Fn::Sub": "aws:other"}',
        );
        assert.notEqual(twice, template);
        const sub = await checkJson([file("dup/sub.json", twice), "--org", "acme"]);
        assert.equal(sub.report.results[0]!.verdict, "error");
        assert.ok(sub.report.results[0]!.findings.some((f) => f.message.includes('key "Fn::Sub" appears twice')));
    });

    it("a logical id written twice: the last definition is checked, as CloudFormation deploys it, with a note", async () => {
        const role = (pinned: boolean): string => JSON.stringify({ Type: "AWS::IAM::Role", Properties: { AssumeRolePolicyDocument: { Statement: [statement(pinned)] } } });
        const text = `{"Resources": {\n"R": ${role(true)},\n"R": ${role(false)}\n}}`;
        const { report } = await checkJson([file("dup/logical.json", text), "--org", "acme"]);
        assert.equal(report.results.length, 1);
        assert.equal(report.results[0]!.verdict, "fail");
        assert.ok(report.results[0]!.notes!.some((n) => /^Resources repeats a logical id \(key "R" appears twice .* at line 3 column 1\): CloudFormation deploys the last definition/.test(n)));
    });
});

describe("nested stacks", () => {
    it("a template whose roles are in a nested stack says so, naming the stack and its template file", async () => {
        const text = [
            'AWSTemplateFormatVersion: "2010-09-09"',
            "Resources:",
            "  OidcRoles:",
            "    Type: AWS::CloudFormation::Stack",
            "    Properties:",
            "      TemplateURL: https://bucket.s3.amazonaws.com/oidc-roles.yaml?X-Amz-Signature=abc&X-Amz-Credential=AKIAEXAMPLE",
            "  Other:",
            "    Type: AWS::CloudFormation::Stack",
            "    Properties:",
            "      TemplateURL: !Sub https://${Bucket}.s3.amazonaws.com/other.yaml",
            "",
        ].join("\n");
        const { code, report } = await checkJson([file("nested/parent.yaml", text), "--org", "acme"]);
        assert.equal(code, 0);
        const notes = report.results[0]!.notes!;
        assert.ok(notes[0]!.startsWith("no IAM roles or OIDC providers in this input"));
        assert.equal(
            notes[1],
            "the template creates nested stacks OidcRoles (oidc-roles.yaml), Other (AWS::CloudFormation::Stack): the roles and providers " +
                "of their templates were not checked; check each nested template itself (`oidc-guard check <nested template>`)",
        );
        assert.ok(!notes.join("\n").includes("X-Amz"));
    });
});
