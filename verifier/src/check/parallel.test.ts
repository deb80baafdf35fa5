import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { renderItems, type RenderedItems } from "../chunks.js";
import type { CheckResult } from "../results.js";
import { createChecker, runCheck, streamCheck } from "./analyze.js";
import { extractInput } from "./inputs.js";
import type { InputFile } from "./files.js";
import { PARALLEL_DEFAULTS, cgroupCpuLimit, parallelStage, usableCores, type ParallelConfig, type RenderedResults } from "./parallel.js";
import { renderJsonChunks, renderJsonStream } from "./render.js";
import { SIG_KEY } from "./values.js";

const ACCOUNT = "123456789012";
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
const OTHER_PROVIDER_ARN = `arn:aws:iam::999999999999:oidc-provider/api.pulumi.com/oidc`;
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const OPTIONS = { organizations: ["acme"] };
const TOOL = { name: "oidc-guard", version: "test" };

/** A trust policy of each kind a stack holds, by the role's number: pinned, loose, wildcards, foreign, broken, secret. */
function trustPolicy(i: number): unknown {
    const statement = (condition: Record<string, unknown>, federated = PROVIDER_ARN) => ({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Federated: federated }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition }],
    });
    const sub = `pulumi:environments:org:acme:env:infra/env-${i}`;
    switch (i % 13) {
        case 0:
            return JSON.stringify(statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": sub } }));
        case 1:
            return JSON.stringify(statement({ StringEquals: { "api.pulumi.com/oidc:aud": ["aws:acme", `acme-${i}`] } }));
        case 2:
            return JSON.stringify(
                statement({
                    StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
                    StringLike: { "api.pulumi.com/oidc:sub": `pulumi:deploy:org:acme:project:p${i}:*` },
                }),
            );
        case 3:
            // An audience the stack's provider does not list: the stack audience check's own finding.
            return JSON.stringify(statement({ StringEquals: { "api.pulumi.com/oidc:aud": `aws:other-${i}`, "api.pulumi.com/oidc:sub": sub } }));
        case 4:
            // A provider of another account: an advisory note from the audience check.
            return JSON.stringify(statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": sub } }, OTHER_PROVIDER_ARN));
        case 5:
            // An object, not a text.
            return statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": sub } });
        case 6:
            return { [SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: `v1:secret-${i}` };
        case 7:
            return {
                [SIG_KEY]: "1b47061264138c4ac30d75fd1eb44270",
                plaintext: JSON.stringify(JSON.stringify(statement({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" } }))),
            };
        case 8:
            return UNKNOWN;
        case 9:
            // A duplicated key in the text.
            return `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}`;
        case 10:
            return `{"Version": "2012-10-17", "Statement": [`;
        case 11:
            return undefined;
        default:
            return JSON.stringify({
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
                        Action: "sts:AssumeRoleWithWebIdentity",
                        Condition: { StringLike: { "token.actions.githubusercontent.com:sub": `repo:acme/r${i}:*` } },
                    },
                ],
            });
    }
}

function stackExport(roles: number): string {
    const urn = (t: string, n: string) => `urn:pulumi:prod::big::${t}::${n}`;
    const resources: unknown[] = [
        {
            urn: urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "pulumi-oidc"),
            type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            inputs: { clientIdLists: ["aws:acme", "acme"], url: "https://api.pulumi.com/oidc" },
            outputs: { arn: PROVIDER_ARN, clientIdLists: ["aws:acme", "acme"], url: "api.pulumi.com/oidc" },
        },
    ];
    for (let i = 0; i < roles; i++) {
        const policy = trustPolicy(i);
        resources.push({
            urn: urn("aws:iam/role:Role", `role-${i}`),
            type: "aws:iam/role:Role",
            inputs: { name: `role-${i}` },
            outputs: policy === undefined ? { name: `role-${i}` } : { assumeRolePolicy: policy, name: `role-${i}` },
        });
    }
    return JSON.stringify({ version: 3, deployment: { resources } });
}

/** The JSON report one thread writes, and its exit-relevant counts. */
function sequential(files: InputFile[]): { json: string; summary: Record<Verdict, number> } {
    const run = runCheck(files, OPTIONS, { keepSources: false });
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const r of run.results) summary[r.verdict]++;
    return { json: [...renderJsonChunks({ tool: TOOL, results: run.results, summary })].join(""), summary };
}

/** The JSON report written while checking with the worker, as `check --format json` writes it. */
function parallel(files: InputFile[], config: Partial<ParallelConfig>): { json: string; summary: Record<Verdict, number>; rendered: number } {
    const { results } = streamCheck(files, OPTIONS, { keepSources: false }, parallelStage(OPTIONS, config));
    const summary: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    let rendered = 0;
    function* items(): Generator<CheckResult | RenderedItems> {
        for (const r of results) {
            if ("rendered" in r) {
                rendered += r.roles;
                for (const v of Object.keys(summary) as Verdict[]) summary[v] += r.verdicts[v];
                yield r.rendered;
            } else {
                summary[r.verdict]++;
                yield r;
            }
        }
    }
    const json = [...renderJsonStream(TOOL, items(), () => summary)].join("");
    return { json, summary, rendered };
}

const SMALL: Partial<ParallelConfig> = { minRoles: 100, blockRoles: 16, warmBlocks: 1, every: 3, ahead: 2 };

let dir: string;
let files: InputFile[];
before(() => {
    dir = mkdtempSync(join(tmpdir(), "oidc-guard-parallel-"));
    files = [
        { path: join(dir, "a.json"), shown: "a.json", explicit: true, text: stackExport(700) },
        // A second input after the first: the worker of each input is its own, and results stay in file order.
        { path: join(dir, "b.json"), shown: "b.json", explicit: true, text: stackExport(260) },
    ];
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("cgroupCpuLimit", () => {
    it("reads the CPUs a control group's quota allows, v2 before v1, and nothing from what is not a quota", () => {
        assert.equal(cgroupCpuLimit("100000 100000\n", undefined, undefined), 1);
        assert.equal(cgroupCpuLimit("150000 100000", "-1", "100000"), 1.5);
        assert.equal(cgroupCpuLimit("max 100000\n", "50000", "100000"), undefined);
        assert.equal(cgroupCpuLimit(undefined, "50000\n", "100000\n"), 0.5);
        assert.equal(cgroupCpuLimit(undefined, "-1\n", "100000\n"), undefined);
        assert.equal(cgroupCpuLimit(undefined, undefined, undefined), undefined);
        assert.equal(cgroupCpuLimit("garbage", "0", "100000"), undefined);
        assert.equal(cgroupCpuLimit(undefined, "100000", "0"), undefined);
    });

    it("gives this process some of the cores it may run on, never more", () => {
        assert.ok(usableCores() > 0);
        assert.ok(usableCores() <= availableParallelism());
    });
});

describe("check with a worker thread", () => {
    it("writes the same JSON report as one thread, with the same counts, and the worker checks most blocks", () => {
        const one = sequential(files);
        const two = parallel(files, SMALL);
        assert.equal(two.json, one.json);
        assert.deepEqual(two.summary, one.summary);
        // Every kind of result is in it (so each went through the worker too).
        for (const v of ["pass", "fail", "unknown", "error"] as const) assert.ok(one.summary[v] > 0, v);
        assert.match(one.json, /advisory \(oidc-provider-outside-stack\)/);
        assert.match(one.json, /oidc-provider-audiences-match/);
        // 960 roles in blocks of 16: the first block of each input is this thread's, then two of every three the worker's.
        assert.ok(two.rendered > 500, `the worker checked ${two.rendered} roles`);
    });

    it("checks an input below minRoles in this thread alone", () => {
        const two = parallel(files, { ...SMALL, minRoles: 10_000 });
        assert.equal(two.rendered, 0);
        assert.equal(two.json, sequential(files).json);
    });

    describe("takes the worker's blocks back when the worker", () => {
        // Each within the default wait for a stalled worker (10 s), except the stall itself: an exit is seen at once.
        const cases: Array<[string, string | null, number?]> = [
            ["is missing", null],
            ["exits at once", "process.exit(3);"],
            ["throws while it starts", "throw new Error('boom');"],
            ["does not parse", "this is not JavaScript ("],
            [
                "answers every block as failed",
                `const { workerData } = require("node:worker_threads");
                 workerData.port.on("message", (job) => { workerData.port.postMessage({ block: job.block, failed: "no" }); Atomics.add(workerData.signal, 0, 1); Atomics.notify(workerData.signal, 0); });`,
            ],
            [
                "answers another block",
                `const { workerData } = require("node:worker_threads");
                 workerData.port.on("message", (job) => { workerData.port.postMessage({ block: job.block + 1, text: "", roles: 0, verdicts: { pass: 0, fail: 0, unknown: 0, error: 0 }, audienceFailed: false }); Atomics.add(workerData.signal, 0, 1); Atomics.notify(workerData.signal, 0); });`,
            ],
            ["never answers (a stall)", `const { workerData } = require("node:worker_threads"); workerData.port.on("message", () => undefined);`, 300],
        ];
        for (const [what, code, stallMs] of cases) {
            it(what, () => {
                const workerFile = join(dir, `worker-${what.replace(/\W+/g, "-")}.js`);
                if (code !== null) writeFileSync(workerFile, code);
                const started = Date.now();
                const two = parallel(files, { ...SMALL, workerFile, ...(stallMs !== undefined ? { stallMs } : {}) });
                assert.equal(two.rendered, 0);
                assert.equal(two.json, sequential(files).json);
                // Two inputs, one worker each: neither waits for the 10 s a stall takes (nor a stall once per block).
                assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
            });
        }
    });

    it("checks here a block the structured clone refuses, and every block after it", () => {
        // Not from JSON: a value only a caller of the checker could give (a symbol cannot be sent to a thread).
        const input = extractInput("x.json", JSON.parse(stackExport(300)) as unknown);
        input.roles[200]!.trustPolicy = { Version: "2012-10-17", Statement: [], odd: Symbol("not cloneable") };
        const one = [...createChecker(OPTIONS).results(input, "x.json")];
        const items = [...createChecker(OPTIONS).results(input, "x.json", parallelStage(OPTIONS, SMALL))];
        const rendered = items.filter((r): r is RenderedResults => "rendered" in r);
        // The worker checked the blocks sent before the one it could not be sent, and none after.
        assert.ok(rendered.length > 0);
        assert.ok(rendered.reduce((n, r) => n + r.roles, 0) < 200);
        const texts = items.map((r) => ("rendered" in r ? r.rendered.text : renderItems([r], 1)));
        assert.equal(texts.join(",\n"), renderItems(one, 1));
    });

    it("is what the CLI writes for an input above the default minRoles, through its own worker file", () => {
        const path = join(dir, "big.json");
        writeFileSync(path, stackExport(PARALLEL_DEFAULTS.minRoles));
        const cli = resolve(__dirname, "..", "..", "bin", "cli.js");
        const out = spawnSync(process.execPath, [cli, "check", path, "--org", "acme", "--format", "json"], {
            encoding: "utf8",
            maxBuffer: 512 * 1024 * 1024,
            env: { PATH: process.env.PATH ?? "", OIDC_GUARD_DEBUG: "1" },
        });
        // The worker did check (a worker file missing from bin/ would be taken back, and give the same report).
        const line = new RegExp(`^oidc-guard check: a worker thread checked (\\d+) of ${PARALLEL_DEFAULTS.minRoles + 1} results\n$`).exec(out.stderr);
        assert.ok(line, `stderr: ${out.stderr}`);
        assert.ok(Number(line[1]) > PARALLEL_DEFAULTS.minRoles / 2, line[0]);
        assert.equal(out.status, 1);
        const one = sequential([{ path, shown: path, explicit: true }]);
        const expected = one.json.replace(/"version": "test"/, `"version": ${JSON.stringify(versionOf(out.stdout))}`);
        assert.equal(out.stdout.length, expected.length);
        assert.ok(out.stdout === expected, "the CLI's report differs from one thread's");

        // The same through --output: the file is the report, and stderr names it with the counts of every result.
        const report = join(dir, "big.result.json");
        const file = spawnSync(process.execPath, [cli, "check", path, "--org", "acme", "--format", "json", "--output", report], {
            encoding: "utf8",
            env: { PATH: process.env.PATH ?? "", OIDC_GUARD_DEBUG: "1" },
        });
        assert.equal(file.status, 1);
        assert.ok(readFileSync(report, "utf8") === expected, "the report file differs from one thread's");
        const { pass, fail, unknown, error } = one.summary;
        assert.ok(file.stderr.includes(`(${PARALLEL_DEFAULTS.minRoles + 1} results: ${pass} pass, ${fail} fail, ${unknown} unknown, ${error} error)`), file.stderr);
        assert.match(file.stderr, /a worker thread checked \d+ of/);
    });
});

function versionOf(json: string): string {
    const m = /"version": "([^"]*)"/.exec(json);
    assert.ok(m, "no tool version in the report");
    return m[1]!;
}
