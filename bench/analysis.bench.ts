/**
 * In-process analysis speed: a typical pinned role, the public example's aud-only role, and worst-case 64 KiB
 * documents with hundreds of wildcard patterns (every decision then needs product automata).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { analyzeTrustPolicy, type AnalysisOptions } from "../policypack/src/analysis/index.js";
import { DEFAULT_TIME_BUDGET_MS, analyzeTrustPolicyAsWritten } from "../policypack/src/analysis/trust-policy.js";
import { scriptResult } from "./child.js";
import type { BenchResult } from "./index.js";

const PROVIDER = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
const AUD = "api.pulumi.com/oidc:aud";
const SUB = "api.pulumi.com/oidc:sub";
const OPTIONS: AnalysisOptions = { organizations: ["acme"] };
type Analyze = (doc: string, options: AnalysisOptions) => { verdict: string };

function statement(condition: object, effect = "Allow"): object {
    return { Effect: effect, Principal: { Federated: PROVIDER }, Action: "sts:AssumeRoleWithWebIdentity", Condition: condition };
}

/**
 * The documents of an estate: the same shapes with other names in every role (organization, project,
 * environment). `n` picks the names, so each call is a document the process has not seen.
 */
const names = (n: number): { org: string; project: string; env: string } => ({ org: `org${n % 97}`, project: `svc-${n}`, env: `env-${n % 13}` });
const typical = (n: number): string => {
    const { org, project, env } = names(n);
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [statement({ StringEquals: { [AUD]: `aws:${org}`, [SUB]: `pulumi:environments:org:${org}:env:${project}/${env}` } })],
    });
};
const audOnly = (n: number): string =>
    JSON.stringify({ Version: "2012-10-17", Statement: [statement({ StringEquals: { [AUD]: `aws:${names(n).org}` } })] });
/** One `StringLike` subject wildcard confined to one project's environments: passes (the common real-estate case). */
const wildcardConfined = (n: number): string => {
    const { org, project } = names(n);
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [statement({ StringEquals: { [AUD]: `aws:${org}` }, StringLike: { [SUB]: `pulumi:environments:org:${org}:env:${project}/*` } })],
    });
};
/** One `StringLike` subject wildcard that lets every project of the organization in: fails. */
const wildcardLoose = (n: number): string => {
    const { org } = names(n);
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [statement({ StringEquals: { [AUD]: `aws:${org}` }, StringLike: { [SUB]: `pulumi:environments:org:${org}:env:*` } })],
    });
};

/**
 * Fills ~64 KiB with wildcard patterns: confined ones (the analysis must prove every one) plus Deny carve-outs.
 * `offset` renumbers the patterns: the same shape, with patterns no earlier document named.
 */
