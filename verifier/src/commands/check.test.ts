/**
 * `oidc-guard check` in-process: `run(["check", ...], io)` (the dispatcher, so usage errors are printed as a user
 * sees them) with a captured io, over the bundled fixtures and small files written to a temporary directory.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { run } from "../cli.js";
import type { CliIO } from "../io.js";
import type { CheckReport, CheckResult } from "../results.js";
import { demo } from "../check/demo.js";
import { textOf, type OutputChunk } from "../chunks.js";

const ROOT = join(__dirname, "..", "..", "..");
const ACCOUNT = "123456789012";
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

interface Captured {
    io: CliIO;
    out: () => string;
    err: () => string;
}

function capture(opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {}): Captured {
    let out = "";
    let err = "";
    return {
        io: {
            stdout: { write: (s: OutputChunk) => (out += textOf(s)), isTTY: opts.tty ?? false },
            stderr: { write: (s: string) => (err += s), isTTY: false },
            env: opts.env ?? {},
            cwd: opts.cwd ?? ROOT,
        },
        out: () => out,
        err: () => err,
    };
}

async function check(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {}) {
    const c = capture(opts);
    const code = await run(["check", ...args], c.io);
    return { code, out: c.out(), err: c.err() };
}

async function checkJson(args: string[], opts: { cwd?: string } = {}) {
    const r = await check([...args, "--format", "json"], opts);
    return { ...r, report: JSON.parse(r.out) as CheckReport };
}

function pinnedPolicy(sub = "pulumi:environments:org:acme:env:infra/prod", aud = "aws:acme") {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: PROVIDER_ARN },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { "api.pulumi.com/oidc:aud": aud, "api.pulumi.com/oidc:sub": sub } },
            },
        ],
    };
}

function audOnlyPolicy() {
    const p = pinnedPolicy();
    p.Statement[0]!.Condition = { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } } as never;
    return p;
}

function byName(report: CheckReport): Map<string, CheckResult> {
    return new Map(report.results.map((r) => [r.target.resource?.name ?? r.target.file, r]));
}

function verdictsOf(report: CheckReport, file: string): Record<string, Verdict> {
    return Object.fromEntries(
        report.results.filter((r) => r.target.file === file).map((r) => [r.target.resource?.name ?? "", r.verdict]),
    );
}

/** The exit code a report implies (for runs where every file was readable). */
function impliedCode(report: CheckReport): number {
    return report.results.every((r) => r.verdict === "pass") ? 0 : 1;
}

let tmp: string;
const file = (name: string, content: unknown): string => {
    const p = join(tmp, name);
    mkdirSync(join(p, ".."), { recursive: true });
    writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content, null, 2));
    return p;
};

before(() => {
    tmp = mkdtempSync(join(tmpdir(), "oidc-guard-check-"));
});
after(() => {
    rmSync(tmp, { recursive: true, force: true });
});

describe("oidc-guard check: usage", () => {
    it("--help prints usage with every flag and exits 0", async () => {
        const r = await check(["--help"]);
        assert.equal(r.code, 0);
        for (const flag of ["--org", "--issuer", "--allow-subject", "--audience", "--config", "--format", "--output"]) {
            assert.ok(r.out.includes(flag), flag);
        }
        assert.match(r.out, /Exit codes:/);
    });

    it("an unknown flag exits 2 with a one-line error and a hint", async () => {
        const r = await check(["fixtures/aws", "--bogus"]);
        assert.equal(r.code, 2);
        assert.equal(r.out, "");
        assert.match(r.err, /^oidc-guard check: unknown option '--bogus'\nhint: run 'oidc-guard check --help'/);
    });

    it("a flag without its value, a bad --format and no paths exit 2", async () => {
        const noValue = await check(["fixtures/aws", "--org"]);
        assert.equal(noValue.code, 2);
        assert.match(noValue.err, /^oidc-guard check: option '--org <value>' needs a value\nhint: /);
        const badFormat = await check(["fixtures/aws", "--format", "xml"]);
        assert.equal(badFormat.code, 2);
        assert.match(badFormat.err, /unknown --format 'xml': expected one of json, sarif, junit, markdown, html, text/);
        const none = await check([]);
        assert.equal(none.code, 2);
        assert.match(none.err, /no input paths given/);
        const badOrg = await check(["fixtures/aws", "--org", "acme:evil"]);
        assert.equal(badOrg.code, 2);
        assert.match(badOrg.err, /--org: 'acme:evil' is not a Pulumi organization name/);
    });

    it("--threads takes a whole number from 1 to 1024; a small input's report is the same with any of them", async () => {
        const help = await check(["--help"]);
        assert.match(help.out, /--threads <n> +Check with at most <n> threads/);
        for (const bad of ["0", "two", "1.5", "-1", "1025", "", "2 3"]) {
            const r = await check(["fixtures/aws", `--threads=${bad}`]);
            assert.equal(r.code, 2, bad);
            assert.equal(r.out, "", bad);
            const message = `--threads must be a whole number from 1 to 1024 (1: check in one thread), got '${bad}'\nhint: `;
            if (bad === "") assert.match(r.err, /option '--threads <value>' needs a value/);
            else assert.ok(r.err.includes(message), `${bad}: ${r.err}`);
        }
        const plain = await check(["fixtures/aws", "--org", "acme", "--format", "json"]);
        // Blanks around the number are let go, as for the other whole-number flags.
        for (const n of ["1", "2", "1024", " 2"]) {
            const r = await check(["fixtures/aws", "--org", "acme", "--format", "json", "--threads", n]);
            assert.equal(r.code, plain.code, n);
            assert.equal(r.out, plain.out, n);
        }
        const text = await check(["fixtures/aws", "--org", "acme", "--threads", "1"]);
        assert.equal(text.out, (await check(["fixtures/aws", "--org", "acme"])).out);
    });

    it("a missing file exits 2 naming it, before anything is printed", async () => {
        const r = await check(["fixtures/aws", "fixtures/does-not-exist.json", "--format", "json"]);
        assert.equal(r.code, 2);
        assert.equal(r.out, "");
        assert.equal(r.err, "oidc-guard check: fixtures/does-not-exist.json: no such file or directory\n");
    });
});

