/**
 * `oidc-guard verify` against the ESC and STS stand-ins (in a child process) with 20 ms latency per response:
 * - one verification (one open, one read, one STS call), median of several runs;
 * - `--all` over 200 environments, one at a time and with bounded concurrency: the speed-up (goal: at least 6x)
 *   and the most requests the stand-ins saw in flight at once (goal: no more than the configured concurrency).
 */
import type { BenchResult } from "./index.js";
import { ORG, oidcDefinition, ROLE_DEPLOY } from "../verifier/src/testing/world.js";
import { startWorldProcess } from "../verifier/src/testing/world-process.js";
import { verifyEnvironments } from "../verifier/src/verify/batch.js";
import { verifyEnvironment } from "../verifier/src/verify/verify-environment.js";

const LATENCY_MS = 20;
const FLEET = 200;
const CONCURRENCY = 8;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] as number;
}

export async function run(): Promise<BenchResult[]> {
    const results: BenchResult[] = [];
    const fleet = Array.from({ length: FLEET }, (_, i) => ({ project: "fleet", name: `env-${String(i).padStart(3, "0")}`, yaml: oidcDefinition(ROLE_DEPLOY) }));
    // The stand-ins run in a child process: their CPU must not be counted as the verifier's.
    const world = await startWorldProcess({
        latencyMs: LATENCY_MS,
        scenarioEnvironments: false,
        validate: false,
        extraEnvironments: fleet,
        extraDeploySubjects: [`pulumi:environments:org:${ORG}:env:fleet/*`],
    });
    try {
        // One verification.
        const single: number[] = [];
        for (let i = 0; i < 7; i++) {
            const t0 = performance.now();
            const r = await verifyEnvironment(`${ORG}/fleet/env-000`, { env: world.env });
            single.push(performance.now() - t0);
            if (r.verdict !== "verified") throw new Error(`bench setup: ${JSON.stringify(r.checks)}`);
        }
        results.push({
            name: `verify one environment (open + read + STS, ${LATENCY_MS} ms latency each)`,
            value: `${median(single).toFixed(0)} ms (median of ${single.length}; floor ${3 * LATENCY_MS} ms of latency)`,
        });

        // --all over the fleet, sequential then concurrent.
        const all = async (concurrency: number): Promise<{ ms: number; maxInFlight: number }> => {
            world.reset();
            const t0 = performance.now();
            const b = await verifyEnvironments({ all: ORG }, { env: world.env, concurrency, timeoutSeconds: 600 });
            const ms = performance.now() - t0;
            if (b.summary.verified !== FLEET) throw new Error(`bench setup: ${JSON.stringify(b.summary)}`);
            return { ms, maxInFlight: (await world.stats()).maxInFlight };
        };
        const seq = await all(1);
        const par = await all(CONCURRENCY);
        const speedup = seq.ms / par.ms;
        results.push({ name: `--all over ${FLEET} environments, concurrency 1`, value: `${(seq.ms / 1000).toFixed(2)} s (max ${seq.maxInFlight} in flight)` });
        results.push({ name: `--all over ${FLEET} environments, concurrency ${CONCURRENCY}`, value: `${(par.ms / 1000).toFixed(2)} s` });
        results.push({ name: `--all speed-up at concurrency ${CONCURRENCY}`, value: `${speedup.toFixed(1)}x`, goal: ">= 6x", met: speedup >= 6 });
        results.push({
            name: `--all max requests in flight at concurrency ${CONCURRENCY} (ESC + STS stand-ins)`,
            value: `${par.maxInFlight}`,
            goal: `<= ${CONCURRENCY}`,
            met: par.maxInFlight <= CONCURRENCY,
        });
    } finally {
        await world.close();
    }
    return results;
}
