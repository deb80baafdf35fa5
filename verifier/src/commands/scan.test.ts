/**
 * `oidc-guard scan aws` end to end against moto on a loopback port: roles and providers are created through the real
 * IAM API (AWS SDK), then the CLI runs as a child process with the standard credential chain (environment keys) and
 * AWS_ENDPOINT_URL_IAM / AWS_ENDPOINT_URL_STS pointing at moto (or at a fault-injecting proxy in front of it).
 * Argument errors are tested in-process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../../../fixtures/esc/credentials.js";
import { run } from "../cli.js";
import type { CliIO } from "../io.js";
import type { CheckReport } from "../results.js";
import { ensureMoto, MOTO_ACCOUNT, motoScanEnv, skipOrFail, startFaultProxy, startMoto, type MotoServer } from "../testing/moto.js";
import { textOf, type OutputChunk } from "../chunks.js";
import { generator, mutate, mutationSeed, type Json } from "oidc-guard-policypack/testing/mutate";
import { mutateXmlReply } from "../testing/rewrite.js";
import { assertSafe } from "../testing/safe-output.js";
import { captureIO, withProcessEnv } from "../testing/world.js";
import { runCli } from "../testing/cli.js";

const ROOT = join(__dirname, "..", "..", "..");
const CLI = join(ROOT, "verifier", "src", "cli.ts");
const OTHER_ACCOUNT = "111111111111";
const AUDIT_ROLE = (account: string): string => `arn:aws:iam::${account}:role/oidc-guard-audit`;
/** Long-lived caller keys (AWS's documentation example); moto maps any key it did not issue to 123456789012. */
const CALLER = { accessKeyId: STATIC_KEY_ID, secretAccessKey: FIXTURE_CREDENTIALS.secretAccessKey };
const ROLES_IN_CALLER = 250;

const tmp = mkdtempSync(join(tmpdir(), "oidc-guard-scan-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function trust(account: string, condition: Record<string, string> | undefined): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/api.pulumi.com/oidc` },
                Action: "sts:AssumeRoleWithWebIdentity",
                ...(condition ? { Condition: { StringEquals: condition } } : {}),
            },
        ],
    });
}

const PINNED = { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:infra/prod" };
const AUD_ONLY = { "api.pulumi.com/oidc:aud": "aws:acme" };
const SERVICE = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] });

/** The kind of the i-th role created in the caller's account, so the expected verdicts are known. */
function kindOf(i: number): "pinned" | "aud-only" | "service" {
    return i % 10 === 0 ? "aud-only" : i % 3 === 0 ? "service" : "pinned";
}

interface Spawned {
    code: number;
    out: string;
    err: string;
}

/** The environment of a scan of `endpoint` as the caller: no shared config files, no instance metadata. */
function scanEnv(endpoint: string): NodeJS.ProcessEnv {
    return motoScanEnv(endpoint, CALLER, tmp);
}

function scan(args: string[], endpoint: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<Spawned> {
    return new Promise((resolve, reject) => {
        // The repository as working directory, so that `--import tsx` resolves; every path passed is absolute.
        const child = spawn(process.execPath, ["--conditions=oidc-guard-source", "--import", "tsx", CLI, "scan", "aws", ...args], {
            cwd: ROOT,
            env: { PATH: process.env.PATH ?? "", ...scanEnv(endpoint), ...extraEnv },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
        child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
        const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code: code ?? -1, out, err });
        });
    });
}


