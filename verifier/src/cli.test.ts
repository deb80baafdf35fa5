/**
 * End to end: spawns the compiled CLI (`node verifier/bin/cli.js check ...`) on the fixtures, as a user or CI
 * would, and checks exit codes, stderr, and `--format json` output against verifier/schemas/check-result.schema.json.
 * `npm test` builds first; when run alone, the `before` hook rebuilds if bin/ is missing or older than src/.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Ajv, { type ValidateFunction } from "ajv";
import type { CheckReport } from "./results.js";

const ROOT = join(__dirname, "..", "..");
const CLI = join(ROOT, "verifier", "bin", "cli.js");
const SCHEMA = join(ROOT, "verifier", "schemas", "check-result.schema.json");

interface Spawned {
    code: number;
    stdout: string;
    stderr: string;
}

function spawnCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Spawned> {
    return spawnNode([CLI, ...args], opts);
}

function spawnNode(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Spawned> {
    return new Promise((resolve, reject) => {
        // A clean environment: no NO_COLOR/FORCE_COLOR from the developer's shell, no credentials.
        const env = { PATH: process.env.PATH ?? "", HOME: tmpdir(), ...opts.env };
        execFile(
            process.execPath,
            args,
            { cwd: opts.cwd ?? ROOT, env, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
            (error, stdout, stderr) => {
                if (error && typeof error.code !== "number") {
                    reject(new Error(`could not run node: ${error.message}`));
                    return;
                }
                resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
            },
        );
    });
}

function newestMtime(dir: string, keep: (name: string) => boolean): number {
    let newest = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) newest = Math.max(newest, newestMtime(p, keep));
        else if (keep(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
    }
    return newest;
}

/** Rebuilds policypack and verifier when the compiled CLI is missing or older than a source file. */
function ensureBuilt(): void {
    const isSource = (n: string): boolean => n.endsWith(".ts") && !n.endsWith(".test.ts");
    const builtAt = (p: string): number => (existsSync(p) ? statSync(p).mtimeMs : 0);
    const packStale =
        builtAt(join(ROOT, "policypack/bin/analysis/index.js")) < newestMtime(join(ROOT, "policypack/src"), isSource);
    const cliStale =
        Math.min(builtAt(CLI), builtAt(join(ROOT, "verifier/bin/commands/check.js"))) <
        newestMtime(join(ROOT, "verifier/src"), isSource);
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const build = (project: string): void => {
        try {
            execFileSync(process.execPath, [tsc, "-p", project], { cwd: ROOT, stdio: "pipe" });
        } catch {
            // tsc exits non-zero on type errors elsewhere but still emits; the tests below judge the result.
        }
    };
    if (packStale) build("policypack/tsconfig.json");
    if (packStale || cliStale) {
        build("verifier/tsconfig.json");
        chmodSync(CLI, 0o755);
    }
}

let validate: ValidateFunction;
let tmp: string;

function assertValidReport(stdout: string): CheckReport {
    const report = JSON.parse(stdout) as unknown;
    assert.ok(validate(report), JSON.stringify(validate.errors, null, 2));
    return report as CheckReport;
}

function assertNoStackTrace(s: Spawned): void {
    assert.doesNotMatch(s.stderr, /\n\s+at .+:\d+:\d+/, "stack trace on stderr");
    assert.doesNotMatch(s.stderr, /internal error/);
}

before(() => {
    ensureBuilt();
    const ajv = new Ajv({ allErrors: true, strict: true });
    validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")) as object);
    tmp = mkdtempSync(join(tmpdir(), "oidc-guard-cli-"));
});
after(() => {
    rmSync(tmp, { recursive: true, force: true });
});

