/**
 * `oidc-guard check` over a `pulumi stack export`: wall time and peak RSS of the compiled CLI run as a child process.
 * - 10,000 roles, policies repeating ("varied") and every policy distinct ("all-distinct"): < 2 s and < 300 MB
 *   (issue 2, for the repeating case; the all-distinct case since issue 13's ratio at this size was withdrawn).
 * - 10,000 and 100,000 roles, every policy distinct, 10% wildcards ("all-distinct"): at most 3x the wall time and
 *   2.5x the peak RSS of the floor, a child process that only reads the same file and `JSON.parse`s it, measured
 *   in the same run (issue 13). Measured with `--format json`; the wall time also with the text report, the default.
 *   The wall-time goal at 10,000 roles is withdrawn (docs/performance.md, "Why the 10,000-role time goal is
 *   withdrawn"): still measured and printed with its verdict, counted apart.
 *   Beside them, without goals: the lower bound any check of the export has, and at 10,000 roles the same check in a
 *   process that has already checked an export of the same shapes (what is left once V8 has warmed up).
 * - The other outputs over the all-distinct exports: `--format text` (the default), SARIF and Markdown (which also
 *   locate findings in the file and redact every string), at 10,000 and 100,000 roles: linear growth (10x the roles
 *   at most 12x the time; a quadratic step would show as about 100x).
 * Peak RSS comes from `/usr/bin/time -v` when present, else from `process.resourceUsage().maxRSS` reported by a
 * preloaded script.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scriptResult } from "./child.js";
import type { BenchResult } from "./index.js";

const ROOT = join(__dirname, "..");
const CLI = join(ROOT, "verifier", "bin", "cli.js");
const ACCOUNT = "123456789012";
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/api.pulumi.com/oidc`;
const ROLES = 10_000;
const LARGE_ROLES = 100_000;
const RUNS = 3;
/**
 * Rounds of floor, JSON and text for the 3x goal. Five, not three: at 100,000 roles the ratio sits within about 10% of
 * the goal, and a median of three moved by more than that from one run to the next on a noisy machine (3.12x, then
 * 2.80x, with 2.65x from five alternating rounds by hand; docs/performance-history.md, round 23).
 */
const GOAL_RUNS = 5;
const RATIO_GOAL_WALL = 3;
const RATIO_GOAL_RSS = 2.5;
const GOAL_MS = 2000;
const GOAL_MB = 300;
/** Ten times the roles may take at most this many times as long: linear, with room for the garbage collector. */
const LINEAR_GOAL = 12;
/** Where the reason the wall-time goal is withdrawn at 10,000 roles is written. */
const WITHDRAWN_AT_10K = 'below the lower bound with start-up at this size; docs/performance.md, "Why the 10,000-role time goal is withdrawn"';

type Mix = "varied" | "all-distinct";