function worstCase(loose: boolean, offset = 0): string {
    const statements: object[] = [];
    let i = 0;
    const size = (): number => JSON.stringify({ Version: "2012-10-17", Statement: statements }).length;
    while (size() < 60 * 1024) {
        const subs = Array.from({ length: 40 }, (_, k) => {
            const n = i * 40 + k + offset;
            return n % 3 === 0
                ? `pulumi:environments:org:acme:env:project-${n}/*-${n % 7}-*`
                : n % 3 === 1
                  ? `pulumi:deploy:org:acme:project:svc-${n}:stack:prod-${n}:operation:*:scope:write`
                  : `pulumi:environments:org:acme:env:team-${n}/env-??-${n}`;
        });
        if (loose && i === 3) subs.push("pulumi:environments:org:acme:env:project-1*");
        statements.push(statement({ StringEquals: { [AUD]: ["aws:acme", "acme"] }, StringLike: { [SUB]: subs } }));
        if (i % 4 === 3) {
            statements.push(
                statement({ StringLike: { [SUB]: [`pulumi:environments:org:acme:env:project-${i}*/*`, `*:stack:prod-${i}?:*`] } }, "Deny"),
            );
        }
        i++;
    }
    return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/**
 * Median ms per document over blocks of 500 documents, each document a new one (`make(n)` with a counter that never
 * repeats; built before the clock starts), after a warm-up block. Options name the document's own organization.
 */
function perDoc(make: (n: number) => string, minMs: number, analyze: Analyze = analyzeTrustPolicy): { ms: number; verdict: string } {
    const block = (): Array<{ doc: string; options: AnalysisOptions }> => Array.from({ length: 500 }, () => nextDoc(make));
    let verdict = warmUp(make, analyze);
    const samples: number[] = [];
    const start = performance.now();
    while (performance.now() - start < minMs || samples.length < 5) {
        const docs = block();
        const t = performance.now();
        for (const x of docs) verdict = analyze(x.doc, x.options).verdict;
        samples.push((performance.now() - t) / docs.length);
    }
    samples.sort((a, b) => a - b);
    return { ms: samples[Math.floor(samples.length / 2)]!, verdict };
}
let counter = 0;

/** A document the process has not seen, with options that name its own organization. */
function nextDoc(make: (n: number) => string): { doc: string; options: AnalysisOptions } {
    const n = counter++;
    return { doc: make(n), options: { organizations: [names(n).org] } };
}

/** Analyses a block of 500 new documents before any is timed; the last one's verdict. */
function warmUp(make: (n: number) => string, analyze: Analyze): string {
    let verdict = "";
    for (let i = 0; i < 500; i++) {
        const x = nextDoc(make);
        verdict = analyze(x.doc, x.options).verdict;
    }
    return verdict;
}

/**
 * Unrelated work between two documents, as a policy pack does between two resources (the SDK decodes the request,
 * gRPC answers the last one): 20,000 small objects walked and 2,000 of them written as JSON. Inside the pack the
 * analysis of a document runs with its code and data out of the CPU caches, and costs several times what a loop of
 * documents shows.
 */
const unrelated = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `resource-${i}`, parts: [i, i + 1] }));
function evictCaches(): number {
    let sum = 0;
    for (const o of unrelated) sum += o.id + o.parts[1]!;
    return sum + JSON.stringify(unrelated.slice(0, 2_000)).length;
}

/**
 * Median ms per document when each document is analysed alone after {@link evictCaches}, over `count` new documents
 * timed one at a time, after the same warm-up as {@link perDoc} (the code is optimized; its caches are cold).
 */
function perDocCold(make: (n: number) => string, count: number): { ms: number; verdict: string } {
    let verdict = warmUp(make, analyzeTrustPolicy);
    const samples: number[] = [];
    let sink = 0;
    for (let i = 0; i < count; i++) {
        const { doc, options } = nextDoc(make);
        sink += evictCaches();
        const t = performance.now();
        verdict = analyzeTrustPolicy(doc, options).verdict;
        samples.push(performance.now() - t);
    }
    if (sink < 0) throw new Error("unreachable");
    samples.sort((a, b) => a - b);
    return { ms: samples[Math.floor(samples.length / 2)]!, verdict };
}

const FRESH_RUNS = 3;
/** Analyses `doc`, then the same document with other numbers in its patterns, in a new Node process (the compiled core). */
const FRESH_SCRIPT = `const { analyzeTrustPolicy } = require(process.argv[2]);
const doc = require("node:fs").readFileSync(process.argv[3], "utf8");
const options = { organizations: ["acme"] };
let t = performance.now();
const r = analyzeTrustPolicy(doc, options);
const ms = performance.now() - t;
const other = doc.replace(/-(\\d+)/g, (_, n) => "-" + (Number(n) + 500000));
t = performance.now();
analyzeTrustPolicy(other, options);
process.stdout.write(JSON.stringify({ ms, second: performance.now() - t, verdict: r.verdict }));
`;