describe("oidc-guard check (compiled CLI, end to end)", () => {
    it("--help exits 0 and prints the usage", async () => {
        const r = await spawnCli(["check", "--help"]);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^Usage: oidc-guard check <path>\.\.\. \[options\]/);
        assert.equal(r.stderr, "");
    });

    it("the package's bin (the committed shim npm links as `oidc-guard`) runs the compiled CLI", async () => {
        const pkg = JSON.parse(readFileSync(join(ROOT, "verifier", "package.json"), "utf8")) as { version: string; bin: Record<string, string> };
        const shim = join(ROOT, "verifier", pkg.bin["oidc-guard"]!);
        const version = await spawnNode([shim, "--version"]);
        assert.equal(version.code, 0, version.stderr);
        assert.equal(version.stdout, `${pkg.version}\n`);
        const failing = await spawnNode([shim, "check", "fixtures/trust-policies/bad/public-example-aud-only.json", "--org", "acme"]);
        assert.equal(failing.code, 1);
        assert.match(failing.stdout, /oidc-trust-sub-pinned/);
    });

    it("exit 0 when every target passes", async () => {
        const r = await spawnCli(["check", "fixtures/aws/get-role.urlencoded.json", "--org", "acme"]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /pulumi-esc-infra-staging\s+pass/);
        assert.match(r.stdout, /1 target in 1 file: 1 pass, 0 fail, 0 unknown, 0 error\n$/);
        assert.equal(r.stderr, "");
    });

    it("exit 1 over the fixture directories; JSON output matches the schema and the exit code", async () => {
        const r = await spawnCli(["check", "fixtures/stacks", "fixtures/preview", "fixtures/aws", "--org", "acme", "--format", "json"]);
        assert.equal(r.code, 1, r.stderr);
        assertNoStackTrace(r);
        const report = assertValidReport(r.stdout);
        const files = new Set(report.results.map((x) => x.target.file));
        for (const f of [
            "fixtures/stacks/oidc-roles-prod.stack.json",
            "fixtures/stacks/oidc-roles-dev.show-secrets.stack.json",
            "fixtures/preview/new-provider.preview.json",
            "fixtures/aws/account-authorization-details.json",
            "fixtures/aws/get-role.json",
            "fixtures/aws/get-role.urlencoded.json",
            "fixtures/aws/get-open-id-connect-provider.json",
        ]) {
            assert.ok(files.has(f), `${f} checked`);
        }
        assert.ok(report.summary.fail > 0 && report.summary.unknown > 0);
        assert.equal(
            report.summary.pass + report.summary.fail + report.summary.unknown + report.summary.error,
            report.results.length,
        );
        const preview = report.results.find((x) => x.target.resource?.name === "pulumi-esc");
        assert.equal(preview?.verdict, "unknown");
        assert.ok(!r.stdout.includes("FIXTURE-ONLY"), "a secret stack output was printed");
    });

    it("text output to a pipe has no colour codes", async () => {
        const r = await spawnCli(["check", "fixtures/aws", "--org", "acme"]);
        assert.equal(r.code, 1);
        assert.ok(!r.stdout.includes("\u001b["));
        assert.match(r.stdout, /^TARGET\s+VERDICT\s+FINDING\s+WORST CLASS\s+TOKEN THAT GETS IN\n/);
    });

    it("exit 2 for invalid JSON, naming the file and position; the JSON report is still printed and valid", async () => {
        writeFileSync(join(tmp, "bad.json"), '{\n  "Version": "2012-10-17",\n    }\n');
        writeFileSync(join(tmp, "good.json"), readFileSync(join(ROOT, "fixtures/aws/get-role.urlencoded.json")));
        const r = await spawnCli(["check", "bad.json", "good.json", "--format", "json"], { cwd: tmp });
        assert.equal(r.code, 2);
        assert.equal(
            r.stderr,
            "oidc-guard check: bad.json: not valid JSON: Expected a property name but found token } at line 3 column 5\n",
        );
        const report = assertValidReport(r.stdout);
        assert.deepEqual(
            report.results.map((x) => [x.target.file, x.verdict]),
            [
                ["bad.json", "error"],
                ["good.json", "pass"],
            ],
        );
    });

    it("exit 2 for a missing file and for a bad flag, with one-line messages and nothing on stdout", async () => {
        const missing = await spawnCli(["check", "fixtures/nope.json"]);
        assert.equal(missing.code, 2);
        assert.equal(missing.stdout, "");
        assert.equal(missing.stderr, "oidc-guard check: fixtures/nope.json: no such file or directory\n");
        const flag = await spawnCli(["check", "fixtures/aws", "--colour"]);
        assert.equal(flag.code, 2);
        assert.equal(flag.stdout, "");
        assert.match(flag.stderr, /^oidc-guard check: unknown option '--colour'\nhint: /);
        assertNoStackTrace(missing);
        assertNoStackTrace(flag);
    });

    it("--output writes a schema-valid report; --config is honoured", async () => {
        const config = join(tmp, "policy-config.json");
        writeFileSync(
            config,
            JSON.stringify({ all: "mandatory", "pulumi-oidc-role-trust-pinned": { organizations: ["globex"] } }),
        );
        const out = join(tmp, "result.json");
        const r = await spawnCli([
            "check",
            "fixtures/aws/get-role.urlencoded.json",
            "--config",
            config,
            "--format",
            "json",
            "--output",
            out,
        ]);
        assert.equal(r.code, 1, "aws:acme is not an audience of globex");
        assert.equal(r.stdout, "");
        assert.match(r.stderr, /wrote .*result\.json/);
        const report = assertValidReport(readFileSync(out, "utf8"));
        assert.equal(report.results[0]!.verdict, "fail");
        assert.ok(report.results[0]!.findings.some((f) => f.ruleId === "oidc-trust-aud-pinned"));
    });

    it("npm start runs the demo over the fixtures and ends with status 0", async () => {
        const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
        const [node, script] = pkg.scripts.start!.split(" ");
        assert.equal(node, "node");
        const r = await spawnNode([join(ROOT, script!)]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /TARGET\s+VERDICT/);
        assert.match(r.stdout, /oidc-guard check exited 1/);
        assertNoStackTrace(r);
    });
});