function policyFor(i: number, mix: Mix, variant: string): string {
    // "varied": about 300 distinct documents, as in an account where roles repeat a few templates;
    // "all-distinct": every role names its own environment, so the cache never hits.
    const env = mix === "all-distinct" ? `env${variant}-${i}` : `env${variant}-${i % 200}`;
    const kind = i % 10;
    const statement = (condition: Record<string, unknown>) => ({
        Effect: "Allow",
        Principal: { Federated: PROVIDER_ARN },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: condition,
    });
    let doc: unknown;
    if (kind < 6) {
        doc = statement({
            StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": `pulumi:environments:org:acme:env:infra/${env}` },
        });
    } else if (kind < 8) {
        doc = statement({ StringEquals: { "api.pulumi.com/oidc:aud": mix === "all-distinct" ? [`aws:acme`, `acme${variant}-${i}`] : "aws:acme" } });
    } else if (kind === 8) {
        doc = statement({
            StringEquals: { "api.pulumi.com/oidc:aud": "acme" },
            StringLike: { "api.pulumi.com/oidc:sub": `pulumi:deploy:org:acme:project:${mix === "all-distinct" ? env : `p${i % 50}`}*` },
        });
    } else {
        doc = {
            Effect: "Allow",
            Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com` },
            Action: "sts:AssumeRoleWithWebIdentity",
            Condition: {
                StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
                StringLike: { "token.actions.githubusercontent.com:sub": `repo:acme/${env}:*` },
            },
        };
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: [doc] });
}

/**
 * A stack export shaped like the real thing: inputs and outputs both carry the trust policy. `variant` goes into
 * every name the policies hold: another variant has the same shapes and templates, and no policy text in common.
 */
export function stackExport(mix: Mix, roles = ROLES, variant = ""): string {
    const urn = (t: string, n: string): string => `urn:pulumi:prod::big::${t}::${n}`;
    const resources: unknown[] = [
        { urn: urn("pulumi:pulumi:Stack", "big-prod"), custom: false, type: "pulumi:pulumi:Stack", outputs: {} },
        {
            urn: urn("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "pulumi-oidc"),
            custom: true,
            id: PROVIDER_ARN,
            type: "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
            inputs: { clientIdLists: ["aws:acme", "acme"], url: "https://api.pulumi.com/oidc" },
            outputs: { arn: PROVIDER_ARN, clientIdLists: ["aws:acme", "acme"], url: "api.pulumi.com/oidc" },
        },
    ];
    for (let i = 0; i < roles; i++) {
        const name = `role-${i}`;
        const policy = policyFor(i, mix, variant);
        resources.push({
            urn: urn("aws:iam/role:Role", name),
            custom: true,
            id: name,
            type: "aws:iam/role:Role",
            inputs: { assumeRolePolicy: policy, name, path: "/", maxSessionDuration: 3600, forceDetachPolicies: false },
            outputs: {
                arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
                assumeRolePolicy: policy,
                createDate: "2026-11-18T09:41:29Z",
                id: name,
                managedPolicyArns: [],
                maxSessionDuration: 3600,
                name,
                path: "/",
                tags: { team: "platform", env: `e${i % 7}` },
                tagsAll: { team: "platform", env: `e${i % 7}` },
                uniqueId: `AROA${i.toString(16).padStart(17, "0").toUpperCase()}`,
            },
            parent: urn("pulumi:pulumi:Stack", "big-prod"),
            provider: `${urn("pulumi:providers:aws", "default_7_12_0")}::1f0e5c36-6d8e-4a57-9a53-5c2b1f8e0a11`,
        });
    }
    return JSON.stringify({ version: 3, deployment: { manifest: { version: "v3.248.0" }, resources } });
}

interface Measured {
    wallMs: number;
    /** User + system CPU time of the child: what the work costs when other processes share the cores. */
    cpuMs: number;
    maxRssMb: number;
    code: number;
    stdoutBytes: number;
}

const RSS_MARK = "__oidc_guard_bench_maxrss_kb=";
const CPU_MARK = "__oidc_guard_bench_cpu_us=";

/** Runs `node <script> <args>` (the compiled CLI by default) and measures it. */
function measure(args: string[], preload: string, script = CLI): Promise<Measured> {
    const useTime = existsSync("/usr/bin/time");
    const cmd = useTime ? "/usr/bin/time" : process.execPath;
    const argv = useTime ? ["-v", process.execPath, script, ...args] : ["--require", preload, script, ...args];
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } });
        let stdoutBytes = 0;
        let stderr = "";
        child.stdout.on("data", (b: Buffer) => (stdoutBytes += b.length));
        child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            const wallMs = performance.now() - started;
            const kb = useTime
                ? /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]
                : new RegExp(`${RSS_MARK}(\\d+)`).exec(stderr)?.[1];
            const cpuMs = useTime
                ? (Number(/User time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN) +
                      Number(/System time \(seconds\): ([\d.]+)/.exec(stderr)?.[1] ?? NaN)) *
                  1000
                : Number(new RegExp(`${CPU_MARK}(\\d+)`).exec(stderr)?.[1] ?? NaN) / 1000;
            if (kb === undefined) {
                reject(new Error(`no peak RSS in the child's stderr: ${stderr.slice(0, 300)}`));
                return;
            }
            resolve({ wallMs, cpuMs, maxRssMb: Number(kb) / 1024, code: code ?? -1, stdoutBytes });
        });
    });
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
}

