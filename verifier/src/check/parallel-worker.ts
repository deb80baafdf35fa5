/**
 * The worker thread of {@link parallelStage} (parallel.ts): checks the blocks of roles it is sent with a checker of
 * its own and answers each with the results' JSON text for the report.
 */
import { workerData } from "node:worker_threads";
import type { Verdict } from "oidc-guard-policypack/analysis";
import { renderItems } from "../chunks.js";
import type { CheckResult } from "../results.js";
import { createChecker } from "./analyze.js";
import { SIGNAL, type BlockJob, type BlockReply, type WorkerInit } from "./parallel.js";

const init = workerData as WorkerInit;
const checker = createChecker(init.options);

function wake(): void {
    Atomics.add(init.signal, SIGNAL.wake, 1);
    Atomics.notify(init.signal, SIGNAL.wake);
}

init.port.on("message", (job: BlockJob) => {
    let reply: BlockReply;
    try {
        const results: CheckResult[] = [];
        const verdicts: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
        for (const result of checker.roleResults(init.input, job.roles)) {
            results.push(result);
            verdicts[result.verdict]++;
            Atomics.add(init.signal, SIGNAL.progress, 1);
        }
        const text = renderItems(results, init.depth);
        reply = { block: job.block, text, roles: job.roles.length, verdicts, audienceFailed: checker.audienceFailed(init.input) };
    } catch (e) {
        reply = { block: job.block, failed: e instanceof Error ? e.message : String(e) };
    }
    init.port.postMessage(reply);
    wake();
});