describe("a reader that goes away early (`oidc-guard check … | head`)", () => {
    /** A stack export of `roles` roles that trust Pulumi with aud only: every one fails. */
    const exportOf = (roles: number): string => {
        const provider = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
        const resources = Array.from({ length: roles }, (_, i) => {
            const policy = JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Federated: provider }, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringEquals: { "api.pulumi.com/oidc:aud": `aws:acme-${i}` } } }],
            });
            return { urn: `urn:pulumi:prod::big::aws:iam/role:Role::role-${i}`, custom: true, type: "aws:iam/role:Role", outputs: { assumeRolePolicy: policy, name: `role-${i}` } };
        });
        return JSON.stringify({ version: 3, deployment: { manifest: { version: "v3.248.0" }, resources } });
    };

    /** Runs the CLI, closes its stdout after the first chunk, and returns how it exited. */
    const readFirstChunk = (args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string; read: number }> =>
        new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: tmpdir() }, stdio: ["ignore", "pipe", "pipe"] });
            let stderr = "";
            let read = 0;
            child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
            child.stdout.once("data", (b: Buffer) => {
                read = b.length;
                child.stdout.destroy();
            });
            const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
            child.on("error", reject);
            child.on("close", (code, signal) => {
                clearTimeout(timer);
                resolve({ code, signal, stderr, read });
            });
        });

    for (const format of ["json", "text"]) {
        it(`--format ${format}: exits with the command's own code (1 for a violation), not 0, and quietly`, async () => {
            const file = join(tmp, `head-${format}.json`);
            writeFileSync(file, exportOf(600));
            const r = await readFirstChunk(["check", file, "--org", "acme", "--format", format]);
            // The report is far larger than a pipe's buffer: the reader left while it was being written.
            assert.ok(r.read > 0 && r.read < 200_000, `read ${r.read} bytes`);
            assert.equal(r.signal, null);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stderr, "");
        });
    }
});

describe("the process ends by its deadline, its exit included", () => {
    /** A preload that leaves a handle open, as a library with a keep-alive socket or a forgotten timer would. */
    const linger = (): string => {
        const p = join(tmp, "linger.js");
        writeFileSync(p, "setInterval(() => {}, 60_000);\n");
        return p;
    };

    it("a finished command exits even when a handle is left open", async () => {
        const r = await spawnNode(["--require", linger(), CLI, "check", "fixtures/trust-policies/good/domain-pinned-role-with-organizations.json", "--org", "acme"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /pass/);
    });

    it("verify against a server that never answers ends with exit 3 by --timeout, even with a handle left open", async () => {
        const server = createNetServer((socket) => socket.on("error", () => undefined)); // accepts, never answers
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as { port: number };
        try {
            const r = await spawnNode(["--require", linger(), CLI, "verify", "acme/platform/prod", "--timeout", "1"], {
                env: { PULUMI_ACCESS_TOKEN: `pul-${"a1".repeat(20)}`, PULUMI_BACKEND_URL: `http://127.0.0.1:${port}`, AWS_REGION: "eu-west-1" },
            });
            assert.equal(r.code, 3, r.stdout + r.stderr);
            assert.ok(!r.stderr.includes("a1a1a1a1"), r.stderr);
        } finally {
            server.close();
        }
    });
});