/** The floor: read the file and JSON.parse it, nothing else, in a fresh Node process like the CLI's. */
const FLOOR_SCRIPT = `const t = require("node:fs").readFileSync(process.argv[2], "utf8"); const v = JSON.parse(t); if (!v) process.exit(3);\n`;

/**
 * What any `check` of the export must do beyond the floor, with no analysis at all: parse every trust policy text
 * the export holds (a stack export keeps them as JSON strings, in inputs and outputs), and write a JSON report of the
 * size and content of ours (`check`'s own report, stringified four results at a time with its indentation, as `check`
 * writes it, to /dev/null). Prints both times in milliseconds; the report is read before the clock starts.
 */
const BOUND_SCRIPT = `const fs = require("node:fs");
const exp = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const report = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
let t = performance.now();
for (const r of exp.deployment.resources) for (const side of [r.inputs, r.outputs]) {
    const p = side && side.assumeRolePolicy;
    if (typeof p === "string") JSON.parse(p);
}
const policies = performance.now() - t;
t = performance.now();
// Written the way check writes it: a few results at a time, each batch stringified with the report's indentation.
const out = fs.openSync("/dev/null", "w");
fs.writeSync(out, JSON.stringify({ ...report, results: [] }, null, 2));
for (let i = 0; i < report.results.length; i += 4) {
    const wrapped = JSON.stringify({ r: report.results.slice(i, i + 4) }, null, 2);
    fs.writeSync(out, wrapped.slice(wrapped.indexOf("[\\n") + 2, wrapped.length - 6));
}
fs.closeSync(out);
const write = performance.now() - t;
process.stdout.write(JSON.stringify({ policies, write }));
`;

/** The bound's extra times (ms): median over `RUNS` runs of the bound script. */
async function boundExtra(dir: string, file: string, preload: string): Promise<{ policies: number; write: number }> {
    const report = join(dir, "report.json");
    const made = await measure(["check", file, "--org", "acme", "--format", "json", "--output", report], preload);
    if (made.code !== 1) throw new Error(`expected exit 1 (the export has violations), got ${made.code}`);
    const script = join(dir, "bound.js");
    writeFileSync(script, BOUND_SCRIPT);
    const runs: Array<{ policies: number; write: number }> = [];
    for (let i = 0; i < RUNS; i++) {
        runs.push(scriptResult<{ policies: number; write: number }>(script, [file, report], "the bound script"));
    }
    rmSync(report, { force: true });
    return { policies: median(runs.map((r) => r.policies)), write: median(runs.map((r) => r.write)) };
}

/**
 * `check`'s start-up beyond the floor's: the same command over a 10-role export of the same shapes (loading the CLI
 * and the analysis, and the first, cold analysis of each shape) minus the floor over that file (Node's own start and
 * a read of 15 KB). Median of `RUNS` alternating pairs. Paid once per process, whatever the size of the input.
 * `node`: the floor over that file, about Node's own start.
 */
async function startUp(dir: string, preload: string): Promise<{ extra: number; node: number }> {
    const floorScript = join(dir, "floor.js");
    writeFileSync(floorScript, FLOOR_SCRIPT);
    const file = join(dir, "stack-all-distinct-10.json");
    writeFileSync(file, stackExport("all-distinct", 10));
    const diffs: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        const floor = await measure([file], preload, floorScript);
        const check = await measure(["check", file, "--org", "acme", "--format", "json"], preload);
        if (floor.code !== 0 || check.code !== 1) throw new Error(`start-up: expected exits 0 and 1, got ${floor.code} and ${check.code}`);
        diffs.push(check.wallMs - floor.wallMs);
        floors.push(floor.wallMs);
    }
    return { extra: median(diffs), node: median(floors) };
}

