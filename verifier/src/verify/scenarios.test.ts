/**
 * Every scenario of the issue, through the real clients (@pulumi/esc-sdk over axios, @aws-sdk/client-sts) over
 * real HTTP, against the stand-ins on 127.0.0.1 (random ports, a self-hosted path prefix). Most run in-process
 * through the CLI dispatcher (`run(["verify", ...], io)`, exactly what bin/cli.js does); one group spawns the
 * compiled CLI. The last test checks that no secret appeared in any output of any scenario.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import Ajv from "ajv";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { run } from "../cli.js";
import type { VerifyBatchReport, VerifyReport } from "../results.js";
import { captureIO, ORG, ROLE_DEPLOY, ROLE_UNPINNED, CI_USER, startWorld, type World } from "../testing/world.js";

const root = join(__dirname, "..", "..", "..");
const schema = JSON.parse(readFileSync(join(root, "verifier", "schemas", "verify-result.schema.json"), "utf8")) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

interface Ran {
    code: number;
    stdout: string;
    stderr: string;
    ms: number;
}

/** Every output of every scenario, for the no-leak test. */
const outputs: { name: string; text: string }[] = [];
/** Every token that was put in an environment. */
const tokens = new Set<string>();

let world: World;

async function verify(name: string, argv: string[], env: NodeJS.ProcessEnv = world.env, opts: { tty?: boolean; cwd?: string } = {}): Promise<Ran> {
    if (env.PULUMI_ACCESS_TOKEN) tokens.add(env.PULUMI_ACCESS_TOKEN);
    const io = captureIO(env, opts);
    const t0 = Date.now();
    const code = await run(["verify", ...argv], io);
    const r = { code, stdout: io.out.join(""), stderr: io.err.join(""), ms: Date.now() - t0 };
    outputs.push({ name: `${name} (stdout)`, text: r.stdout }, { name: `${name} (stderr)`, text: r.stderr });
    return r;
}

function json(r: Ran): VerifyReport {
    const v = JSON.parse(r.stdout) as VerifyReport;
    assert.ok(validate(v), `schema: ${JSON.stringify(validate.errors)}`);
    return v;
}

function check(r: VerifyReport, id: string): { status: string; detail: string } {
    const c = r.checks.find((x) => x.id === id);
    assert.ok(c, `no check ${id} in ${r.checks.map((x) => x.id).join(", ")}`);
    return c;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
}