describe("scan aws against moto", () => {
    let moto: MotoServer | undefined;
    let unavailable = "";

    before(async () => {
        const m = ensureMoto();
        if ("problem" in m) {
            unavailable = m.problem;
            return;
        }
        moto = await startMoto(m.server);
        const config = { region: "us-east-1", endpoint: moto.endpoint, credentials: CALLER };
        const iam = new IAMClient(config);
        await iam.send(new CreateOpenIDConnectProviderCommand({ Url: "https://api.pulumi.com/oidc", ClientIDList: ["aws:acme"], ThumbprintList: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] }));
        for (let start = 0; start < ROLES_IN_CALLER; start += 25) {
            await Promise.all(
                Array.from({ length: Math.min(25, ROLES_IN_CALLER - start) }, (_, k) => {
                    const i = start + k;
                    const kind = kindOf(i);
                    const doc = kind === "service" ? SERVICE : trust(MOTO_ACCOUNT, kind === "pinned" ? PINNED : AUD_ONLY);
                    return iam.send(new CreateRoleCommand({ RoleName: `role-${String(i).padStart(3, "0")}`, AssumeRolePolicyDocument: doc }));
                }),
            );
        }
        iam.destroy();
        // The second account: reached, as the scan does, with credentials from sts:AssumeRole into it.
        const sts = new STSClient(config);
        const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: AUDIT_ROLE(OTHER_ACCOUNT), RoleSessionName: "setup" }));
        sts.destroy();
        const c = assumed.Credentials!;
        const other = new IAMClient({
            ...config,
            credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
        });
        await other.send(new CreateOpenIDConnectProviderCommand({ Url: "https://api.pulumi.com/oidc", ClientIDList: ["aws:acme", "aws:evil"], ThumbprintList: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] }));
        await other.send(new CreateRoleCommand({ RoleName: "other-pinned", AssumeRolePolicyDocument: trust(OTHER_ACCOUNT, PINNED) }));
        await other.send(new CreateRoleCommand({ RoleName: "other-aud-only", AssumeRolePolicyDocument: trust(OTHER_ACCOUNT, AUD_ONLY) }));
        other.destroy();
    });
    after(async () => {
        await moto?.stop();
    });

    it("lists every role across ListRoles pages and every provider, and checks them like check", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const sarifFile = join(tmp, "scan.sarif");
        const r = await scan(["--org", "acme", "--format", "json", "--sarif", sarifFile], moto.endpoint);
        assert.equal(r.code, 1, r.err);
        const report = JSON.parse(r.out) as CheckReport;
        const roles = report.results.filter((x) => x.target.resource?.type === "AWS::IAM::Role");
        // 250 roles need three ListRoles pages of 100.
        assert.equal(roles.length, ROLES_IN_CALLER);
        for (const x of roles) {
            assert.equal(x.target.file, `aws://${MOTO_ACCOUNT}`);
            const i = Number(x.target.resource!.name.slice("role-".length));
            const expected = kindOf(i) === "aud-only" ? "fail" : "pass";
            assert.equal(x.verdict, expected, x.target.resource!.name);
            if (expected === "fail") assert.equal(x.findings[0]!.ruleId, "oidc-trust-sub-pinned");
        }
        const providers = report.results.filter((x) => x.target.resource?.type === "AWS::IAM::OIDCProvider");
        assert.deepEqual(providers.map((p) => [p.target.resource!.urn, p.verdict]), [[`arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/api.pulumi.com/oidc`, "pass"]]);
        assert.equal(report.summary.fail, ROLES_IN_CALLER / 10);
        const sarif = JSON.parse(readFileSync(sarifFile, "utf8")) as { runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
        assert.equal(sarif.runs[0]!.results.length, ROLES_IN_CALLER / 10);
        assert.equal(sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri, `aws://${MOTO_ACCOUNT}`);
        for (const text of [r.out, r.err, readFileSync(sarifFile, "utf8")]) {
            assert.ok(!text.includes(CALLER.secretAccessKey) && !text.includes(CALLER.accessKeyId));
        }
    });

    it("reaches a second account through --assume-role; an account that cannot be read is reported with exit 3", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const denied = AUDIT_ROLE("222222222222");
        const proxy = await startFaultProxy(moto.endpoint, { throttleListRoles: 0, denyAssumeRole: new Set([denied]) });
        try {
            const roleFile = join(tmp, "roles.txt");
            writeFileSync(roleFile, `# audit roles\n${AUDIT_ROLE(OTHER_ACCOUNT)}\n\n${denied}  # not allowed\n`);
            const r = await scan(["--org", "acme", "--format", "json", "--assume-role-file", roleFile, "--concurrency", "2"], proxy.endpoint);
            assert.equal(r.code, 3, r.err);
            const report = JSON.parse(r.out) as CheckReport;
            const other = report.results.filter((x) => x.target.file === `aws://${OTHER_ACCOUNT}`);
            assert.deepEqual(
                other.map((x) => [x.target.resource!.name, x.verdict]).sort(),
                [
                    // aws:evil is not an audience of acme.
                    ["api.pulumi.com/oidc", "fail"],
                    ["other-aud-only", "fail"],
                    ["other-pinned", "pass"],
                ],
            );
            const bad = report.results.find((x) => x.target.file === "aws://222222222222")!;
            assert.equal(bad.verdict, "error");
            assert.match(bad.notes![0]!, /sts:AssumeRole arn:aws:iam::222222222222:role\/oidc-guard-audit: AccessDenied/);
            assert.match(r.err, /aws:\/\/222222222222 \(through arn:aws:iam::222222222222:role\/oidc-guard-audit\): cannot read: .*AccessDenied/);
            // No caller-account roles: with --assume-role only the named accounts are scanned.
            assert.ok(!report.results.some((x) => x.target.file === `aws://${MOTO_ACCOUNT}`));
        } finally {
            await proxy.stop();
        }
    });

    it("retries throttled ListRoles with the SDK's standard retry strategy", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const proxy = await startFaultProxy(moto.endpoint, { throttleListRoles: 2, denyAssumeRole: new Set() });
        try {
            const r = await scan(["--org", "acme", "--format", "json", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT)], proxy.endpoint);
            assert.equal(r.code, 1, r.err);
            assert.equal(proxy.throttled(), 2);
            const report = JSON.parse(r.out) as CheckReport;
            assert.equal(report.results.length, 3);
        } finally {
            await proxy.stop();
        }
        // With a single attempt the same throttling makes the account unreadable (exit 3), not a pass.
        const proxy2 = await startFaultProxy(moto.endpoint, { throttleListRoles: 1, denyAssumeRole: new Set() });
        try {
            const r = await scan(["--org", "acme", "--max-attempts", "1", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT)], proxy2.endpoint);
            assert.equal(r.code, 3);
            assert.match(r.err, /iam:ListRoles: Throttling: Rate exceeded/);
        } finally {
            await proxy2.stop();
        }
    });

    it("shows a progress line on a terminal only, and clears it at the end", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        // In-process, so that stderr can be a terminal: the SDK reads the endpoint and keys from process.env.
        await withProcessEnv(scanEnv(moto.endpoint), async () => {
            for (const tty of [true, false]) {
                let out = "";
                let err = "";
                const io: CliIO = {
                    stdout: { write: (s: OutputChunk) => (out += textOf(s)), isTTY: false },
                    stderr: { write: (s: string) => (err += s), isTTY: tty },
                    env: {},
                    cwd: tmp,
                };
                const code = await run(["scan", "aws", "--org", "acme", "--format", "json", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT)], io);
                assert.equal(code, 1);
                assert.equal((JSON.parse(out) as CheckReport).results.length, 3);
                if (tty) {
                    const clear = "\r\u001b[2K";
                    assert.ok(err.startsWith(`${clear}scan aws: `), JSON.stringify(err));
                    assert.ok(err.endsWith(clear), JSON.stringify(err));
                    assert.match(err.split(clear).filter((x) => x !== "").pop() ?? "", /^scan aws: 1\/1 account read, \d+ requests$/);
                } else {
                    assert.equal(err, "");
                }
            }
        });
    });

    it("--profile reads the keys of a named profile from the shared credentials file", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const credentialsFile = join(tmp, "profile-credentials");
        writeFileSync(credentialsFile, `[default]\n[audit]\naws_access_key_id = ${CALLER.accessKeyId}\naws_secret_access_key = ${CALLER.secretAccessKey}\n`);
        const env = { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_SHARED_CREDENTIALS_FILE: credentialsFile };
        const withProfile = await scan(["--org", "acme", "--profile", "audit", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT), "--format", "json"], moto.endpoint, env);
        assert.equal(withProfile.code, 1, withProfile.err);
        assert.equal((JSON.parse(withProfile.out) as CheckReport).results.length, 3);
        // Without it the default profile has no keys: the account cannot be read.
        const without = await scan(["--org", "acme", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT)], moto.endpoint, env);
        assert.equal(without.code, 3);
    });

    it("stops an account whose ListRoles never ends (exit 3), instead of reading forever", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const proxy = await startFaultProxy(moto.endpoint, { throttleListRoles: 0, denyAssumeRole: new Set(), endlessListRoles: true });
        try {
            const r = await scan(["--org", "acme"], proxy.endpoint);
            assert.equal(r.code, 3);
            assert.match(r.err, /cannot read: iam:ListRoles: more than 200 pages/);
        } finally {
            await proxy.stop();
        }
    });

    it("survives IAM and STS answers mutated on the wire, in every format, in-process", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        // One answer of each case is rewritten between the SDK and moto: the AssumeRole into the other account, its
        // GetCallerIdentity, ListRoles, ListOpenIDConnectProviders or GetOpenIDConnectProvider.
        const elements: Record<string, readonly string[]> = {
            AssumeRole: ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"],
            GetCallerIdentity: ["Arn", "Account", "UserId"],
            ListRoles: ["RoleName", "Arn", "Path", "AssumeRolePolicyDocument", "RoleId", "IsTruncated", "CreateDate", "MaxSessionDuration"],
            ListOpenIDConnectProviders: ["Arn"],
            GetOpenIDConnectProvider: ["Url", "member", "CreateDate"],
        };
        const actions = Object.keys(elements);
        const random = generator(mutationSeed() + 4);
        // A trust policy, as ListRoles sends it (URL-encoded JSON), mutated as the check inputs are.
        const policy = (element: string, text: string): string | undefined => {
            if (element !== "AssumeRolePolicyDocument" || random() < 0.3) return undefined;
            try {
                return encodeURIComponent(JSON.stringify(mutate(JSON.parse(decodeURIComponent(text)) as Json, random)));
            } catch {
                return undefined;
            }
        };
        const secrets = new Set([CALLER.secretAccessKey]);
        let pending: string | undefined;
        const proxy = await startFaultProxy(moto.endpoint, {
            throttleListRoles: 0,
            denyAssumeRole: new Set(),
            rewrite: (action, xml, status) => {
                // Every secret moto issues, for the no-leak assertion below.
                for (const m of xml.matchAll(/<(?:SecretAccessKey|SessionToken)>([^<]+)</g)) secrets.add(m[1]!);
                if (action !== pending) return undefined;
                pending = undefined;
                return mutateXmlReply(xml, status, elements[action]!, random, policy);
            },
        });
        // In-process, the AWS SDK reads its credentials and endpoints from process.env (this file's own process).
        try {
            await withProcessEnv(scanEnv(proxy.endpoint), async () => {
                const formats = ["text", "json", "sarif", "junit", "markdown", "html"];
                const codes = new Map<number, number>();
                for (let i = 0; i < 30; i++) {
                    pending = actions[i % actions.length]!;
                    const format = formats[i % formats.length]!;
                    const io = captureIO(process.env, { cwd: tmp });
                    const code = await run(["scan", "aws", "--org", "acme", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT), "--max-attempts", "2", "--timeout", "20", "--format", format], io);
                    const r = { code, out: io.out.join(""), err: io.err.join("") };
                    const what = `seed ${mutationSeed() + 4}, case ${i} (the ${actions[i % actions.length]!} answer rewritten, --format ${format})`;
                    assertSafe(what, format, r, [0, 1, 3]);
                    assert.doesNotMatch(r.err, /Deserialization error|\$response|@aws-sdk/, `${what}: the SDK's advice to developers on stderr`);
                    assert.equal(pending, undefined, `${what}: the answer was never asked for`);
                    for (const secret of secrets) assert.ok(!r.out.includes(secret) && !r.err.includes(secret), `${what}: a secret in the output`);
                    codes.set(code, (codes.get(code) ?? 0) + 1);
                }
                // Some mutations leave what scan reads intact or make a finding (0, 1), some make the account unreadable (3).
                assert.ok((codes.get(1) ?? 0) > 0 && (codes.get(3) ?? 0) > 0, `exit codes: ${JSON.stringify([...codes])}`);
            });
        } finally {
            await proxy.stop();
        }
    });

    it("says why an answer could not be read; refuses AssumeRole credentials not of AWS's shape, or of another account", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const answers: [string, (xml: string) => string, RegExp][] = [
            ["ListRoles", (x) => x.slice(0, 200), /cannot read: iam:ListRoles: the response could not be read \(HTTP 200\): XML parse error: /],
            ["ListRoles", () => "<a>".repeat(100_000), /cannot read: iam:ListRoles: the response could not be read \(HTTP 200\): nested too deep to parse/],
            ["AssumeRole", (x) => x.replace(/<AccessKeyId>([^<]*)</, "<AccessKeyId>$1&#x1b;[31m<"), /sts:AssumeRole \S+: the response's credentials are not a valid access key id: it contains a control character \(U\+001B\)/],
            ["AssumeRole", (x) => x.replace(/<SessionToken>([^<]*)</, "<SessionToken>$1 x<"), /sts:AssumeRole \S+: the response's credentials are not a valid session token: \d+ characters, not all of them/],
            [
                "GetCallerIdentity",
                (x) => x.replace(new RegExp(OTHER_ACCOUNT, "g"), "222222222222"),
                /sts:GetCallerIdentity: the credentials from sts:AssumeRole arn:aws:iam::111111111111:role\/oidc-guard-audit belong to account 222222222222, not 111111111111/,
            ],
        ];
        for (const [action, rewrite, message] of answers) {
            let used = false;
            const proxy = await startFaultProxy(moto.endpoint, {
                throttleListRoles: 0,
                denyAssumeRole: new Set(),
                rewrite: (a, xml) => {
                    if (a !== action || used) return undefined;
                    used = true;
                    return { body: rewrite(xml) };
                },
            });
            try {
                const r = await scan(["--org", "acme", "--assume-role", AUDIT_ROLE(OTHER_ACCOUNT), "--max-attempts", "1"], proxy.endpoint);
                assert.equal(r.code, 3, r.err);
                assert.ok(used, action);
                assert.match(r.err, message);
            } finally {
                await proxy.stop();
            }
        }
    });

    it("an endpoint that does not answer in time makes the account unreadable within the bound", async (t) => {
        if (!moto) return skipOrFail(t, unavailable);
        const { createServer } = await import("node:net");
        const silent = createServer(() => {}); // accepts connections, never answers
        await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
        const address = silent.address();
        const port = typeof address === "object" && address ? address.port : 0;
        try {
            const r = await scan(["--timeout", "1", "--max-attempts", "1"], `http://127.0.0.1:${port}`);
            assert.equal(r.code, 3);
            assert.match(r.err, /aws:\/\/caller \(the caller's account\): cannot read: sts:GetCallerIdentity/);
        } finally {
            silent.close();
        }
    });
});

describe("scan aws arguments", () => {
    it("refuses what it cannot do with exit 2 and a message naming the input", async () => {
        assert.match((await runCli(["scan", "gcp"], tmp)).err, /'gcp' is not a cloud oidc-guard can scan/);
        assert.equal((await runCli(["scan"], tmp)).code, 2);
        const bad = await runCli(["scan", "aws", "--assume-role", "arn:aws:iam::12345:role/x"], tmp);
        assert.equal(bad.code, 2);
        assert.match(bad.err, /--assume-role: 'arn:aws:iam::12345:role\/x' is not an IAM role ARN/);
        const file = join(tmp, "bad-roles.txt");
        writeFileSync(file, `${AUDIT_ROLE(OTHER_ACCOUNT)}\nnot-an-arn\n`);
        assert.match((await runCli(["scan", "aws", "--assume-role-file", file], tmp)).err, /bad-roles\.txt line 2: 'not-an-arn' is not an IAM role ARN/);
        assert.match((await runCli(["scan", "aws", "--assume-role-file", join(tmp, "missing.txt")], tmp)).err, /cannot read: no such file or directory/);
        assert.match((await runCli(["scan", "aws", "--concurrency", "0"], tmp)).err, /--concurrency must be a whole number from 1 to 32/);
        assert.match((await runCli(["scan", "aws", "--region", "moon"], tmp)).err, /--region 'moon' is not an AWS region name/);
        assert.match((await runCli(["scan", "aws", "--access-key", "x"], tmp)).err, /unknown option '--access-key'/);
    });

    it("help names the calls it makes and the exit code of an unreadable account", async () => {
        const r = await runCli(["scan", "aws", "--help"], tmp);
        assert.equal(r.code, 0);
        assert.match(r.out, /iam:ListRoles, iam:ListOpenIDConnectProviders, iam:GetOpenIDConnectProvider/);
        assert.match(r.out, /3 {2}at least one account could not be read/);
    });
});