/**
 * `check` with nothing left to load, learn or compile: one process runs the compiled CLI's `run` over an export of the
 * same shapes under other names (so that no policy text repeats), then over this export, and times the second (one
 * thread, the JSON report written to a stream that drops it). Prints milliseconds.
 */
const WARM_SCRIPT = `const { run } = require(process.argv[2]);
const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: process.cwd() };
const args = (file) => ["check", file, "--org", "acme", "--format", "json", "--threads", "1"];
(async () => {
    const first = await run(args(process.argv[3]), io);
    const t = performance.now();
    const second = await run(args(process.argv[4]), io);
    const ms = performance.now() - t;
    if (first !== 1 || second !== 1) throw new Error("expected exit 1 twice, got " + first + " and " + second);
    process.stdout.write(JSON.stringify({ ms }));
})();
`;

/** {@link WARM_SCRIPT}'s time for `file` (an all-distinct export of `roles`): median of `RUNS` processes. */
function warmCheck(dir: string, file: string, roles: number): number {
    const other = join(dir, `stack-all-distinct-${roles}-other-names.json`);
    writeFileSync(other, stackExport("all-distinct", roles, "-other"));
    const script = join(dir, "warm.js");
    writeFileSync(script, WARM_SCRIPT);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
        times.push(scriptResult<{ ms: number }>(script, [CLI, other, file], "the warm check").ms);
    }
    rmSync(other, { force: true });
    return median(times);
}

/** The text report's runs `versusFloor` measured, by number of roles: `growth` reads them instead of running them again. */
type TextRuns = Map<number, Measured[]>;