describe("oidc-guard check: input kinds", () => {
    it("a bare trust policy: pinned passes (exit 0), aud-only fails on sub with a counterexample (exit 1)", async () => {
        const good = await checkJson([file("raw/pinned.json", pinnedPolicy()), "--org", "acme"]);
        assert.equal(good.code, 0, good.out);
        assert.deepEqual(good.report.summary, { pass: 1, fail: 0, unknown: 0, error: 0 });
        assert.equal(good.report.results[0]!.target.resource, undefined);

        const bad = await checkJson([file("raw/aud-only.json", audOnlyPolicy()), "--org", "acme"]);
        assert.equal(bad.code, 1);
        const [result] = bad.report.results;
        assert.equal(result!.verdict, "fail");
        const sub = result!.findings.find((f) => f.ruleId === "oidc-trust-sub-pinned");
        assert.ok(sub, JSON.stringify(result!.findings));
        assert.ok(sub.path.startsWith("Statement[0]"), sub.path);
        assert.equal(sub.counterexample?.aud, "aws:acme");
        assert.notEqual(sub.counterexample?.sub, undefined);
        assert.ok(sub.remediation.length > 0);
    });

    it("a JSON string holding a trust policy is read as one", async () => {
        const r = await checkJson([file("raw/string.json", JSON.stringify(JSON.stringify(audOnlyPolicy()))), "--org", "acme"]);
        assert.equal(r.report.results[0]!.verdict, "fail");
        assert.ok(r.report.results[0]!.findings.some((f) => f.ruleId === "oidc-trust-sub-pinned"));
    });

    it("a stack export: each role and provider is a target; aud-only fails, GitHub is out of scope, ciphertext is unknown", async () => {
        const f = "fixtures/stacks/oidc-roles-prod.stack.json";
        const r = await checkJson([f, "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.deepEqual(verdictsOf(r.report, f), {
            "esc-infra-prod": "pass",
            "esc-aud-only": "fail",
            "github-actions-deploy": "pass",
            "esc-legacy-secret": "unknown",
            "pulumi-oidc": "pass",
            "github-oidc": "pass",
        });
        const results = byName(r.report);
        assert.deepEqual(results.get("esc-aud-only")!.target.resource, {
            urn: "urn:pulumi:prod::oidc-roles::aws:iam/role:Role::esc-aud-only",
            type: "aws:iam/role:Role",
            name: "esc-aud-only",
        });
        const audOnly = results.get("esc-aud-only")!.findings.map((x) => [x.ruleId, x.path.split(".")[0]]);
        assert.deepEqual(audOnly, [["oidc-trust-sub-pinned", "assumeRolePolicy"]]);
        assert.ok((results.get("github-actions-deploy")!.notes ?? []).length > 0, "out-of-scope role carries a note");
        assert.match((results.get("github-oidc")!.notes ?? []).join(" "), /not a Pulumi issuer/);
        const secret = results.get("esc-legacy-secret")!;
        assert.equal(secret.findings.length, 1);
        assert.match(secret.findings[0]!.message, /encrypted secret \(ciphertext\), so it cannot be checked/);
        assert.match(secret.findings[0]!.remediation, /--show-secrets/);
        // Nothing encrypted, and no unrelated state, reaches the output.
        assert.ok(!r.out.includes("v1:"), "ciphertext printed");
        assert.ok(!r.out.includes("AdministratorAccess"));
    });

    it("a --show-secrets stack export: the plaintext trust policy is checked, other secrets never printed", async () => {
        const f = "fixtures/stacks/oidc-roles-dev.show-secrets.stack.json";
        for (const format of ["text", "json"]) {
            const r = await check([f, "--org", "acme", "--format", format]);
            assert.equal(r.code, 1);
            assert.ok(!r.out.includes("FIXTURE-ONLY-not-a-real-password"), `secret stack output printed (${format})`);
            assert.ok(!r.err.includes("FIXTURE-ONLY"), "secret in stderr");
        }
        const r = await checkJson([f, "--org", "acme"]);
        const role = byName(r.report).get("esc-infra-dev")!;
        assert.equal(role.verdict, "fail");
        assert.deepEqual(
            role.findings.map((x) => x.ruleId),
            ["oidc-trust-sub-pinned"],
        );
        assert.match(role.findings[0]!.path, /^assumeRolePolicy\.Statement\[0\]\.Condition\.StringLike/);
        assert.match((role.notes ?? []).join(" "), /stored as a secret/);
    });

    it("a preview whose trust policy uses a new provider's ARN is unknown, never pass (exit 1)", async () => {
        const f = "fixtures/preview/new-provider.preview.json";
        const r = await checkJson([f, "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.deepEqual(verdictsOf(r.report, f), { "pulumi-esc": "unknown", "pulumi-oidc": "pass" });
        const role = byName(r.report).get("pulumi-esc")!;
        assert.ok(role.findings.some((x) => x.ruleId === "oidc-trust-unknown-at-preview"));
    });

    it("a preview of an unchanged stack (the real CLI lists only the stack's own step) says where the roles are", async () => {
        const stackUrn = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev";
        const state = { urn: stackUrn, custom: false, type: "pulumi:pulumi:Stack", outputs: {} };
        const steps = [{ op: "same", urn: stackUrn, oldState: state, newState: state }];
        const r = await checkJson([file("pv/unchanged.json", { steps, changeSummary: { same: 3 } })]);
        assert.equal(r.code, 0);
        assert.equal(r.report.results.length, 1);
        assert.deepEqual(r.report.results[0]!.notes, [
            "no IAM roles or OIDC providers in this input (preview, 1 steps)",
            "pulumi preview --json lists only resources the update would change; roles it leaves as they are are not in it: check 'pulumi stack export' for them",
        ]);
    });

    it("a preview with display-form unknowns or [secret] is unknown too", async () => {
        const urn = (n: string) => `urn:pulumi:dev::p::aws:iam/role:Role::${n}`;
        const withFederated = (federated: string) =>
            JSON.stringify({ ...pinnedPolicy(), Statement: [{ ...pinnedPolicy().Statement[0], Principal: { Federated: federated } }] });
        const steps = [
            { op: "create", urn: urn("display"), newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: "output<string>" } } },
            { op: "update", urn: urn("secret"), newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: "[secret]" } } },
            { op: "create", urn: urn("inside"), newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: withFederated("[unknown]") } } },
            { op: "create", urn: urn("sentinel"), newState: { type: "aws:iam/role:Role", inputs: { assumeRolePolicy: withFederated(`arn:aws:iam::${ACCOUNT}:oidc-provider/${UNKNOWN}`) } } },
        ];
        const r = await checkJson([file("pv/display.json", { steps, changeSummary: { create: 3, update: 1 } }), "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.deepEqual(
            r.report.results.map((x) => [x.target.resource?.name, x.verdict]),
            [
                ["display", "unknown"],
                ["secret", "unknown"],
                ["inside", "unknown"],
                ["sentinel", "unknown"],
            ],
        );
        assert.match(byName(r.report).get("secret")!.findings[0]!.message, /"\[secret\]"/);
    });

    it("aws iam get-role output, decoded or URL-encoded; targets are ARN + AWS::IAM::Role", async () => {
        const r = await checkJson(["fixtures/aws/get-role.json", "fixtures/aws/get-role.urlencoded.json", "--org", "acme"]);
        assert.equal(r.code, 1);
        const [plain, encoded] = r.report.results;
        assert.equal(plain!.verdict, "fail");
        assert.deepEqual(plain!.target.resource, {
            urn: `arn:aws:iam::${ACCOUNT}:role/pulumi-environments-oidc`,
            type: "AWS::IAM::Role",
            name: "pulumi-environments-oidc",
        });
        assert.ok(plain!.findings[0]!.path.startsWith("AssumeRolePolicyDocument.Statement[0]"));
        assert.equal(encoded!.verdict, "pass", JSON.stringify(encoded));
        assert.equal(encoded!.target.resource?.name, "pulumi-esc-infra-staging");
    });

    it("aws iam get-account-authorization-details: one target per role", async () => {
        const f = "fixtures/aws/account-authorization-details.json";
        const r = await checkJson([f, "--org", "acme"]);
        assert.deepEqual(verdictsOf(r.report, f), {
            "pulumi-esc-infra-prod": "pass",
            "pulumi-environments-oidc": "fail",
            "pulumi-aud-prefix": "fail",
            "pulumi-deploy-any-project": "fail",
            "github-actions-deploy": "pass",
            "ec2-app-instance": "pass",
        });
        const audPrefix = byName(r.report).get("pulumi-aud-prefix")!;
        // aud StringLike acme* admits other organizations whatever the subject; the subject is acme's, so no issuable
        // token pairs acme-evil's audience with it: the finding names the audience and carries no token.
        assert.ok(audPrefix.findings.some((x) => x.ruleId === "oidc-trust-aud-pinned" && x.counterexample === null && x.message.includes('"acme-evil"')));
    });

    it("aws iam get-open-id-connect-provider output is a provider target", async () => {
        const r = await checkJson(["fixtures/aws/get-open-id-connect-provider.json", "--org", "acme"]);
        assert.equal(r.code, 0, r.out);
        assert.equal(r.report.results[0]!.target.resource?.type, "AWS::IAM::OIDCProvider");
    });

    it("JSON that matches no known shape is verdict error (exit 1) saying what was expected", async () => {
        const r = await checkJson([file("odd/esc.json", { environmentVariables: { AWS_REGION: "us-east-1" } })]);
        assert.equal(r.code, 1);
        const [result] = r.report.results;
        assert.equal(result!.verdict, "error");
        assert.equal(result!.findings[0]!.ruleId, "oidc-trust-document-valid");
        assert.match(result!.findings[0]!.message, /expected an IAM trust policy.*found an object with keys "environmentVariables"/);
    });

    it("a malformed trust policy is verdict error, and so is a role without one", async () => {
        const r = await checkJson([file("odd/no-statement.json", { Version: "2012-10-17" })]);
        assert.equal(r.report.results[0]!.verdict, "error");
        const stack = {
            version: 3,
            deployment: { resources: [{ urn: "urn:pulumi:s::p::aws:iam/role:Role::bare", type: "aws:iam/role:Role", inputs: {} }] },
        };
        const s = await checkJson([file("odd/bare-role.json", stack)]);
        assert.equal(s.code, 1);
        assert.equal(s.report.results[0]!.verdict, "error");
        assert.match(s.report.results[0]!.findings[0]!.message, /no assumeRolePolicy/);
    });

    it("a secret nested inside an aws-native trust policy object: ciphertext is unknown, plaintext is read", async () => {
        const condition = { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } };
        const role = (name: string, secret: Record<string, string>) => {
            const doc = audOnlyPolicy();
            (doc.Statement[0] as Record<string, unknown>).Condition = { ...SIG, ...secret };
            return { urn: `urn:pulumi:s::p::aws-native:iam:Role::${name}`, type: "aws-native:iam:Role", outputs: { assumeRolePolicyDocument: doc } };
        };
        const stack = {
            version: 3,
            deployment: {
                resources: [
                    role("cipher", { ciphertext: "v1:AAAA:QkJCQg==" }),
                    role("plain", { plaintext: JSON.stringify(condition) }),
                ],
            },
        };
        const r = await checkJson([file("nested/stack.json", stack), "--org", "acme"]);
        const results = byName(r.report);
        assert.equal(results.get("cipher")!.verdict, "unknown");
        assert.equal(results.get("cipher")!.findings[0]!.path, "assumeRolePolicyDocument.Statement[0].Condition");
        assert.equal(results.get("plain")!.verdict, "fail");
        assert.ok(!r.out.includes("QkJCQg"));
    });

    it("a stack export without roles or providers is one passing target with a note", async () => {
        const r = await checkJson([file("odd/empty-stack.json", { version: 3, deployment: { resources: [] } })]);
        assert.equal(r.code, 0);
        assert.match((r.report.results[0]!.notes ?? []).join(""), /no IAM roles or OIDC providers/);
    });
});

