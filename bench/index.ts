/**
 * `npm run bench`: runs every bench/*.bench.ts in turn (or those whose name contains an argument) and prints
 * their results. Each bench module exports `run(): Promise<BenchResult[]>`. Benchmarks are never tests.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";

export interface BenchResult {
    name: string;
    /** Human-readable measurement, e.g. "0.031 ms/role (median of 5 runs)". */
    value: string;
    /** The goal from the issue, when there is one, e.g. "< 0.1 ms". */
    goal?: string;
    /** Whether the goal is met; undefined when there is no goal. */
    met?: boolean;
}

async function main(): Promise<void> {
    const filters = process.argv.slice(2);
    const files = readdirSync(__dirname)
        .filter((f) => f.endsWith(".bench.ts"))
        .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
        .sort();
    const all: BenchResult[] = [];
    for (const f of files) {
        const mod = (await import(join(__dirname, f))) as { run: () => Promise<BenchResult[]> };
        process.stdout.write(`== ${f}\n`);
        const results = await mod.run();
        for (const r of results) {
            const goal = r.goal ? `  goal ${r.goal}: ${r.met ? "met" : "NOT met"}` : "";
            process.stdout.write(`  ${r.name}: ${r.value}${goal}\n`);
        }
        all.push(...results);
    }
    const missed = all.filter((r) => r.met === false).length;
    process.stdout.write(`\n${all.length} measurements, ${missed} goal(s) not met\n`);
}

void main();