describe("oidc-guard verify: scenarios against the ESC and STS stand-ins", () => {
    before(async () => {
        world = await startWorld();
    });
    after(async () => {
        await world.close();
    });

    it("verified: opens, temporary credentials in both places, STS says the expected role (one open, one read, one STS call)", async () => {
        const opens = world.esc.count("open", "platform/prod");
        const reads = world.esc.count("read", "platform/prod");
        const stsCalls = world.sts.requests.length;
        const r = await verify("verified", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(r.code, 0, r.stderr);
        const v = json(r);
        assert.equal(v.verdict, "verified");
        assert.deepEqual(
            v.checks.map((c) => [c.id, c.status]),
            [
                ["environment-opens", "pass"],
                ["credentials-present", "pass"],
                ["credentials-agree", "pass"],
                ["credentials-temporary", "pass"],
                ["credentials-secret", "pass"],
                ["credentials-expiry", "skip"],
                ["sts-caller-identity", "pass"],
                ["expected-role", "pass"],
            ],
        );
        assert.match(v.callerIdentity?.arn ?? "", /^arn:aws:sts::123456789012:assumed-role\/esc-deploy\/pulumi-environments-session$/);
        assert.deepEqual(v.expectedRole, { arn: ROLE_DEPLOY, source: "definition" });
        assert.match(v.accessKeyId ?? "", /^ASIA…[A-Z2-7]{4}$/);
        assert.equal(v.sts, "called");
        assert.equal(world.esc.count("open", "platform/prod") - opens, 1);
        assert.equal(world.esc.count("read", "platform/prod") - reads, 1);
        assert.equal(world.sts.requests.length - stsCalls, 1);
        assert.equal(world.sts.requests.at(-1)?.status, 200, "the STS stand-in accepted the SigV4 signature");
    });

    it("verified, text output: verdict, caller identity and a shortened key id", async () => {
        const r = await verify("verified-text", [`${ORG}/platform/prod`, "--role-arn", ROLE_DEPLOY]);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^acme\/platform\/prod: VERIFIED/);
        assert.match(r.stdout, /caller identity: arn:aws:sts::123456789012:assumed-role\/esc-deploy\//);
        assert.match(r.stdout, /expected role: {3}arn:aws:iam::123456789012:role\/esc-deploy \(from option\)/);
        assert.match(r.stdout, /access key id: {3}ASIA…[A-Z2-7]{4}\n/);
    });

    it("static keys: an AKIA user key fails 'temporary', and STS reports a user, not an assumed role", async () => {
        const r = await verify("static", [`${ORG}/platform/static`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(v.verdict, "failed");
        assert.equal(check(v, "credentials-temporary").status, "fail");
        assert.match(check(v, "credentials-temporary").detail, /long-lived IAM user access key \(AKIA…/);
        assert.equal(check(v, "sts-caller-identity").status, "fail");
        assert.match(check(v, "sts-caller-identity").detail, /not an assumed role/);
        assert.equal(v.callerIdentity?.arn, CI_USER);
    });

    it("missing session token: the variables omit AWS_SESSION_TOKEN; STS refuses the key without it", async () => {
        const r = await verify("missing-session-token", [`${ORG}/platform/missing-session-token`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(check(v, "credentials-temporary").status, "fail");
        assert.match(check(v, "credentials-temporary").detail, /AWS_SESSION_TOKEN is missing/);
        assert.equal(check(v, "credentials-agree").status, "fail");
        assert.equal(check(v, "sts-caller-identity").status, "fail");
        assert.match(check(v, "sts-caller-identity").detail, /InvalidClientTokenId/);
        assert.equal(v.callerIdentity, null);
    });

    it("stale secret pasted in the variables: they disagree with aws-login, and STS's refusal text carries no credential", async () => {
        const r = await verify("stale-secret", [`${ORG}/platform/stale-secret`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(check(v, "credentials-agree").status, "fail");
        assert.match(check(v, "credentials-agree").detail, /disagree on AWS_SECRET_ACCESS_KEY\/secretAccessKey/);
        assert.equal(check(v, "sts-caller-identity").status, "fail");
        assert.match(check(v, "sts-caller-identity").detail, /STS refused the credentials \(ASIA…[A-Z2-7]{4}\): SignatureDoesNotMatch: The request signature we calculated does not match/);
        assert.doesNotMatch(check(v, "sts-caller-identity").detail, /Canonical/);
    });

    it("AWS login denied: HTTP 400 on open, diagnostics as <env>:<line>:<col>: <summary> with the sub-pinning hint", async () => {
        const r = await verify("denied", [`${ORG}/platform/denied`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(v.verdict, "failed");
        assert.equal(check(v, "environment-opens").detail, "HTTP 400: failed to open environment: AWS refused AssumeRoleWithWebIdentity for this environment's token (1 diagnostic, with hints where known)");
        assert.equal(v.diagnostics?.length, 1);
        const d = v.diagnostics?.[0];
        assert.match(d?.message ?? "", /^platform\/denied:4:7: WebIdentityErr: failed to retrieve credentials \| caused by: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity/);
        assert.match(d?.hint ?? "", /api\.pulumi\.com\/oidc:sub = pulumi:environments:org:acme:env:platform\/denied/);
        assert.ok(v.checks.filter((c) => c.id !== "environment-opens").every((c) => c.status === "skip"));
        const text = await verify("denied-text", [`${ORG}/platform/denied`]);
        assert.match(text.stdout, /diagnostics:\n {2}platform\/denied:4:7: WebIdentityErr/);
        assert.match(text.stdout, /\n {4}hint: the role's trust policy does not admit/);
    });

    it("MaxSessionDuration mismatch: the diagnostic gets its own hint", async () => {
        const r = await verify("too-long", [`${ORG}/platform/too-long`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.match(v.diagnostics?.[0]?.message ?? "", /DurationSeconds exceeds the MaxSessionDuration/);
        assert.match(v.diagnostics?.[0]?.hint ?? "", /MaxSessionDuration/);
    });

    it("wrong role: the credentials work but belong to another role than --role-arn", async () => {
        const r = await verify("wrong-role", [`${ORG}/platform/other-role`, "--role-arn", ROLE_DEPLOY, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(check(v, "sts-caller-identity").status, "pass");
        assert.equal(check(v, "expected-role").status, "fail");
        assert.match(check(v, "expected-role").detail, /expected role arn:aws:iam::123456789012:role\/esc-deploy \(from --role-arn\), but the credentials belong to arn:aws:sts::123456789012:assumed-role\/esc-other\//);
    });

    it("expect-denied got in: an aud-only role lets the other environment in, which fails the check", async () => {
        const r = await verify("expect-denied-got-in", [`${ORG}/platform/unpinned-prod`, "--expect-denied", `${ORG}/platform/unpinned-dev`, "--format", "json"]);
        assert.equal(r.code, 1);
        const v = json(r);
        assert.equal(check(v, "sts-caller-identity").status, "pass");
        const c = check(v, "expect-denied:acme/platform/unpinned-dev");
        assert.equal(c.status, "fail");
        assert.match(c.detail, /got in: it received credentials \(ASIA…[A-Z2-7]{4}\) as arn:aws:sts::123456789012:assumed-role\/esc-unpinned\//);
        assert.match(c.detail, /pin api\.pulumi\.com\/oidc:sub with StringEquals to pulumi:environments:org:acme:env:platform\/unpinned-prod/);
        assert.equal(v.expectedRole?.arn, ROLE_UNPINNED);
    });

    it("expect-denied refused: the pinned role refuses the other environment, which passes the check", async () => {
        const r = await verify("expect-denied-refused", [`${ORG}/platform/prod`, "--expect-denied", `${ORG}/platform/dev`, "--format", "json"]);
        assert.equal(r.code, 0, r.stdout);
        const v = json(r);
        const c = check(v, "expect-denied:acme/platform/dev");
        assert.equal(c.status, "pass");
        assert.match(c.detail, /^refused as expected: platform\/dev:4:7: WebIdentityErr/);
    });

    it("401: a rejected token means 'could not verify' (exit 3), with a hint and without the token", async () => {
        const bad = `pul-${"0".repeat(40)}`;
        const r = await verify("401", [`${ORG}/platform/prod`, "--format", "json"], { ...world.env, PULUMI_ACCESS_TOKEN: bad });
        assert.equal(r.code, 3);
        const v = json(r);
        assert.equal(v.verdict, "error");
        assert.equal(v.error?.kind, "unauthorized");
        assert.match(check(v, "environment-opens").detail, /^could not verify: opening acme\/platform\/prod: HTTP 401 Unauthorized.*hint: PULUMI_ACCESS_TOKEN is missing, expired or revoked/);
    });

    it("404: an environment that does not exist", async () => {
        const r = await verify("404", [`${ORG}/platform/nope`, "--format", "json"]);
        assert.equal(r.code, 3);
        const v = json(r);
        assert.equal(v.error?.kind, "not-found");
        assert.match(v.error?.message ?? "", /HTTP 404 Environment 'platform\/nope' not found/);
    });

    it("429 then OK: open is retried after honouring Retry-After", async () => {
        world.esc.addFault({ route: "open", env: "platform/prod", status: 429, retryAfter: "1" });
        const opens = world.esc.count("open", "platform/prod");
        const r = await verify("429", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(r.code, 0, r.stdout);
        assert.equal(world.esc.count("open", "platform/prod") - opens, 2);
        assert.ok(r.ms >= 900, `waited ${r.ms} ms for Retry-After: 1`);
    });

    it("503 on read then OK: the GET is retried with backoff", async () => {
        world.esc.addFault({ route: "read", env: "platform/prod", status: 503 });
        const reads = world.esc.count("read", "platform/prod");
        const r = await verify("503-read", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(r.code, 0, r.stdout);
        assert.equal(world.esc.count("read", "platform/prod") - reads, 2);
    });

    it("503 on open: never blindly re-POSTed, so could not verify", async () => {
        world.esc.addFault({ route: "open", env: "platform/prod", status: 503 });
        const opens = world.esc.count("open", "platform/prod");
        const r = await verify("503-open", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(r.code, 3);
        assert.equal(world.esc.count("open", "platform/prod") - opens, 1);
        assert.equal(json(r).error?.kind, "server");
    });

    it("timeout: a slow open ends at the overall deadline (--timeout 1) with exit 3", async () => {
        world.esc.addFault({ route: "open", env: "platform/prod", delayMs: 5000 });
        const r = await verify("timeout", [`${ORG}/platform/prod`, "--timeout", "1", "--format", "json"]);
        assert.equal(r.code, 3);
        assert.ok(r.ms < 2500, `took ${r.ms} ms`);
        const v = json(r);
        assert.equal(v.error?.kind, "timeout");
    });

    it("unreachable: connection refused is 'could not verify', named as such", async () => {
        const port = await closedPort();
        const r = await verify("unreachable", [`${ORG}/platform/prod`, "--timeout", "2", "--format", "json"], { ...world.env, PULUMI_BACKEND_URL: `http://127.0.0.1:${port}` });
        assert.equal(r.code, 3);
        const v = json(r);
        assert.equal(v.error?.kind, "unreachable");
        assert.match(v.error?.message ?? "", /connection refused at 127\.0\.0\.1:\d+/);
    });

    it("missing token: a configuration error (exit 2) before any request", async () => {
        const env = { ...world.env };
        delete env.PULUMI_ACCESS_TOKEN;
        const before = world.esc.requests.length;
        const r = await verify("missing-token", [`${ORG}/platform/prod`], env);
        assert.equal(r.code, 2);
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /^oidc-guard verify: PULUMI_ACCESS_TOKEN is not set\nhint: /);
        assert.equal(world.esc.requests.length, before);
    });

    it("bad backend URL: a configuration error (exit 2) naming the variable", async () => {
        for (const url of ["ftp://pulumi.example.com", "not a url", "https://user:hunter2hunter2@pulumi.example.com"]) {
            const r = await verify(`bad-backend ${url}`, [`${ORG}/platform/prod`], { ...world.env, PULUMI_BACKEND_URL: url });
            assert.equal(r.code, 2, url);
            assert.match(r.stderr, /PULUMI_BACKEND_URL/);
            assert.doesNotMatch(r.stderr, /hunter2/);
        }
    });

    it("usage errors exit 2: unknown flag, bad format, bad duration, bad reference, a token in argv", async () => {
        const cases: [string[], RegExp][] = [
            [[`${ORG}/platform/prod`, "--frobnicate"], /^oidc-guard verify: unknown option '--frobnicate'\nhint: run 'oidc-guard verify --help' for the options/],
            [[`${ORG}/platform/prod`, "--format", "xml"], /unknown --format 'xml': expected one of text, json, junit/],
            [[`${ORG}/platform/prod`, "--duration", "forever"], /--duration 'forever' is not a positive Go duration/],
            [["acme/prod"], /is not of the form <org>\/<project>\/<env>/],
            [[`${ORG}/platform/prod`, "--expect-denied", "x"], /--expect-denied 'x' is not of the form/],
            [[`${ORG}/platform/prod`, "--role-arn", "esc-deploy"], /--role-arn 'esc-deploy' is not an IAM role ARN/],
            [[], /no environment given/],
            [[`${ORG}/platform/prod`, world.token], /an argument looks like a Pulumi access token/],
        ];
        for (const [argv, re] of cases) {
            const r = await verify(`usage ${argv.join(" ")}`, argv);
            assert.equal(r.code, 2, argv.join(" "));
            assert.match(r.stderr, re);
        }
    });

    it("--no-sts: no STS call, and the result says so", async () => {
        const calls = world.sts.requests.length;
        const r = await verify("no-sts", [`${ORG}/platform/prod`, "--no-sts", "--format", "json"]);
        assert.equal(r.code, 0);
        const v = json(r);
        assert.equal(v.sts, "skipped");
        assert.equal(check(v, "sts-caller-identity").status, "skip");
        assert.match(check(v, "sts-caller-identity").detail, /^--no-sts/);
        assert.equal(world.sts.requests.length, calls);
    });

    it("--stack-outputs: role and environment from `pulumi stack output --json`", async () => {
        const dir = mkdtempSync(join(tmpdir(), "oidc-guard-verify-"));
        try {
            writeFileSync(join(dir, "outputs.json"), JSON.stringify({ roleArn: ROLE_DEPLOY, escEnvironments: [`${ORG}/platform/prod`], providerArn: "x" }));
            const r = await verify("stack-outputs", ["--stack-outputs", "outputs.json", "--format", "json"], world.env, { cwd: dir });
            assert.equal(r.code, 0, r.stderr);
            const v = json(r);
            assert.deepEqual(v.expectedRole, { arn: ROLE_DEPLOY, source: "stack-outputs" });
            const missing = await verify("stack-outputs-missing-key", ["--stack-outputs", "outputs.json", "--role-arn-output", "role"], world.env, { cwd: dir });
            assert.equal(missing.code, 2);
            assert.match(missing.stderr, /no output 'role' \(--role-arn-output\)\nhint: outputs present: roleArn, escEnvironments, providerArn/);
            const before = readFileSync(join(dir, "outputs.json"), "utf8");
            const clash = await verify("stack-outputs-clash", ["--stack-outputs", "outputs.json", "--json", "./outputs.json"], world.env, { cwd: dir });
            assert.equal(clash.code, 2);
            assert.match(clash.stderr, /outputs\.json is both the --stack-outputs file and a report output/);
            assert.equal(readFileSync(join(dir, "outputs.json"), "utf8"), before);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("--all: lists the organization, verifies the aws-login environments with bounded concurrency, one summary", async () => {
        world.inFlight.reset();
        const r = await verify("all-json", ["--all", ORG, "--concurrency", "3", "--format", "json"]);
        assert.equal(r.code, 1);
        const b = JSON.parse(r.stdout) as VerifyBatchReport;
        assert.ok(validate(b), JSON.stringify(validate.errors));
        assert.equal(b.results.length, 10);
        assert.deepEqual(b.skipped, [{ environment: "acme/platform/no-aws", reason: "its definition opens no aws-login" }]);
        const byEnv = Object.fromEntries(b.results.map((x) => [x.environment, x.verdict]));
        assert.equal(byEnv["acme/platform/prod"], "verified");
        assert.equal(byEnv["acme/platform/static"], "failed");
        assert.equal(byEnv["acme/platform/denied"], "failed");
        assert.deepEqual(b.summary, { verified: 4, failed: 6, error: 0 });
        assert.ok(world.inFlight.max <= 3, `max in flight ${world.inFlight.max}`);
        assert.ok(world.inFlight.max >= 2, "ran concurrently");

        const text = await verify("all-text", ["--all", ORG, "--concurrency", "4"], world.env, { tty: true });
        assert.match(text.stdout, /^ENVIRONMENT +VERDICT +CALLER \/ FIRST PROBLEM\n/);
        assert.match(text.stdout, /\n10 environments: 4 verified, 6 failed, 0 could not be verified; 1 skipped/);
        assert.match(text.stderr, /\[11\/11\] 4 verified, 6 failed, 0 could not be verified, 1 skipped/);
    });

    it("--all with names ESC never gives ('..', control characters): could not verify (exit 3), and no request goes anywhere else", async () => {
        world.esc.addFault({
            route: "list",
            rewrite: () => ({
                body: JSON.stringify({
                    environments: [
                        { organization: ORG, project: "platform", name: "prod" },
                        { organization: ORG, project: "..", name: ".." },
                        { organization: ORG, project: "p", name: "x\u001b[31m\n::error::pwned\u202e" },
                    ],
                }),
            }),
        });
        const before = world.esc.requests.length;
        const r = await verify("all-bad-names", ["--all", ORG, "--format", "json"]);
        assert.equal(r.code, 3, r.stdout);
        const b = JSON.parse(r.stdout) as VerifyBatchReport;
        assert.ok(validate(b), JSON.stringify(validate.errors));
        assert.equal(b.verdict, "error");
        assert.deepEqual(b.results, []);
        assert.deepEqual(
            b.checks.map((c) => [c.id, c.status]),
            [["environments-listed", "fail"]],
        );
        assert.match(b.checks[0]?.detail ?? "", /^could not verify: listing environments of acme: environment 2 of page 1 has project '\.\.', which is not an ESC name \(letters, digits, '\.', '-' and '_', at most 100\) \(hint: check that PULUMI_BACKEND_URL points at Pulumi Cloud/);
        // The list was read, and nothing else: not the valid first entry either, since the answer is not ESC's.
        assert.deepEqual(world.esc.requests.slice(before).map((x) => x.route), ["list"]);
    });

    it("a proxy's answer in place of ESC's or STS's, or an Arn STS never gives: could not verify (exit 3), never a verdict", async () => {
        const proxyOpen = (env: string, body: string): void =>
            world.esc.addFault({ route: "open", env, rewrite: () => ({ status: 400, body, contentType: body === "" ? "text/plain" : "text/html" }) });
        for (const body of ["<html>400 Bad Request (proxy)</html>", ""]) {
            proxyOpen("platform/prod", body);
            const r = await verify(`open-400-proxy-${body.length}`, [`${ORG}/platform/prod`, "--format", "json"]);
            assert.equal(r.code, 3, r.stdout);
            const v = json(r);
            assert.equal(v.verdict, "error");
            assert.match(check(v, "environment-opens").detail, /^could not verify: opening acme\/platform\/prod: HTTP 400 with a body that is not ESC's JSON error \((text\/html, 36 bytes|text\/plain, an empty body)\)/);
            assert.equal(v.error?.kind, "bad-response");
        }
        // An environment that must be denied, refused by a proxy: that proves nothing, and is not a failure either.
        proxyOpen("platform/dev", "<html>400 Bad Request (proxy)</html>");
        const denied = await verify("denied-400-proxy", [`${ORG}/platform/prod`, "--expect-denied", `${ORG}/platform/dev`, "--format", "json"]);
        assert.equal(denied.code, 3, denied.stdout);
        assert.match(check(json(denied), "expect-denied:acme/platform/dev").detail, /^could not verify: opening acme\/platform\/dev: HTTP 400 with a body that is not ESC's JSON error/);

        world.sts.addRewrite(() => ({ status: 403, body: "<html>Forbidden by proxy</html>", contentType: "text/html" }));
        const sts403 = await verify("sts-403-proxy", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(sts403.code, 3, sts403.stdout);
        assert.match(check(json(sts403), "sts-caller-identity").detail, /^could not verify: calling STS GetCallerIdentity: the response from 127\.0\.0\.1:\d+ is not an answer of STS \(HTTP 403, text\/html, 31 bytes\) \(hint: check the STS endpoint \(AWS_ENDPOINT_URL_STS\)/);

        world.sts.addRewrite((xml) => ({ body: xml.replace(/<Arn>[^<]*<\/Arn>/, "<Arn>arn:aws:sts::123456789012:garbage</Arn>") }));
        const garbage = await verify("sts-garbage-arn", [`${ORG}/platform/prod`, "--format", "json"]);
        assert.equal(garbage.code, 3, garbage.stdout);
        const g = json(garbage);
        assert.match(check(g, "sts-caller-identity").detail, /^could not verify: calling STS GetCallerIdentity: the response's Arn is not the ARN of a principal in its Account/);
        assert.equal(g.callerIdentity, null);
    });

    it("several refs with --expect-denied: batch-level check, worst verdict wins", async () => {
        const r = await verify("refs", [`${ORG}/platform/prod`, `${ORG}/platform/missing-session-token`, "--expect-denied", `${ORG}/platform/dev`, "--format", "json"]);
        assert.equal(r.code, 1);
        const b = JSON.parse(r.stdout) as VerifyBatchReport;
        assert.ok(validate(b), JSON.stringify(validate.errors));
        assert.deepEqual(b.checks.map((c) => [c.id, c.status]), [["expect-denied:acme/platform/dev", "pass"]]);
        assert.deepEqual(b.summary, { verified: 1, failed: 1, error: 0 });
    });

    it("--format junit: one testcase per check, failures and skips marked", async () => {
        const r = await verify("junit", [`${ORG}/platform/static`, "--format", "junit"]);
        assert.equal(r.code, 1);
        assert.equal(XMLValidator.validate(r.stdout), true);
        const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(r.stdout) as {
            testsuites: { tests: string; failures: string; testsuite: { testcase: { name: string; failure?: unknown; skipped?: unknown }[] } };
        };
        const cases = doc.testsuites.testsuite.testcase;
        assert.equal(cases.length, 8);
        assert.equal(doc.testsuites.tests, "8");
        assert.ok(cases.find((c) => c.name === "credentials-temporary")?.failure);
        assert.ok(cases.find((c) => c.name === "credentials-expiry")?.skipped !== undefined);
        const denied = await verify("junit-denied", [`${ORG}/platform/denied`, "--format", "junit"]);
        assert.equal(XMLValidator.validate(denied.stdout), true);
        assert.match(denied.stdout, /<failure message="HTTP 400: failed to open environment: [^"]*" type="verification-failed">HTTP 400[^<]*\nplatform\/denied:4:7: WebIdentityErr[^<]*\nhint: the role&apos;s trust policy does not admit/);
    });

    it("GITHUB_ACTIONS=true: ::add-mask:: lines for the access key ids it references, and nothing secret", async () => {
        const r = await verify("github", [`${ORG}/platform/prod`], { ...world.env, GITHUB_ACTIONS: "true" });
        assert.equal(r.code, 0);
        const masks = r.stderr.split("\n").filter((l) => l.startsWith("::add-mask::"));
        assert.equal(masks.length, 1);
        assert.match(masks[0] ?? "", /^::add-mask::ASIA[A-Z2-7]{16}$/);
        const noMask = await verify("github-off", [`${ORG}/platform/prod`]);
        assert.doesNotMatch(noMask.stderr, /add-mask/);
    });

    it("the compiled CLI (verifier/bin/cli.js), spawned: exit codes and JSON as in-process", async () => {
        ensureBuilt();
        const cli = join(root, "verifier", "bin", "cli.js");
        const spawnCli = (argv: string[], env: NodeJS.ProcessEnv): Promise<Ran> =>
            new Promise((resolve, reject) => {
                const t0 = Date.now();
                const child = spawn(process.execPath, [cli, "verify", ...argv], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
                let stdout = "";
                let stderr = "";
                child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
                child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
                const kill = setTimeout(() => child.kill("SIGKILL"), 20_000);
                child.on("error", reject);
                child.on("close", (code) => {
                    clearTimeout(kill);
                    const r = { code: code ?? -1, stdout, stderr, ms: Date.now() - t0 };
                    outputs.push({ name: `spawned ${argv.join(" ")} (stdout)`, text: stdout }, { name: `spawned ${argv.join(" ")} (stderr)`, text: stderr });
                    resolve(r);
                });
            });
        const ok = await spawnCli([`${ORG}/platform/prod`, "--format", "json", "--expect-denied", `${ORG}/platform/dev`], world.env);
        assert.equal(ok.code, 0, ok.stderr);
        // Nothing on stderr: not even the AWS SDK's warning, under Node 20, that its later releases need Node 22.
        assert.equal(ok.stderr, "");
        const v = json(ok);
        assert.equal(v.verdict, "verified");
        assert.equal(check(v, "expect-denied:acme/platform/dev").status, "pass");
        const failed = await spawnCli([`${ORG}/platform/static`], world.env);
        assert.equal(failed.code, 1);
        assert.match(failed.stdout, /acme\/platform\/static: FAILED/);
        const noToken = await spawnCli([`${ORG}/platform/prod`], { PULUMI_BACKEND_URL: world.env.PULUMI_BACKEND_URL });
        assert.equal(noToken.code, 2);
        assert.match(noToken.stderr, /PULUMI_ACCESS_TOKEN is not set/);
        assert.doesNotMatch(noToken.stderr, /\n\s+at /, "no stack trace");
    });

    it("report formats: --sarif/--markdown/--html/--junit files and --format sarif on stdout, none leaking", async () => {
        const dir = mkdtempSync(join(tmpdir(), "oidc-guard-verify-reports-"));
        try {
            const files = { sarif: join(dir, "v.sarif"), markdown: join(dir, "v.md"), html: join(dir, "v.html"), junit: join(dir, "v.xml") };
            const r = await verify("report-files", [
                `${ORG}/platform/unpinned-prod`,
                "--expect-denied",
                `${ORG}/platform/unpinned-dev`,
                ...Object.entries(files).flatMap(([f, p]) => [`--${f}`, p]),
            ]);
            assert.equal(r.code, 1);
            assert.match(r.stdout, /FAILED/);
            for (const [format, path] of Object.entries(files)) {
                const text = readFileSync(path, "utf8");
                outputs.push({ name: `report-files (${format})`, text });
                assert.match(r.stderr, new RegExp(`wrote .*v\\.${path.split(".").pop()!}`));
            }
            const sarif = JSON.parse(readFileSync(files.sarif, "utf8")) as { version: string; runs: Array<{ results: Array<{ ruleId: string; level: string }> }> };
            assert.equal(sarif.version, "2.1.0");
            assert.ok(sarif.runs[0]!.results.some((x) => x.ruleId.includes("expect-denied") && x.level === "error"), JSON.stringify(sarif.runs[0]!.results.map((x) => x.ruleId)));
            assert.match(readFileSync(files.markdown, "utf8"), /unpinned-dev/);
            assert.match(readFileSync(files.html, "utf8"), /^<!DOCTYPE html>/i);
            assert.match(readFileSync(files.junit, "utf8"), /<testcase[^>]*expect-denied/);
            const stdoutSarif = await verify("report-stdout", [`${ORG}/platform/prod`, "--format", "sarif"]);
            assert.equal(stdoutSarif.code, 0);
            assert.equal((JSON.parse(stdoutSarif.stdout) as { version: string }).version, "2.1.0");
            const twice = await verify("report-twice", [`${ORG}/platform/prod`, "--format", "sarif", "--markdown", "-"]);
            assert.equal(twice.code, 2);
            assert.match(twice.stderr, /more than one output would go to stdout/);
            // The Markdown limit applies to verify's Markdown too, and is refused without it.
            const small = await verify("report-markdown-limit", [`${ORG}/platform/prod`, "--format", "markdown", "--markdown-max-kib", "1"]);
            assert.equal(small.code, 0);
            assert.ok(Buffer.byteLength(small.stdout) <= 1024, String(Buffer.byteLength(small.stdout)));
            assert.match(small.stdout, /^## oidc-guard compliance report/);
            const noMarkdown = await verify("report-markdown-limit-alone", [`${ORG}/platform/prod`, "--markdown-max-kib", "64"]);
            assert.equal(noMarkdown.code, 2);
            assert.match(noMarkdown.stderr, /--markdown-max-kib limits Markdown output, and none is asked for/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a fragment of the Pulumi token is redacted from stdout and from the CLI's own error path", async () => {
        const token = world.env.PULUMI_ACCESS_TOKEN!;
        // 12 hex digits, no `pul-` prefix: only the known-secret redactor knows it. Taken where no 8 of them in a row
        // are decimal digits only (those runs are left alone: account ids are made of them).
        const at = [...Array(token.length - 16).keys()]
            .map((i) => i + 4)
            .find((i) => [0, 1, 2, 3, 4].every((k) => /[a-f]/.test(token.slice(i + k, i + k + 8))))!;
        const fragment = token.slice(at, at + 12);
        const echoed = await verify("fragment-stdout", [`${ORG}/platform/x${fragment}`, "--format", "text"]);
        assert.equal(echoed.code, 3);
        assert.ok(!echoed.stdout.includes(fragment) && !echoed.stderr.includes(fragment), echoed.stdout + echoed.stderr);
        assert.match(echoed.stdout, /platform\/x\[redacted, 12 chars\]/);
        const usageError = await verify("fragment-usage", [`${ORG}/platform/x${fragment}`, "--timeout", fragment]);
        assert.equal(usageError.code, 2);
        assert.ok(!usageError.stderr.includes(fragment), usageError.stderr);
        assert.match(usageError.stderr, /\[redacted, 12 chars\]/);
    });

    it("the stand-in's responses matched the ESC OpenAPI description throughout", () => {
        assert.ok(world.esc.requests.length > 50);
        assert.deepEqual(world.esc.violations, []);
    });

    it("no secret value appeared in any output of any scenario", () => {
        assert.ok(outputs.length > 60, `${outputs.length} outputs`);
        const issued = world.sts.allIssued();
        assert.ok(issued.length > 10);
        const secrets = [...tokens, ...issued.flatMap((c) => [c.secretAccessKey, c.sessionToken ?? ""])].filter((s) => s.length > 0);
        const keyIds = issued.map((c) => c.accessKeyId);
        for (const { name, text } of outputs) {
            for (const s of secrets) assert.ok(!text.includes(s), `a secret appeared in ${name}`);
            // Access key ids: only shortened, except in GitHub Actions mask commands.
            const visible = text.split("\n").filter((l) => !l.startsWith("::add-mask::")).join("\n");
            for (const k of keyIds) assert.ok(!visible.includes(k), `a full access key id appeared in ${name}`);
        }
    });
});

/** Builds verifier/bin when it is missing or older than the sources it needs (npm test builds first anyway). */
function ensureBuilt(): void {
    const bin = join(root, "verifier", "bin", "verify", "verify-environment.js");
    const srcDir = join(root, "verifier", "src", "verify");
    const newest = Math.max(
        ...readdirSync(srcDir)
            .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
            .map((f) => statSync(join(srcDir, f)).mtimeMs),
        statSync(join(root, "verifier", "src", "commands", "verify.ts")).mtimeMs,
    );
    if (existsSync(bin) && statSync(bin).mtimeMs >= newest) return;
    const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", join(root, "verifier", "tsconfig.json")], { encoding: "utf8" });
    assert.ok(existsSync(bin), `build failed: ${tsc.stdout}${tsc.stderr}`);
}
