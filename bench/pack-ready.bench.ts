/**
 * Pack ready time: from spawn to the port line, started as the Pulumi CLI's shim starts a pack
 * (`node <@pulumi/pulumi/cmd/run-policy-pack> <engine> .` in the pack folder), for the compiled pack against an
 * empty pack (same SDK, no policies) generated under .bench/ (gitignored). Runs alternate so drift in machine
 * load hits both alike; the goal is the compiled pack within 5% of the empty one (issue 13).
 * Then the Analyze round trip over gRPC for a role with one StringLike subject wildcard, against the empty pack's round
 * trip for the same resource: the goal is at most 0.5 ms more (issue 13).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { startAnalyzer, type AnalyzerClient, type AnalyzerResource } from "../policypack/src/testing/analyzer-client.js";
import type { BenchResult } from "./index.js";

const ROOT = join(__dirname, "..");
const PACK_DIR = join(ROOT, "policypack");
const EMPTY_DIR = join(ROOT, ".bench", "empty-pack");
const RUNS = 11;
const ANALYZE_CALLS = 400;
const ANALYZE_BLOCKS = 5;
const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
/**
 * A role with one StringLike subject wildcard; every call names another project, as the roles of an estate do (a
 * resource repeated verbatim would measure only the analysis cache).
 */
function wildcardRole(i: number): AnalyzerResource {
    return {
        type: "aws:iam/role:Role",
        name: `deployer-${i}`,
        properties: {
            name: `deployer-${i}`,
            assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Federated: PROVIDER },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: {
                            StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" },
                            StringLike: { "api.pulumi.com/oidc:sub": `pulumi:environments:org:acme:env:svc-${i}/*` },
                        },
                    },
                ],
            }),
        },
    };
}
let callNumber = 0;

/** Median milliseconds per Analyze call, over `calls` sequential calls. */
async function analyzeMs(client: AnalyzerClient, calls: number): Promise<number> {
    const samples: number[] = [];
    for (let i = 0; i < calls; i++) {
        const role = wildcardRole(callNumber++);
        const t = process.hrtime.bigint();
        await client.analyze(role);
        samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return median(samples);
}
const TIMEOUT_MS = 60_000;

/** An empty pack (same package shape and tsconfig.json) next to the repository's node_modules, so it resolves the very same @pulumi/policy. */
function makeEmptyPack(): void {
    mkdirSync(EMPTY_DIR, { recursive: true });
    writeFileSync(join(EMPTY_DIR, "package.json"), JSON.stringify({ name: "empty-pack", version: "0.0.1", main: "index.js", private: true }));
    writeFileSync(join(EMPTY_DIR, "PulumiPolicy.yaml"), "runtime: nodejs\n");
    // The runner hands a tsconfig.json in the pack folder to ts-node: give both packs the same one.
    copyFileSync(join(PACK_DIR, "tsconfig.json"), join(EMPTY_DIR, "tsconfig.json"));
    writeFileSync(
        join(EMPTY_DIR, "index.js"),
        'const { PolicyPack } = require("@pulumi/policy");\nnew PolicyPack("empty-pack", { policies: [] });\n',
    );
}

/** Milliseconds from spawn to the first stdout line (the port); the process is then stopped and awaited. */
function readyTime(dir: string): Promise<number> {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] });
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ["ORGANIZATION", "PROJECT", "STACK", "DRY_RUN"]) {
        const v = k === "DRY_RUN" ? "true" : k === "ORGANIZATION" ? "acme" : "bench";
        env[`PULUMI_${k}`] = v;
        env[`PULUMI_NODEJS_${k}`] = v;
    }
    return new Promise<number>((resolve, reject) => {
        const start = process.hrtime.bigint();
        const child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
        const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
        let ms: number | null = null;
        createInterface({ input: child.stdout }).once("line", (line) => {
            ms = Number(process.hrtime.bigint() - start) / 1e6;
            if (!/^\d+$/.test(line.trim())) ms = null;
            child.kill("SIGKILL");
        });
        child.once("exit", () => {
            clearTimeout(timer);
            if (ms === null) reject(new Error(`pack in ${dir} did not print a port; stderr:\n${stderr}`));
            else resolve(ms);
        });
    });
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function run(): Promise<BenchResult[]> {
    if (!existsSync(join(PACK_DIR, "bin", "index.js"))) {
        throw new Error("policypack/bin/index.js is missing: build first (npm run bench builds)");
    }
    makeEmptyPack();
    // One warm-up each (file system cache), not counted.
    await readyTime(PACK_DIR);
    await readyTime(EMPTY_DIR);
    const ours: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        // Alternate which goes first.
        if (i % 2 === 0) {
            ours.push(await readyTime(PACK_DIR));
            empty.push(await readyTime(EMPTY_DIR));
        } else {
            empty.push(await readyTime(EMPTY_DIR));
            ours.push(await readyTime(PACK_DIR));
        }
    }
    const a = median(ours);
    const b = median(empty);
    const ratio = a / b;
    const [oursClient, emptyClient] = [await startAnalyzer({ packDir: PACK_DIR }), await startAnalyzer({ packDir: EMPTY_DIR })];
    const oursMs: number[] = [];
    const emptyMs: number[] = [];
    try {
        await analyzeMs(oursClient, 50); // warm-up: JIT and the gRPC channel
        await analyzeMs(emptyClient, 50);
        for (let i = 0; i < ANALYZE_BLOCKS; i++) {
            oursMs.push(await analyzeMs(oursClient, ANALYZE_CALLS / ANALYZE_BLOCKS));
            emptyMs.push(await analyzeMs(emptyClient, ANALYZE_CALLS / ANALYZE_BLOCKS));
        }
    } finally {
        await Promise.all([oursClient.close(), emptyClient.close()]);
    }
    const analyzeOurs = median(oursMs);
    const analyzeEmpty = median(emptyMs);
    return [
        {
            name: "Analyze round trip, wildcard role (a new project each call), pulumi-oidc-guard",
            value: `${analyzeOurs.toFixed(3)} ms (median of ${ANALYZE_BLOCKS} block medians, ${ANALYZE_CALLS} calls)`,
            goal: "<= the empty pack's round trip + 0.5 ms",
            met: analyzeOurs <= analyzeEmpty + 0.5,
            measured: { value: analyzeOurs, unit: "ms" },
            floor: { name: "empty pack, same resource", value: analyzeEmpty, unit: "ms" },
            ratio: analyzeOurs / analyzeEmpty,
        },
        { name: "pack ready, pulumi-oidc-guard (compiled)", value: `${a.toFixed(0)} ms (median of ${RUNS})` },
        { name: "pack ready, empty pack (same SDK)", value: `${b.toFixed(0)} ms (median of ${RUNS})` },
        {
            name: "ready-time ratio, ours / empty",
            value: `${ratio.toFixed(3)} (${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%, medians of ${RUNS} alternating runs)`,
            goal: "<= 1.05",
            met: ratio <= 1.05,
            measured: { value: a, unit: "ms" },
            floor: { name: "empty pack ready", value: b, unit: "ms" },
            ratio,
        },
    ];
}