async function versusFloor(
    dir: string,
    preload: string,
    roles: number,
    start: { extra: number; node: number },
    textRuns: TextRuns,
): Promise<BenchResult[]> {
    const file = join(dir, `stack-all-distinct-${roles}.json`);
    writeFileSync(file, stackExport("all-distinct", roles));
    const floorScript = join(dir, "floor.js");
    writeFileSync(floorScript, FLOOR_SCRIPT);
    const checks: Measured[] = [];
    const texts: Measured[] = [];
    const floors: Measured[] = [];
    // Alternate, so drift in machine load hits all alike.
    for (let i = 0; i < GOAL_RUNS; i++) {
        floors.push(await measure([file], preload, floorScript));
        checks.push(await measure(["check", file, "--org", "acme", "--format", "json"], preload));
        texts.push(await measure(["check", file, "--org", "acme"], preload));
    }
    if (floors.some((r) => r.code !== 0)) throw new Error(`the floor script failed: ${floors.map((r) => r.code).join(",")}`);
    if ([...checks, ...texts].some((r) => r.code !== 1)) {
        throw new Error(`expected exit 1 (the export has violations), got ${[...checks, ...texts].map((r) => r.code).join(",")}`);
    }
    const wall = median(checks.map((r) => r.wallMs));
    const textWall = median(texts.map((r) => r.wallMs));
    textRuns.set(roles, texts);
    const floorWall = median(floors.map((r) => r.wallMs));
    const rss = Math.max(...checks.map((r) => r.maxRssMb));
    const floorRss = Math.max(...floors.map((r) => r.maxRssMb));
    const label = `check ${roles} roles, all policies distinct, 10% wildcards`;
    const extra = await boundExtra(dir, file, preload);
    const bound = floorWall + extra.policies + extra.write;
    const lines: BenchResult[] = [
        {
            name: `${label}: wall time`,
            // CPU beside it: from 25,000 roles `check` uses a worker thread, which costs CPU time the wall time hides.
            value:
                `${wall.toFixed(0)} ms (median of ${GOAL_RUNS}; CPU ${median(checks.map((r) => r.cpuMs)).toFixed(0)} ms against the floor's ` +
                `${median(floors.map((r) => r.cpuMs)).toFixed(0)} ms; each round's ratio ${ratioRange(checks, floors)})`,
            goal: `<= ${RATIO_GOAL_WALL}x the floor`,
            met: wall <= RATIO_GOAL_WALL * floorWall,
            ...withdrawnAt(roles),
            measured: { value: wall, unit: "ms" },
            floor: { name: "read + JSON.parse", value: floorWall, unit: "ms" },
            ratio: wall / floorWall,
        },
        {
            // The same goal for the text report, the default output (the goal's own measure is JSON, above).
            name: `${label}: wall time, --format text (the default)`,
            value:
                `${textWall.toFixed(0)} ms (median of ${GOAL_RUNS}; CPU ${median(texts.map((r) => r.cpuMs)).toFixed(0)} ms; ` +
                `peak RSS ${Math.max(...texts.map((r) => r.maxRssMb)).toFixed(0)} MB; each round's ratio ${ratioRange(texts, floors)})`,
            goal: `<= ${RATIO_GOAL_WALL}x the floor`,
            met: textWall <= RATIO_GOAL_WALL * floorWall,
            ...withdrawnAt(roles),
            measured: { value: textWall, unit: "ms" },
            floor: { name: "read + JSON.parse", value: floorWall, unit: "ms" },
            ratio: textWall / floorWall,
        },
        {
            name: `${label}: peak RSS`,
            value: `${rss.toFixed(0)} MB (max of ${GOAL_RUNS})`,
            goal: `<= ${RATIO_GOAL_RSS}x the floor`,
            met: rss <= RATIO_GOAL_RSS * floorRss,
            measured: { value: rss, unit: "MB" },
            floor: { name: "read + JSON.parse", value: floorRss, unit: "MB" },
            ratio: rss / floorRss,
        },
        {
            // No goal: what the wall-time goal leaves for the analysis itself. Above 3x, no implementation that
            // writes this report can meet it.
            name: `${label}: lower bound with no analysis (floor + parse the ${roles * 2} policy texts + write the same report)`,
            value:
                `${bound.toFixed(0)} ms = ${floorWall.toFixed(0)} + ${extra.policies.toFixed(0)} + ${extra.write.toFixed(0)} ms ` +
                `(${(bound / floorWall).toFixed(2)}x the floor; check is ${(wall / bound).toFixed(2)}x the bound)`,
            measured: { value: bound, unit: "ms" },
            floor: { name: "read + JSON.parse", value: floorWall, unit: "ms" },
            ratio: bound / floorWall,
        },
        {
            // No goal: the bound plus what one process pays once. At 10,000 roles this alone is above 3x the floor.
            name: `${label}: lower bound with start-up (the bound above + check's start-up: a 10-role export's check minus its floor)`,
            value: `${(bound + start.extra).toFixed(0)} ms = ${bound.toFixed(0)} + ${start.extra.toFixed(0)} ms (${((bound + start.extra) / floorWall).toFixed(2)}x the floor)`,
            measured: { value: bound + start.extra, unit: "ms" },
            floor: { name: "read + JSON.parse", value: floorWall, unit: "ms" },
            ratio: (bound + start.extra) / floorWall,
        },
    ];
    if (roles === ROLES) {
        // No goal: how much of a fresh process's time is V8 warming up (docs/performance.md, "Why the 10,000-role time
        // goal is withdrawn"). At 100,000 roles the code is warm soon, and a second run in one process would start a second worker.
        const warm = warmCheck(dir, file, roles);
        const total = warm + start.node;
        lines.push({
            name:
                `${label}: warm, in one process (this export's check after one of the same shapes under other names; one thread, ` +
                `the report dropped; plus Node's start, as the floor over the 10-role export)`,
            value:
                `${total.toFixed(0)} ms = ${warm.toFixed(0)} + ${start.node.toFixed(0)} ms (median of ${RUNS}; ${(total / floorWall).toFixed(2)}x the floor, ` +
                `against ${(wall / floorWall).toFixed(2)}x in a fresh process)`,
            measured: { value: total, unit: "ms" },
            floor: { name: "read + JSON.parse", value: floorWall, unit: "ms" },
            ratio: total / floorWall,
        });
    }
    return lines;
}

