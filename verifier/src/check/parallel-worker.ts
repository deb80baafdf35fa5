/**
 * The worker thread of {@link parallelStage} (parallel.ts): counts the member marks of a file's JSON while the main
 * thread parses it, then checks the blocks of roles it is sent with a checker of its own and answers each with the
 * results rendered for the report: the JSON report's bytes (escaped and encoded), or the text report's parts (table
 * cells, and details as bytes); the bytes transferred.
 */
import { workerData } from "node:worker_threads";
import { createChecker, type Checker } from "./analyze.js";
import { memberMarksOfBytes } from "./json.js";
import { RESULTS_DEPTH } from "./render.js";
import { CLAIM, SIGNAL, fromColumns, payloadBuffer, renderBlock, type WorkerInit, type WorkerJob, type WorkerReply } from "./parallel.js";

const init = workerData as WorkerInit;

function wake(): void {
    Atomics.add(init.signal, SIGNAL.wake, 1);
    Atomics.notify(init.signal, SIGNAL.wake);
}

/** The input whose blocks come, with its own checker. */
let current: { job: Extract<WorkerJob, { kind: "input" }>; checker: Checker } | undefined;

function answer(job: WorkerJob): WorkerReply | undefined {
    switch (job.kind) {
        case "marks":
            return { kind: "marks", id: job.id, count: memberMarksOfBytes(job.bytes) };
        case "input":
            // Roles of a template's kind seen before are results written from its pieces (prerender.ts), JSON or text.
            current = { job, checker: createChecker(job.options, undefined, { depth: job.render.kind === "json" ? job.render.depth : RESULTS_DEPTH }) };
            return undefined;
        case "block": {
            // A block the main thread took first is its own: neither answered nor checked here.
            if (current === undefined || Atomics.compareExchange(current.job.claims, job.block, CLAIM.free, CLAIM.worker) !== CLAIM.free) return undefined;
            const { checker, job: input } = current;
            try {
                const roles = Array.isArray(job.roles) ? job.roles : fromColumns(job.roles);
                const { payload, verdicts } = renderBlock(checker.roleResults(input.input, roles), input.render, () => Atomics.add(init.signal, SIGNAL.progress, 1));
                return { kind: "block", block: job.block, payload, roles: roles.length, verdicts, audienceFailed: checker.audienceFailed(input.input) };
            } catch (e) {
                return { kind: "block", block: job.block, failed: e instanceof Error ? e.message : String(e) };
            }
        }
    }
}

init.port.on("message", (job: WorkerJob) => {
    let reply: WorkerReply | undefined;
    try {
        reply = answer(job);
    } catch (e) {
        reply = { kind: "failed", failed: e instanceof Error ? e.message : String(e) };
    }
    if (reply === undefined) return;
    // A block's bytes are a view of a buffer of their own (renderItemBytes, TextReport.block): moved, not copied.
    init.port.postMessage(reply, reply.kind === "block" && "payload" in reply ? [payloadBuffer(reply.payload)] : []);
    wake();
});