function freshProcess(doc: string): { ms: number; second: number; verdict: string } {
    const dir = mkdtempSync(join(tmpdir(), "oidc-guard-bench-"));
    try {
        const script = join(dir, "fresh.js");
        const file = join(dir, "doc.json");
        writeFileSync(script, FRESH_SCRIPT);
        writeFileSync(file, doc);
        const core = join(__dirname, "..", "policypack", "bin", "analysis", "index.js");
        const runs: Array<{ ms: number; second: number; verdict: string }> = [];
        for (let i = 0; i < FRESH_RUNS; i++) {
            runs.push(scriptResult<{ ms: number; second: number; verdict: string }>(script, [core, file], "the fresh-process script"));
        }
        runs.sort((a, b) => a.ms - b.ms);
        return runs[Math.floor(runs.length / 2)]!;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

function once(doc: string): { ms: number; verdict: string; bytes: number } {
    const t = performance.now();
    const r = analyzeTrustPolicy(doc, OPTIONS);
    return { ms: performance.now() - t, verdict: r.verdict, bytes: doc.length };
}

export async function run(): Promise<BenchResult[]> {
    await Promise.resolve();
    const t = perDoc(typical, 1000);
    const a = perDoc(audOnly, 1000);
    const results: BenchResult[] = [
        {
            name: "typical pinned role (a new role each document: other organization, project, environment)",
            value: `${t.ms.toFixed(4)} ms/role (${t.verdict})`,
            goal: "< 0.1 ms",
            met: t.ms < 0.1,
            measured: { value: t.ms, unit: "ms/doc" },
        },
        {
            name: "public example (aud only), a new organization each document",
            value: `${a.ms.toFixed(4)} ms/role (${a.verdict})`,
            goal: "< 0.1 ms",
            met: a.ms < 0.1,
            measured: { value: a.ms, unit: "ms/doc" },
        },
    ];
    // Issue 13: a single-wildcard StringLike document costs at most 0.2 ms and at most 4x a pinned role, measured
    // in the same run (the pinned role is the floor).
    for (const [label, doc] of [
        ["single StringLike wildcard, confined to one project", wildcardConfined],
        ["single StringLike wildcard, loose (every project)", wildcardLoose],
    ] as const) {
        const w = perDoc(doc, 1000);
        const ratio = w.ms / t.ms;
        results.push({
            name: label,
            value: `${w.ms.toFixed(4)} ms/role (${w.verdict})`,
            goal: "<= 0.2 ms and <= 4x the pinned role",
            met: w.ms <= 0.2 && ratio <= 4,
            measured: { value: w.ms, unit: "ms/doc" },
            floor: { name: "typical pinned role, new names", value: t.ms, unit: "ms/doc" },
            ratio,
        });
    }
    // With the caches cold between documents, as inside the policy pack: no goal (the pack's own goal is its
    // Analyze round trip), shown because a change can win in the loops above and lose here, or the other way round.
    const tc = perDocCold(typical, 1000);
    results.push({
        name: "caches cold between documents (as in the pack): typical pinned role",
        value: `${tc.ms.toFixed(4)} ms/role (${tc.verdict}; median of 1,000 documents, each after unrelated work)`,
        measured: { value: tc.ms, unit: "ms/doc" },
    });
    const wc = perDocCold(wildcardConfined, 1000);
    results.push({
        name: "caches cold between documents (as in the pack): single StringLike wildcard, confined",
        value: `${wc.ms.toFixed(4)} ms/role (${wc.verdict}; median of 1,000 documents, each after unrelated work)`,
        measured: { value: wc.ms, unit: "ms/doc" },
        floor: { name: "caches cold: typical pinned role", value: tc.ms, unit: "ms/doc" },
        ratio: wc.ms / tc.ms,
    });
    // Without the shape cache: every document analysed as written, with patterns the process has not compiled
    // (what a document of a shape seen for the first time costs). No goal: shown so the first-time cost stays in view.
    const cold = perDoc(typical, 1000, analyzeTrustPolicyAsWritten);
    results.push({ name: "as written, every pattern new: typical pinned role", value: `${cold.ms.toFixed(4)} ms/role (${cold.verdict})`, measured: { value: cold.ms, unit: "ms/doc" } });
    for (const [label, doc] of [
        ["as written, every pattern new: aud only", audOnly],
        ["as written, every pattern new: wildcard, confined", wildcardConfined],
        ["as written, every pattern new: wildcard, loose", wildcardLoose],
    ] as const) {
        const w = perDoc(doc, 1000, analyzeTrustPolicyAsWritten);
        results.push({
            name: label,
            value: `${w.ms.toFixed(4)} ms/role (${w.verdict})`,
            measured: { value: w.ms, unit: "ms/doc" },
            floor: { name: "as written: typical pinned role", value: cold.ms, unit: "ms/doc" },
            ratio: w.ms / cold.ms,
        });
    }
    for (const loose of [false, true]) {
        const w = once(worstCase(loose));
        results.push({
            name: `worst case, ${(w.bytes / 1024).toFixed(0)} KiB, ${loose ? "one loose pattern" : "all confined"}`,
            value: `${w.ms.toFixed(0)} ms first run (${w.verdict})`,
            goal: "<= 300 ms, and a decided verdict (not the time budget's error)",
            met: w.ms <= 300 && w.verdict !== "error",
            measured: { value: w.ms, unit: "ms" },
        });
    }
    // The same shape again in this process, with new patterns each time: what a long-lived process (the pack's) pays
    // for such a document once V8 has compiled the code it runs. No goal of its own (the goal is the first run's):
    // shown because the first run moves with the machine's speed from minute to minute, and this moves less.
    const warm = Array.from({ length: 5 }, (_, k) => once(worstCase(false, (k + 1) * 1_000_000)));
    const warmMs = warm.map((w) => w.ms).sort((x, y) => x - y)[2]!;
    results.push({
        name: "worst case, all confined, again with new patterns (median of 5, after the first run)",
        value: `${warmMs.toFixed(0)} ms (${[...new Set(warm.map((w) => w.verdict))].join(", ")})`,
        measured: { value: warmMs, unit: "ms" },
    });
    // The same documents in a process that has analysed nothing before: what a one-off `oidc-guard check` of such a
    // file pays (V8 has not compiled the automata code yet, and the token grammars' states are still to be built).
    // No goal of its own: shown so the difference from the in-process number stays in view.
    for (const loose of [false, true]) {
        const f = freshProcess(worstCase(loose));
        results.push({
            name: `worst case, ${loose ? "one loose pattern" : "all confined"}, in a fresh process (median of ${FRESH_RUNS})`,
            value: `${f.ms.toFixed(0)} ms (${f.verdict}); the same process's second document of this shape, new patterns: ${f.second.toFixed(0)} ms`,
            measured: { value: f.ms, unit: "ms" },
        });
    }
    // Last: their automata stay in the process caches. Hostile sizes: a condition listing 150,000 audiences, a
    // principal listing 150,000 providers, and 150,000 subject values or patterns. A list that long, spread into a
    // call, overflowed the stack; the union's first DFA states were sorted in quadratic time.
    const provider = "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc";
    const huge = (cond: object, federated: string | string[] = provider): string =>
        JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Federated: federated }, Action: "sts:AssumeRoleWithWebIdentity", Condition: cond }] });
    const many = (f: (i: number) => string): string[] => Array.from({ length: 150_000 }, (_, i) => f(i));
    const sub = { "api.pulumi.com/oidc:sub": "pulumi:environments:org:acme:env:a/b" };
    for (const [label, text] of [
        ["150,000 audience values", huge({ StringEquals: { "api.pulumi.com/oidc:aud": many((i) => `aws:o${i}`), ...sub } })],
        ["150,000 Federated providers", huge({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", ...sub } }, [provider, ...many((i) => `${provider}-${i}`)])],
        // Values that share a long head: one start node per value made every state of that head hold all of them.
        ["150,000 subject values", huge({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme", "api.pulumi.com/oidc:sub": many((i) => `pulumi:environments:org:acme:env:p${i}/prod`) } })],
        ["150,000 subject patterns", huge({ StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" }, StringLike: { "api.pulumi.com/oidc:sub": many((i) => `pulumi:environments:org:acme:env:p${i}/*`) } })],
    ] as const) {
        const h = once(text);
        results.push({
            name: `hostile: ${label} (${(h.bytes / 1024 / 1024).toFixed(1)} MB)`,
            value: `${h.ms.toFixed(0)} ms (${h.verdict})`,
            goal: `<= ${2 * DEFAULT_TIME_BUDGET_MS} ms (twice the per-document time budget), decided or failed closed`,
            met: h.ms <= 2 * DEFAULT_TIME_BUDGET_MS && ["pass", "fail", "error"].includes(h.verdict),
            measured: { value: h.ms, unit: "ms" },
        });
    }
    return results;
}