/** The wall-time goal's withdrawal, at the size where it is withdrawn (10,000 roles; 100,000 keep it). */
function withdrawnAt(roles: number): { withdrawn?: string } {
    return roles === ROLES ? { withdrawn: WITHDRAWN_AT_10K } : {};
}

/** The lowest and highest ratio of a run to the floor's run of the same round: how far the spells of one bench spread. */
function ratioRange(runs: Measured[], floors: Measured[]): string {
    const ratios = runs.map((r, i) => r.wallMs / floors[i]!.wallMs);
    return `${Math.min(...ratios).toFixed(2)}x to ${Math.max(...ratios).toFixed(2)}x`;
}

/**
 * The default text output, SARIF and Markdown (the located reports: every finding found in the export, and Markdown
 * within its 900 KiB) over the all-distinct exports `versusFloor` wrote: wall time and peak RSS at 10,000 roles
 * (median of `RUNS`) and 100,000 (one run; the text report's runs are those `versusFloor` measured, `GOAL_RUNS` at
 * each size), and how the time grows.
 */
async function growth(dir: string, preload: string, textRuns: TextRuns): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    for (const format of ["text", "sarif", "markdown"] as const) {
        const at = async (roles: number, runs: number): Promise<{ wall: number; rss: number; mb: number; runs: number }> => {
            const file = join(dir, `stack-all-distinct-${roles}.json`);
            const measured: Measured[] = format === "text" ? [...(textRuns.get(roles) ?? [])] : [];
            for (let i = measured.length; i < runs; i++) measured.push(await measure(["check", file, "--org", "acme", "--format", format], preload));
            if (measured.some((r) => r.code !== 1)) {
                throw new Error(`--format ${format}, ${roles} roles: expected exit 1, got ${measured.map((r) => r.code).join(",")}`);
            }
            return {
                wall: median(measured.map((r) => r.wallMs)),
                rss: Math.max(...measured.map((r) => r.maxRssMb)),
                mb: measured[0]!.stdoutBytes / 1024 / 1024,
                runs: measured.length,
            };
        };
        const small = await at(ROLES, RUNS);
        const large = await at(LARGE_ROLES, 1);
        const label = `check --format ${format}, all policies distinct`;
        out.push({
            name: `${label}: ${ROLES} roles`,
            value: `${small.wall.toFixed(0)} ms (median of ${small.runs}), ${small.rss.toFixed(0)} MB peak RSS, ${small.mb.toFixed(1)} MB output`,
        });
        out.push({
            name: `${label}: ${LARGE_ROLES} roles`,
            value: `${large.wall.toFixed(0)} ms (${large.runs === 1 ? "one run" : `median of ${large.runs}`}), ${large.rss.toFixed(0)} MB peak RSS, ${large.mb.toFixed(1)} MB output`,
            goal: `<= ${LINEAR_GOAL}x the time of ${ROLES} roles (linear growth)`,
            met: large.wall <= LINEAR_GOAL * small.wall,
            measured: { value: large.wall, unit: "ms" },
            floor: { name: `${ROLES} roles`, value: small.wall, unit: "ms" },
            ratio: large.wall / small.wall,
        });
    }
    return out;
}

/**
 * Hostile: one object that repeats a key 200,000 times (3 MB). Each repeat is an error finding with its line and
 * column; counting lines from the start for each (and copying the object's list of repeats) made it quadratic.
 */
