/**
 * `oidc-guard scan aws` over an account of 1,000 roles (and one OIDC provider) served by moto on a loopback port:
 * wall time of the compiled CLI run as a child process (median of 3 runs), and how long creating the roles took for
 * comparison. moto answers from one Python process, so this measures the CLI plus moto, not AWS (real IAM adds
 * network round trips: ten ListRoles pages of 100).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateOpenIDConnectProviderCommand, CreateRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../fixtures/esc/credentials.js";
import { ensureMoto, MOTO_ACCOUNT, startMoto } from "../verifier/src/testing/moto.js";
import type { BenchResult } from "./index.js";

const ROOT = join(__dirname, "..");
const CLI = join(ROOT, "verifier", "bin", "cli.js");
const ROLES = 1000;
const RUNS = 3;
/** AWS's documentation example keys; moto maps any key it did not issue to its default account. */
const CREDENTIALS = { accessKeyId: STATIC_KEY_ID, secretAccessKey: FIXTURE_CREDENTIALS.secretAccessKey };

function trust(i: number): string {
    const condition: Record<string, string> = { "api.pulumi.com/oidc:aud": "aws:acme" };
    if (i % 4 !== 0) condition["api.pulumi.com/oidc:sub"] = `pulumi:environments:org:acme:env:infra/env-${i % 200}`;
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: `arn:aws:iam::${MOTO_ACCOUNT}:oidc-provider/api.pulumi.com/oidc` },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: condition },
            },
        ],
    });
}

function runScan(endpoint: string, home: string): Promise<{ ms: number; code: number; results: number }> {
    return new Promise((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn(process.execPath, [CLI, "scan", "aws", "--org", "acme", "--format", "json"], {
            cwd: home,
            env: {
                PATH: process.env.PATH ?? "",
                HOME: home,
                AWS_CONFIG_FILE: join(home, "none"),
                AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
                AWS_EC2_METADATA_DISABLED: "true",
                AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
                AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
                AWS_ENDPOINT_URL_IAM: endpoint,
                AWS_ENDPOINT_URL_STS: endpoint,
            },
            stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString("utf8")));
        child.on("error", reject);
        child.on("close", (code) => {
            const ms = Number(process.hrtime.bigint() - start) / 1e6;
            let results = -1;
            try {
                results = (JSON.parse(out) as { results: unknown[] }).results.length;
            } catch {
                // reported below as a wrong count
            }
            resolve({ ms, code: code ?? -1, results });
        });
    });
}

export async function run(): Promise<BenchResult[]> {
    const m = ensureMoto();
    if ("problem" in m) return [{ name: "scan aws, 1,000 roles (moto)", value: `not measured: ${m.problem}` }];
    const moto = await startMoto(m.server);
    const home = mkdtempSync(join(tmpdir(), "oidc-guard-scan-bench-"));
    try {
        const iam = new IAMClient({ region: "us-east-1", endpoint: moto.endpoint, credentials: CREDENTIALS });
        const t0 = Date.now();
        await iam.send(new CreateOpenIDConnectProviderCommand({ Url: "https://api.pulumi.com/oidc", ClientIDList: ["aws:acme"], ThumbprintList: ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"] }));
        for (let start = 0; start < ROLES; start += 50) {
            await Promise.all(
                Array.from({ length: 50 }, (_, k) =>
                    iam.send(new CreateRoleCommand({ RoleName: `bench-${start + k}`, AssumeRolePolicyDocument: trust(start + k) })),
                ),
            );
        }
        const createMs = Date.now() - t0;
        iam.destroy();
        const times: number[] = [];
        for (let i = 0; i < RUNS; i++) {
            const r = await runScan(moto.endpoint, home);
            if (r.results !== ROLES + 1) throw new Error(`scan returned ${r.results} results (exit ${r.code}), expected ${ROLES + 1}`);
            times.push(r.ms);
        }
        times.sort((a, b) => a - b);
        return [
            {
                name: `scan aws, ${ROLES} roles + 1 provider (moto, compiled CLI, wall time)`,
                value: `${(times[Math.floor(RUNS / 2)]! / 1000).toFixed(2)} s median of ${RUNS} (min ${(times[0]! / 1000).toFixed(2)} s, max ${(times[RUNS - 1]! / 1000).toFixed(2)} s)`,
            },
            { name: `creating the ${ROLES} roles in moto (for comparison)`, value: `${(createMs / 1000).toFixed(2)} s` },
        ];
    } finally {
        await moto.stop();
        rmSync(home, { recursive: true, force: true });
    }
}
