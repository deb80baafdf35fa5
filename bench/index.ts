/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name contains an argument), prints each
 * measurement with its goal, floor, ratio and verdict, and writes them all to `.bench/results.json` (gitignored; set
 * OIDC_GUARD_BENCH_JSON to write elsewhere) so a regression shows from run to run. Each bench module exports
 * `run(): Promise<BenchResult[]>`. Benchmarks are never tests: nothing here fails the test suite.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";

export interface Quantity {
    value: number;
    /** "ms", "ms/doc", "MB", "ratio", ... */
    unit: string;
}

export interface BenchResult {
    name: string;
    /** Human-readable measurement, e.g. "0.031 ms/role (median of 5 runs)". */
    value: string;
    /** The goal from the issue, when there is one, e.g. "< 0.1 ms". */
    goal?: string;
    /** Whether the goal is met; undefined when there is no goal. */
    met?: boolean;
    /**
     * Set when the goal is one the issue asked for but that was withdrawn, with where the reason is written: the line
     * still prints the goal and its verdict, and the summary counts it apart from the goals that stand.
     */
    withdrawn?: string;
    /** The measurement as a number, for the JSON file. */
    measured?: Quantity;
    /** What the measurement is compared with, measured in the same run (e.g. reading and parsing the same file). */
    floor?: Quantity & { name: string };
    /** measured / floor, when both are there. */
    ratio?: number;
}

function line(r: BenchResult): string {
    const floor = r.floor ? `  floor (${r.floor.name}) ${r.floor.value.toFixed(3)} ${r.floor.unit}` : "";
    const ratio = r.ratio !== undefined ? `  ratio ${r.ratio.toFixed(2)}x` : "";
    const verdict = r.met ? "met" : "NOT met";
    const goal = r.goal ? `  goal ${r.goal}: ${r.withdrawn === undefined ? verdict : `${verdict} (withdrawn: ${r.withdrawn})`}` : "";
    return `  ${r.name}: ${r.value}${floor}${ratio}${goal}\n`;
}

async function main(): Promise<void> {
    const filters = process.argv.slice(2);
    const files = readdirSync(__dirname)
        .filter((f) => f.endsWith(".bench.ts"))
        .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
        .sort();
    const all: (BenchResult & { bench: string })[] = [];
    // The ratios depend on the Node version as well as the machine: V8 12 (Node 22) parses JSON faster, which moves
    // every floor of `check` (docs/performance.md, "On Node 22"). Printed first, and written with the results.
    const machine = {
        node: process.version,
        v8: process.versions.v8,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? "unknown",
        memoryGiB: Math.round(totalmem() / 2 ** 30),
    };
    process.stdout.write(`node ${machine.node} (V8 ${machine.v8}), ${machine.cpus} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB\n`);
    for (const f of files) {
        const mod = (await import(join(__dirname, f))) as { run: () => Promise<BenchResult[]> };
        process.stdout.write(`== ${f}\n`);
        const results = await mod.run();
        for (const r of results) process.stdout.write(line(r));
        all.push(...results.map((r) => ({ bench: f, ...r })));
    }
    const missed = all.filter((r) => r.met === false && r.withdrawn === undefined).length;
    const withdrawn = all.filter((r) => r.withdrawn !== undefined);
    const out = process.env["OIDC_GUARD_BENCH_JSON"] ?? join(__dirname, "..", ".bench", "results.json");
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
        out,
        JSON.stringify(
            {
                date: new Date().toISOString(),
                ...machine,
                goalsMissed: missed,
                goalsWithdrawn: withdrawn.length,
                results: all,
            },
            null,
            2,
        ) + "\n",
    );
    const apart = withdrawn.length === 0 ? "" : ` (and ${withdrawn.length} withdrawn goal(s), ${withdrawn.filter((r) => r.met === false).length} of them not met)`;
    process.stdout.write(`\n${all.length} measurements, ${missed} goal(s) not met${apart}; written to ${out}\n`);
}

void main();