async function repeatedKeys(dir: string, preload: string): Promise<BenchResult> {
    const file = join(dir, "repeated-keys.json");
    writeFileSync(file, `{"Version":"2012-10-17",${Array.from({ length: 200_000 }, () => '"Statement":[]').join(",")}}`);
    const r = await measure(["check", file, "--format", "json"], preload);
    if (r.code !== 1) throw new Error(`repeated keys: expected exit 1 (an error finding per repeat), got ${r.code}`);
    return {
        name: "hostile: check of one object repeating a key 200,000 times (3 MB)",
        value: `${r.wallMs.toFixed(0)} ms, ${r.maxRssMb.toFixed(0)} MB peak RSS, ${(r.stdoutBytes / 1024 / 1024).toFixed(0)} MB output`,
        goal: "<= 4,000 ms (twice the per-document time budget)",
        met: r.wallMs <= 4000,
        measured: { value: r.wallMs, unit: "ms" },
    };
}

export async function run(): Promise<BenchResult[]> {
    if (!existsSync(CLI)) throw new Error("verifier/bin/cli.js is missing: run `npm run build` first");
    const dir = mkdtempSync(join(tmpdir(), "oidc-guard-bench-check-"));
    const results: BenchResult[] = [];
    try {
        const preload = join(dir, "maxrss.js");
        writeFileSync(
            preload,
            `process.on("exit", () => { const u = process.resourceUsage(); ` +
                `process.stderr.write("${RSS_MARK}" + u.maxRSS + "\\n${CPU_MARK}" + (u.userCPUTime + u.systemCPUTime) + "\\n"); });\n`,
        );
        // Start-up is paid once per process, whatever the input: measured once for both sizes.
        const start = await startUp(dir, preload);
        const textRuns: TextRuns = new Map();
        for (const roles of [ROLES, LARGE_ROLES]) results.push(...(await versusFloor(dir, preload, roles, start, textRuns)));
        results.push(...(await growth(dir, preload, textRuns)));
        results.push(await repeatedKeys(dir, preload));
        for (const mix of ["varied", "all-distinct"] as const) {
            const file = join(dir, `stack-${mix}.json`);
            const text = stackExport(mix);
            writeFileSync(file, text);
            const sizeMb = (text.length / 1024 / 1024).toFixed(1);
            for (const format of ["json", "text"] as const) {
                const runs: Measured[] = [];
                for (let i = 0; i < RUNS; i++) runs.push(await measure(["check", file, "--org", "acme", "--format", format], preload));
                if (runs.some((r) => r.code !== 1)) {
                    throw new Error(`expected exit 1 (the export has violations), got ${runs.map((r) => r.code).join(",")}`);
                }
                const wall = median(runs.map((r) => r.wallMs));
                const cpu = median(runs.map((r) => r.cpuMs));
                const rss = Math.max(...runs.map((r) => r.maxRssMb));
                const label = `check ${ROLES} roles (${mix}, ${sizeMb} MB export) --format ${format}`;
                // Issue 2's goal was for its case (several distinct texts). It holds for the worst case too, every text
                // distinct: at this size it is what stands for a user where issue 13's ratio is withdrawn.
                results.push({
                    name: `${label}: wall time`,
                    value:
                        `${wall.toFixed(0)} ms (median of ${RUNS}; CPU ${cpu.toFixed(0)} ms; ` +
                        `${(runs[0]!.stdoutBytes / 1024 / 1024).toFixed(1)} MB output)`,
                    goal: `< ${GOAL_MS} ms`,
                    met: wall < GOAL_MS,
                });
                results.push({
                    name: `${label}: peak RSS`,
                    value: `${rss.toFixed(0)} MB (max of ${RUNS})`,
                    goal: `< ${GOAL_MB} MB`,
                    met: rss < GOAL_MB,
                });
            }
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    return results;
}