describe("oidc-guard check: stack audiences", () => {
    it("a role admitting an audience its in-stack provider does not list fails", async () => {
        const urn = (t: string, n: string) => `urn:pulumi:prod::p::${t}::${n}`;
        const stack = {
            version: 3,
            deployment: {
                resources: [
                    {
                        urn: urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc"),
                        type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
                        inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                        outputs: { arn: PROVIDER_ARN, url: "api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
                    },
                    {
                        urn: urn("aws:iam/role:Role", "deploy"),
                        type: "aws:iam/role:Role",
                        outputs: {
                            assumeRolePolicy: JSON.stringify(
                                pinnedPolicy("pulumi:deploy:org:acme:project:p:stack:prod:operation:update:scope:write", "acme"),
                            ),
                        },
                    },
                ],
            },
        };
        const r = await checkJson([file("aud/stack.json", stack), "--org", "acme"]);
        const role = byName(r.report).get("deploy")!;
        assert.equal(role.verdict, "fail", JSON.stringify(role));
        assert.ok(role.findings.some((x) => x.ruleId === "oidc-provider-audiences-match"));
        assert.equal(r.code, 1);
    });
});

describe("oidc-guard check: files and directories", () => {
    it("invalid JSON exits 2 naming the file and position, without quoting its content; the rest is still checked", async () => {
        const bad = file("broken/bad.json", '{\n  "Version": "2012-10-17",\n    } "hunter2-secret"\n');
        const good = file("broken/good.json", pinnedPolicy());
        const r = await checkJson([bad, good, "--org", "acme"], { cwd: tmp });
        assert.equal(r.code, 2);
        assert.equal(
            r.err,
            "oidc-guard check: broken/bad.json: not valid JSON: Expected a property name but found token } at line 3 column 5\n",
        );
        assert.ok(!r.out.includes("hunter2") && !r.err.includes("hunter2"));
        assert.deepEqual(
            r.report.results.map((x) => [x.target.file, x.verdict]),
            [
                ["broken/bad.json", "error"],
                ["broken/good.json", "pass"],
            ],
        );
    });

    it("a YAML file named on the command line that is no template says so as YAML, not as bad JSON (exit 2)", async () => {
        const project = file("yaml/Pulumi.yaml", "name: my-project\nruntime: nodejs\n");
        const broken = file("yaml/bad.yml", "a: [\n");
        const r = await check([project, broken, "--org", "acme"], { cwd: tmp });
        assert.equal(r.code, 2);
        assert.match(r.err, /yaml\/Pulumi\.yaml: YAML, but not a CloudFormation template: it has no Resources section whose entries name a Type/);
        assert.match(r.err, /yaml\/bad\.yml: not valid YAML: .* at line 2 column 1/);
        assert.doesNotMatch(r.err, /not valid JSON/);
    });

    it("an empty file exits 2", async () => {
        const r = await check([file("empty/e.json", "")], { cwd: tmp });
        assert.equal(r.code, 2);
        assert.match(r.err, /empty\/e\.json: not valid JSON: Empty input/);
    });

    it("a directory is walked recursively in sorted order: *.json only, *.expected.json and check results skipped", async () => {
        const dir = join(tmp, "walk");
        file("walk/b.json", pinnedPolicy());
        file("walk/a/z.json", audOnlyPolicy());
        file("walk/a/z.expected.json", { verdict: "fail" });
        file("walk/notes.txt", "not json");
        file("walk/.hidden/x.json", "{ broken");
        file("walk/node_modules/m.json", "{ broken");
        file("walk/old-result.json", { tool: { name: "oidc-guard", version: "0" }, results: [], summary: {} });
        const r = await checkJson([dir, "--org", "acme"], { cwd: tmp });
        assert.equal(r.code, 1);
        assert.deepEqual(
            r.report.results.map((x) => [x.target.file, x.verdict]),
            [
                ["walk/a/z.json", "fail"],
                ["walk/b.json", "pass"],
            ],
        );
    });

    it("a check result named explicitly is an error, a directory without JSON a usage error", async () => {
        const res = file("explicit/result.json", { tool: { name: "oidc-guard", version: "0" }, results: [] });
        const r = await checkJson([res], { cwd: tmp });
        assert.equal(r.report.results[0]!.verdict, "error");
        assert.match(r.report.results[0]!.findings[0]!.message, /is an oidc-guard check result/);
        mkdirSync(join(tmp, "nojson"), { recursive: true });
        file("nojson/readme.txt", "x");
        const e = await check([join(tmp, "nojson")], { cwd: tmp });
        assert.equal(e.code, 2);
        assert.match(e.err, /no \*\.json, \*\.yaml, \*\.yml or \*\.template file to read in this directory\n/);
    });

    it("--output writes the report to a file (not stdout) and a later run over the directory skips it", async () => {
        const dir = join(tmp, "out");
        file("out/role.json", audOnlyPolicy());
        const r = await check([dir, "--org", "acme", "--format", "json", "--output", join(dir, "result.json")], { cwd: tmp });
        assert.equal(r.code, 1);
        assert.equal(r.out, "");
        assert.match(r.err, /wrote out\/result\.json \(1 results: 0 pass, 1 fail/);
        const written = JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as CheckReport;
        assert.equal(written.results[0]!.verdict, "fail");
        const again = await checkJson([dir, "--org", "acme"], { cwd: tmp });
        assert.equal(again.report.results.length, 1);

        const text = await check([dir, "--org", "acme", "--output", join(tmp, "report.txt")], { cwd: tmp, tty: true });
        assert.equal(text.out, "");
        const txt = readFileSync(join(tmp, "report.txt"), "utf8");
        assert.match(txt, /^TARGET\s+VERDICT\s+FINDING/);
        assert.ok(!txt.includes("\u001b["), "no colour in a file");

        // Missing directories are created; a path under a regular file cannot be.
        const unwritable = await check([dir, "--output", join(tmp, "report.txt", "x.json")], { cwd: tmp });
        assert.equal(unwritable.code, 2);
        assert.match(unwritable.err, /report\.txt\/x\.json: cannot write: a parent of the path is not a directory/);
    });
});

describe("oidc-guard check: text output", () => {
    it("prints a table, details with message, path and fix, and a summary line", async () => {
        const r = await check(["fixtures/aws/get-role.json", "--org", "acme"]);
        assert.equal(r.code, 1);
        const lines = r.out.split("\n");
        assert.match(lines[0]!, /^TARGET\s+VERDICT\s+FINDING\s+WORST CLASS\s+TOKEN THAT GETS IN$/);
        // The worst class of unintended tokens and how many classes the statement admits.
        assert.match(lines[1]!, /^fixtures\/aws\/get-role\.json › pulumi-environments-oidc\s+fail\s+oidc-trust-sub-pinned\s+every-project \(\d+ classes\)\s+aud=aws:acme sub=\S+/);
        assert.match(r.out, /\nFAIL fixtures\/aws\/get-role\.json › pulumi-environments-oidc \(AWS::IAM::Role\)\n/);
        assert.match(r.out, /\n {4}where: AssumeRolePolicyDocument\.Statement\[0\]/);
        assert.match(r.out, /\n {4}token that gets in: an ESC token for environment acme\/[^:]+: issuer=api\.pulumi\.com\/oidc aud=aws:acme sub=/);
        assert.match(r.out, /\n {4}admits every-project: ESC tokens of every project of acme; e\.g\. aud=aws:acme sub=pulumi:environments:org:acme:env:/);
        assert.match(r.out, /\n {4}fix: {3}\S/);
        assert.match(r.out, /\n1 target in 1 file: 0 pass, 1 fail, 0 unknown, 0 error\n$/);
    });

    it("writes the text collected while checking as it writes it beside other reports, to stdout or a file", async () => {
        // Text alone is collected result by result (TextReport); beside another report, from the results held whole.
        const dir = join(tmp, "text-collected");
        file("text-collected/pinned.json", pinnedPolicy());
        file("text-collected/aud-only.json", audOnlyPolicy());
        file("text-collected/old-result.json", { tool: { name: "oidc-guard", version: "0.1.0" }, results: [], summary: {} });
        copyFileSync(join(ROOT, "fixtures", "aws", "get-role.json"), join(dir, "get-role.json"));
        for (const tty of [false, true]) {
            const alone = await check([dir, "--org", "acme"], { cwd: tmp, tty });
            const beside = await check([dir, "--org", "acme", "--json", join(tmp, "text-collected.json")], { cwd: tmp, tty });
            assert.equal(alone.code, 1);
            assert.equal(beside.code, 1);
            assert.equal(alone.out, beside.out);
            assert.match(alone.out, /\nskipped .*old-result\.json: an oidc-guard check result \(holds only tool, results, summary\)\n$/);
            assert.match(alone.out, /\n3 targets in 4 files: 1 pass, 2 fail, 0 unknown, 0 error\n/);
        }
        const written = await check([dir, "--org", "acme", "--output", join(tmp, "text-collected.txt")], { cwd: tmp });
        assert.equal(written.code, 1);
        assert.equal(written.out, "");
        assert.match(written.err, /wrote text-collected\.txt \(3 results: 1 pass, 2 fail, 0 unknown, 0 error\)\n$/);
        assert.equal(readFileSync(join(tmp, "text-collected.txt"), "utf8"), (await check([dir, "--org", "acme"], { cwd: tmp })).out);
        // Written inside the directory it checks, a second time: the walk leaves it out, and the text says so.
        await check([dir, "--org", "acme", "--output", join(dir, "text-out.json")], { cwd: tmp });
        const inside = await check([dir, "--org", "acme", "--output", join(dir, "text-out.json")], { cwd: tmp });
        assert.equal(inside.code, 1);
        assert.match(readFileSync(join(dir, "text-out.json"), "utf8"), /\nskipped .*text-out\.json: a report output of this run\n/);

        const onlyResults = join(tmp, "text-only-results");
        mkdirSync(onlyResults, { recursive: true });
        writeFileSync(join(onlyResults, "earlier.json"), readFileSync(join(ROOT, "fixtures", "reports", "check-files.json")));
        const none = await check([onlyResults]);
        assert.equal(none.code, 2);
        assert.equal(none.out, "");
        assert.match(none.err, /skipped .*earlier\.json[\s\S]*no inputs to check/);
    });

    it("colours only a TTY, and not when NO_COLOR is set", async () => {
        const args = ["fixtures/aws/get-role.json", "--org", "acme"];
        assert.ok((await check(args, { tty: true })).out.includes("\u001b[31mfail"));
        assert.ok(!(await check(args, { tty: false })).out.includes("\u001b["));
        assert.ok(!(await check(args, { tty: true, env: { NO_COLOR: "1" } })).out.includes("\u001b["));
    });
});

describe("oidc-guard check: --subject-scope", () => {
    const projectWide = (): string =>
        file("scope/project-wide.json", {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
                        StringLike: { "api.pulumi.com/oidc:sub": "pulumi:deploy:org:acme:project:core:*" },
                    },
                },
            ],
        });

    it("project (default): every stack of one project passes (exit 0) with the advisory rule in the report", async () => {
        const path = projectWide();
        for (const extra of [[], ["--subject-scope", "project"]]) {
            const r = await checkJson([path, "--org", "acme", ...extra]);
            assert.equal(r.code, 0);
            const result = r.report.results[0]!;
            assert.equal(result.verdict, "pass");
            assert.deepEqual(result.findings.map((f) => [f.ruleId, f.severity, f.advisory]), [["oidc-trust-sub-project-wide", "low", true]]);
            assert.match(result.findings[0]!.tokenDescription ?? "", /^a Deployments token for stack acme\/core\//);
        }
    });

    it("environment: project-wide is a violation (exit 1); --subject-scope overrides the config file", async () => {
        const path = projectWide();
        const r = await checkJson([path, "--org", "acme", "--subject-scope", "environment"]);
        assert.equal(r.code, 1);
        const f = r.report.results[0]!.findings[0]!;
        assert.equal(f.ruleId, "oidc-trust-sub-pinned");
        assert.equal(f.blastRadius?.[0]?.class, "every-environment-of-project");
        assert.equal(f.tokenKind, "deploy");
        const cfg = file("scope/env.config.json", { "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], subjectScope: "environment" } });
        assert.equal((await checkJson([path, "--config", cfg])).code, 1);
        assert.equal((await checkJson([path, "--config", cfg, "--subject-scope", "project"])).code, 0);
    });

    it("a scope outside project|environment is a usage error (exit 2)", async () => {
        const r = await check([projectWide(), "--subject-scope", "org"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /--subject-scope must be project or environment, not 'org'/);
        const cfg = file("scope/bad.config.json", { "pulumi-oidc-role-trust-pinned": { subjectScope: "everything" } });
        const bad = await check([projectWide(), "--config", cfg]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /subjectScope" must be one of "project", "environment"/);
    });
});

describe("oidc-guard check: --config and flags", () => {
    it("reads organizations from a policy pack config file; --org adds to them", async () => {
        const policy = file("cfg/pinned.json", pinnedPolicy());
        const other = file("cfg/other.config.json", {
            all: "mandatory",
            "pulumi-oidc-role-trust-pinned": { enforcementLevel: "mandatory", organizations: ["globex"] },
        });
        const onlyOther = await checkJson([policy, "--config", other]);
        assert.equal(onlyOther.report.results[0]!.verdict, "fail", "aws:acme is not an audience of globex");
        assert.ok(onlyOther.report.results[0]!.findings.some((x) => x.ruleId === "oidc-trust-aud-pinned"));
        const plusAcme = await checkJson([policy, "--config", other, "--org", "acme"]);
        assert.equal(plusAcme.report.results[0]!.verdict, "pass");
    });

    it("allowedSubjects from the config narrow the subject scope", async () => {
        const policy = file("cfg/prod.json", pinnedPolicy());
        const cfg = file("cfg/subjects.config.json", {
            "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], allowedSubjects: ["pulumi:environments:org:acme:env:infra/staging"] },
        });
        const r = await checkJson([policy, "--config", cfg]);
        assert.equal(r.report.results[0]!.verdict, "fail");
        const flag = await checkJson([policy, "--org", "acme", "--allow-subject", "pulumi:environments:org:acme:env:infra/*"]);
        assert.equal(flag.report.results[0]!.verdict, "pass");
    });

    it("--issuer replaces the default issuers (a self-hosted issuer)", async () => {
        const selfHosted = pinnedPolicy();
        selfHosted.Statement[0]!.Principal.Federated = `arn:aws:iam::${ACCOUNT}:oidc-provider/pulumi.example.com/oidc`;
        selfHosted.Statement[0]!.Condition = { StringEquals: { "pulumi.example.com/oidc:aud": "aws:acme" } } as never;
        const p = file("cfg/self-hosted.json", selfHosted);
        const defaults = await checkJson([p, "--org", "acme"]);
        assert.equal(defaults.report.results[0]!.verdict, "pass", "not a Pulumi Cloud issuer: out of scope");
        const withIssuer = await checkJson([p, "--org", "acme", "--issuer", "https://pulumi.example.com/oidc"]);
        assert.equal(withIssuer.report.results[0]!.verdict, "fail");
    });

    it("config file errors exit 2 naming the file; unknown entries are warnings", async () => {
        const policy = file("cfg/p.json", pinnedPolicy());
        file("cfg/bad.config.json", { "pulumi-oidc-role-trust-pinned": { organizations: "acme" } });
        const r = await check([policy, "--config", "cfg/bad.config.json"], { cwd: tmp });
        assert.equal(r.code, 2);
        assert.match(r.err, /--config cfg\/bad\.config\.json: "pulumi-oidc-role-trust-pinned\.organizations" must be an array of non-empty strings/);
        file("cfg/broken.config.json", "{ nope");
        const broken = await check([policy, "--config", "cfg/broken.config.json"], { cwd: tmp });
        assert.equal(broken.code, 2);
        assert.match(broken.err, /--config cfg\/broken\.config\.json: not valid JSON: .* at line 1 column 3/);
        const missing = await check([policy, "--config", "cfg/none.json"], { cwd: tmp });
        assert.equal(missing.code, 2);
        assert.match(missing.err, /--config cfg\/none\.json: cannot read: no such file or directory/);
        const extra = file("cfg/extra.config.json", {
            "some-other-policy": { x: 1 },
            "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], organisations: ["typo"] },
        });
        const w = await check([policy, "--config", extra], { cwd: tmp });
        assert.equal(w.code, 0);
        assert.match(w.err, /warning: .*ignoring "some-other-policy": not a policy of this pack/);
        assert.match(w.err, /warning: .*ignoring unknown setting "pulumi-oidc-role-trust-pinned\.organisations"/);
    });
});

describe("oidc-guard check: JSON report", () => {
    it("summary counts the results and agrees with the exit code", async () => {
        for (const args of [["fixtures/aws/get-role.urlencoded.json"], ["fixtures/stacks", "fixtures/preview", "fixtures/aws"]]) {
            const r = await checkJson([...args, "--org", "acme"]);
            const counts = { pass: 0, fail: 0, unknown: 0, error: 0 };
            for (const x of r.report.results) counts[x.verdict]++;
            assert.deepEqual(r.report.summary, counts);
            assert.equal(r.code, impliedCode(r.report));
            assert.equal(r.report.tool.name, "oidc-guard");
        }
    });
});

describe("oidc-guard check: JSON written while checking", () => {
    /** A stack export: `pass` pinned roles, then `fail` aud-only roles admitting an audience the in-stack provider does not list. */
    function stackOf(pass: number, fail: number, file: string): string {
        const provider = {
            urn: "urn:pulumi:prod::big::aws:iam/openIdConnectProvider:OpenIdConnectProvider::oidc",
            custom: true,
            type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            inputs: { url: "https://api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
            outputs: { arn: PROVIDER_ARN, url: "api.pulumi.com/oidc", clientIdLists: ["aws:acme"] },
        };
        const role = (i: number, policy: unknown) => ({
            urn: `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`,
            custom: true,
            type: "aws:iam/role:Role",
            outputs: { assumeRolePolicy: JSON.stringify(policy), name: `role-${i}` },
        });
        const resources = [
            provider,
            ...Array.from({ length: pass }, (_, i) => role(i, pinnedPolicy(`pulumi:environments:org:acme:env:infra/env-${i}`))),
            ...Array.from({ length: fail }, (_, i) => {
                const p = audOnlyPolicy();
                p.Statement[0]!.Condition = { StringEquals: { "api.pulumi.com/oidc:aud": ["aws:acme", `acme-${i}`] } } as never;
                return role(pass + i, p);
            }),
        ];
        const path = join(tmp, file);
        writeFileSync(path, JSON.stringify({ version: 3, deployment: { resources } }));
        return path;
    }

    it("is the report a run that keeps its results writes (stdout and --output), with the same exit code and messages", async () => {
        const bad = join(tmp, "streamed-bad.json");
        writeFileSync(bad, "{");
        const inputs = ["fixtures", stackOf(3, 2, "streamed-stack.json"), bad, "--org", "acme"];
        // One JSON report is written while checking; with a second report every result is kept first.
        const streamed = await check([...inputs, "--format", "json"]);
        const held = await check([...inputs, "--format", "json", "--sarif", join(tmp, "streamed.sarif")]);
        assert.equal(streamed.code, 2, streamed.err);
        assert.equal(held.code, streamed.code);
        assert.equal(streamed.out, held.out);
        const report = JSON.parse(streamed.out) as CheckReport;
        const mismatched = report.results.filter((r) => r.findings.some((f) => f.ruleId === "oidc-provider-audiences-match"));
        assert.deepEqual(
            mismatched.filter((r) => r.target.file.endsWith("streamed-stack.json")).map((r) => r.target.resource?.name),
            ["role-3", "role-4"],
        );
        const lines = (err: string) => err.split("\n").filter((l) => l !== "" && !/: wrote /.test(l)).sort();
        assert.deepEqual(lines(streamed.err), lines(held.err));
        assert.match(streamed.err, /skipped .*check-files\.json/);
        assert.match(streamed.err, /streamed-bad\.json: /);

        const out = join(tmp, "streamed-out.json");
        const toFile = await check([...inputs, "--format", "json", "--output", out]);
        assert.equal(toFile.code, streamed.code);
        assert.equal(toFile.out, "");
        assert.equal(readFileSync(out, "utf8"), streamed.out);
        const { pass, fail, unknown, error } = report.summary;
        assert.match(toFile.err, new RegExp(`wrote .*streamed-out\\.json \\(${report.results.length} results: ${pass} pass, ${fail} fail, ${unknown} unknown, ${error} error\\)`));
    });

    it("a stdout that closes after the first chunk stops the writing, not the check: a later violation still fails the run", async () => {
        const file = stackOf(300, 1, "streamed-head.json");
        let out = "";
        let gone = false;
        const io: CliIO = {
            stdout: {
                write: (s: OutputChunk) => {
                    out += textOf(s);
                    gone = true;
                    return true;
                },
                get destroyed() {
                    return gone;
                },
                isTTY: false,
            } as CliIO["stdout"],
            stderr: { write: () => true, isTTY: false },
            env: {},
            cwd: ROOT,
        };
        const code = await run(["check", file, "--org", "acme", "--format", "json"], io);
        // The first chunk holds a few passing roles; the failing one is the last of 301.
        assert.ok(out.length > 0 && !out.includes("role-300"), `${out.length} characters written`);
        assert.equal(code, 1);
    });

    it("writes nothing, and says so, when every file found is an earlier result", async () => {
        const dir = join(tmp, "streamed-only-results");
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, "earlier.json"), readFileSync(join(ROOT, "fixtures", "reports", "check-files.json")));
        const r = await check([dir, "--format", "json"]);
        assert.equal(r.code, 2);
        assert.equal(r.out, "");
        assert.match(r.err, /skipped .*earlier\.json[\s\S]*no inputs to check/);
    });
});

describe("oidc-guard check: report formats", () => {
    it("writes SARIF, JUnit, Markdown and HTML in one run, with line numbers from the checked files", async () => {
        const dir = mkdtempSync(join(tmpdir(), "oidc-guard-check-reports-"));
        try {
            const bad = "fixtures/trust-policies/bad/second-statement-loose.json";
            const r = await check([bad, "--org", "acme", "--sarif", join(dir, "out.sarif"), "--junit", join(dir, "out.xml"), "--markdown", join(dir, "summary.md"), "--html", join(dir, "report.html")]);
            assert.equal(r.code, 1);
            assert.match(r.out, /oidc-trust-sub-pinned/); // the text table still goes to stdout
            const sarif = JSON.parse(readFileSync(join(dir, "out.sarif"), "utf8")) as {
                version: string;
                runs: Array<{ results: Array<{ ruleId: string; locations: Array<{ physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }> }> }>;
            };
            assert.equal(sarif.version, "2.1.0");
            const result = sarif.runs[0]!.results.find((x) => x.ruleId === "oidc-trust-sub-pinned")!;
            const loc = result.locations[0]!.physicalLocation;
            assert.equal(loc.artifactLocation.uri, bad);
            // The statement the finding names starts on a line after the first.
            assert.ok(loc.region.startLine > 1, `line ${loc.region.startLine}`);
            assert.match(readFileSync(join(dir, "out.xml"), "utf8"), /<testsuites[\s\S]*<failure/);
            assert.match(readFileSync(join(dir, "summary.md"), "utf8"), /oidc-trust-sub-pinned/);
            assert.match(readFileSync(join(dir, "report.html"), "utf8"), /^<!DOCTYPE html>/i);
            assert.match(r.err, /wrote .*out\.sarif/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--format sarif prints SARIF on stdout; two reports on stdout are refused", async () => {
        const r = await check(["fixtures/trust-policies/good", "--format", "sarif"]);
        assert.equal(r.code, 0);
        assert.equal((JSON.parse(r.out) as { version: string }).version, "2.1.0");
        const two = await check(["fixtures/trust-policies/good", "--format", "sarif", "--markdown", "-"]);
        assert.equal(two.code, 2);
        assert.match(two.err, /more than one report would go to stdout/);
    });

    it("--markdown-max-kib bounds the Markdown report, and is refused without one", async () => {
        const whole = await check(["fixtures/trust-policies", "--org", "acme", "--format", "markdown"]);
        assert.ok(Buffer.byteLength(whole.out) > 4 * 1024, "the fixtures must exceed the limit for this test to mean anything");
        const r = await check(["fixtures/trust-policies", "--org", "acme", "--format", "markdown", "--markdown-max-kib", "4"]);
        assert.equal(r.code, 1);
        assert.ok(Buffer.byteLength(r.out) <= 4 * 1024, String(Buffer.byteLength(r.out)));
        assert.match(r.out, /would exceed 4 KiB/);
        const none = await check(["fixtures/trust-policies/good", "--markdown-max-kib", "64"]);
        assert.equal(none.code, 2);
        assert.match(none.err, /--markdown-max-kib limits Markdown output, and none is asked for/);
    });
});

describe("npm start demo", () => {
    it("checks the bundled fixtures, explains exit 1 and ends with 0", async () => {
        const c = capture();
        const code = await demo(c.io, ROOT);
        assert.equal(code, 0, c.err());
        assert.match(c.out(), /^\$ oidc-guard check fixtures\/trust-policies fixtures\/stacks fixtures\/preview fixtures\/aws --org acme\n/);
        assert.match(c.out(), /TARGET\s+VERDICT/);
        assert.match(c.out(), /oidc-guard check exited 1: some roles fail or cannot be decided/);
        assert.match(c.out(), /demo finished: exit status 0/);
    });
});

describe("oidc-guard check: inputs and outputs never overlap", () => {
    it("refuses a report output that is also an input (exit 2), and leaves the input untouched", async () => {
        const bad = file("overlap/bad.json", audOnlyPolicy());
        const good = file("overlap/good.json", pinnedPolicy());
        const original = readFileSync(bad, "utf8");
        const r = await check([bad, good, "--org", "acme", "--sarif", bad]);
        assert.equal(r.code, 2);
        assert.match(r.err, /bad\.json is both an input and a report output of this run/);
        assert.equal(readFileSync(bad, "utf8"), original);
        // The same file through a symbolic link, and as --output of the text table.
        symlinkSync(bad, join(tmp, "overlap", "alias.json"));
        const viaLink = await check([bad, "--org", "acme", "--output", join(tmp, "overlap", "alias.json")]);
        assert.equal(viaLink.code, 2);
        assert.equal(readFileSync(bad, "utf8"), original);
    });

    it("a directory walk checks a file that carries result keys beside a trust policy, and says which files it skipped", async () => {
        const dir = join(tmp, "walk-results");
        const disguised = { ...audOnlyPolicy(), tool: { name: "oidc-guard" }, results: [] };
        file("walk-results/disguised.json", disguised);
        file("walk-results/old-result.json", { tool: { name: "oidc-guard", version: "0.1.0" }, results: [], summary: {} });
        const r = await check([dir, "--org", "acme"]);
        assert.equal(r.code, 1, "the trust policy inside is checked and fails");
        assert.match(r.out, /walk-results\/disguised\.json\s+fail/);
        assert.match(r.out, /skipped .*walk-results\/old-result\.json: an oidc-guard check result/);
        assert.match(r.err, /skipped .*walk-results\/old-result\.json: an oidc-guard check result/);
        // A walk that meets this run's own output leaves it out and says so.
        const again = await check([dir, "--org", "acme", "--format", "json", "--output", join(dir, "old-result.json")]);
        assert.equal(again.code, 1);
        assert.match(again.err, /skipped .*old-result\.json: a report output of this run/);
    });
});

describe("oidc-guard check: hostile inputs", () => {
    it("bounds reads while reading: /dev/zero is refused at the limit, not read until memory runs out", async () => {
        const good = file("bounded/good.json", pinnedPolicy());
        const r = await check(["/dev/zero", good, "--org", "acme", "--max-input-mib", "1"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /\/dev\/zero: larger than the input limit of 1 MiB/);
        assert.match(r.out, /bounded\/good\.json\s+pass/);
        const usage = await check([good, "--max-input-mib", "0"]);
        assert.equal(usage.code, 2);
        assert.match(usage.err, /--max-input-mib must be a whole number of MiB from 1 to 4096/);
    });

    it("a file nested 100,000 levels deep fails on its own, named, and the rest of the run goes on", async () => {
        const deep = file("deep/deep.json", `{"Statement": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
        const good = file("deep/good.json", pinnedPolicy());
        const r = await checkJson([deep, good, "--org", "acme"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /deep\/deep\.json: too deeply nested to read: nested deeper than 512 levels at line 1 column 526/);
        const verdicts = Object.fromEntries(r.report.results.map((x) => [x.target.file.replace(/^.*\//, ""), x.verdict]));
        assert.deepEqual(verdicts, { "deep.json": "error", "good.json": "pass" });
        // Deep nesting inside a trust policy given as a JSON string (as stack exports and AWS listings hold it).
        const asString = file("deep/string.json", JSON.stringify(`{"Statement": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`));
        const s = await checkJson([asString, good, "--org", "acme"]);
        assert.equal(s.code, 1);
        const st = s.report.results.find((x) => x.target.file.endsWith("string.json"))!;
        assert.equal(st.verdict, "error");
        assert.match(st.findings[0]!.message, /nested deeper than 512 levels/);
    });

    it("invalid UTF-8 is a parse error naming the file (exit 2), never silently replaced", async () => {
        const p = join(tmp, "utf8", "latin1.json");
        mkdirSync(join(tmp, "utf8"), { recursive: true });
        writeFileSync(p, Buffer.concat([Buffer.from('{"Version": "2012-10-17", "Sid": "caf'), Buffer.from([0xe9]), Buffer.from('", "Statement": []}')]));
        const r = await checkJson([p, "--org", "acme"]);
        assert.equal(r.code, 2);
        assert.match(r.err, /utf8\/latin1\.json: not valid UTF-8 \(invalid byte sequence at byte 37\)/);
        assert.equal(r.report.results[0]!.verdict, "error");
    });

    it("an exact duplicate key in a trust policy is an error finding (object, JSON string, stack export)", async () => {
        const policy = JSON.stringify(audOnlyPolicy(), null, 2).replace(
            '"Condition": {',
            '"Condition": {"StringEquals": {"api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:a/b"}},\n        "Condition": {',
        );
        const asObject = file("dups/object.json", policy);
        const asString = file("dups/string.json", JSON.stringify(policy));
        const r = await checkJson([asObject, asString, "--org", "acme"]);
        assert.equal(r.code, 1);
        for (const res of r.report.results) {
            assert.equal(res.verdict, "error", res.target.file);
            assert.equal(res.findings[0]!.ruleId, "oidc-trust-document-valid");
            assert.match(res.findings[0]!.message, /key "Condition" appears twice in the same object \(Statement\[0\]\)/);
        }
        const ok = await checkJson([file("dups/clean.json", pinnedPolicy()), "--org", "acme"]);
        assert.equal(ok.code, 0);
    });

    it("--time-budget-ms bounds the analysis of each document and fails closed", async () => {
        const pat = (seed: string): string => Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "*?" : i % 3 === 1 ? "?*" : seed)).join("");
        const heavy = pinnedPolicy();
        heavy.Statement[0]!.Condition = {
            StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" },
            StringLike: { "api.pulumi.com/oidc:sub": Array.from({ length: 12 }, (_, i) => `pulumi:environments:org:acme:env:${pat(String.fromCharCode(97 + i))}`) },
        } as never;
        const r = await checkJson([file("budget/heavy.json", heavy), "--org", "acme", "--time-budget-ms", "50"]);
        assert.equal(r.code, 1);
        assert.equal(r.report.results[0]!.verdict, "error");
        assert.match(r.report.results[0]!.findings[0]!.message, /too complex to decide within 50 ms/);
        const config = file("budget/config.json", { "pulumi-oidc-role-trust-pinned": { organizations: ["acme"], timeBudgetMs: 50 } });
        const viaConfig = await checkJson([file("budget/heavy2.json", heavy), "--config", config]);
        assert.match(viaConfig.report.results[0]!.findings[0]!.message, /too complex to decide within 50 ms/);
        const badConfig = await check([file("budget/y.json", pinnedPolicy()), "--config", file("budget/bad-config.json", { "pulumi-oidc-role-trust-pinned": { timeBudgetMs: 0 } })]);
        assert.equal(badConfig.code, 2);
        assert.match(badConfig.err, /timeBudgetMs" must be a whole number of milliseconds from 1 to 600000/);
        const bad = await check([file("budget/x.json", pinnedPolicy()), "--time-budget-ms", "soon"]);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--time-budget-ms must be a whole number of milliseconds from 1 to 600000/);
    });
});
