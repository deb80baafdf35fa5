/**
 * `check` of a large input on two cores: this thread checks some blocks of the input's roles, one worker thread the
 * others, and the report is written in input order. Only the JSON report written while checking uses it: the worker
 * sends each block's results as the JSON text the report holds for them ({@link RenderedItems}), not as objects
 * (copying objects between threads costs about what writing their JSON does).
 *
 * The results are the same as one thread makes: the worker runs the same checker over the same roles, and the
 * analysis gives a document the same result whatever its caches hold. What cannot be the same is taken back here:
 * a worker that fails, stops, stalls or whose stack audience check fails gives its block, and every block after
 * it, to this thread, which checks them as if there had been no worker (fails closed the way one thread does).
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { DEFAULT_TIME_BUDGET_MS, type AnalysisOptions, type Verdict } from "oidc-guard-policypack/analysis";
import { RenderedItems } from "../chunks.js";
import type { RoleStage } from "./analyze.js";
import type { ExtractedInput, RoleItem } from "./inputs.js";
import { RESULTS_DEPTH } from "./render.js";

export interface ParallelConfig {
    /** Inputs with fewer roles are checked in this thread alone: starting a worker costs more than it saves. */
    minRoles: number;
    /** Roles per block. */
    blockRoles: number;
    /** The first blocks, which this thread checks while the worker starts. */
    warmBlocks: number;
    /** After those, this thread checks one block of every `every`, and the worker the others. */
    every: number;
    /** How many of the worker's blocks are sent to it ahead of the one this thread waits for. */
    ahead: number;
    /** The worker is given up after this long without checking a role (ms); its blocks are then checked here. */
    stallMs?: number;
    /** The worker's module (tests give one that fails). */
    workerFile?: string;
}

/**
 * Measured over the bench's exports of all-distinct roles, JSON read through a pipe (docs/check.md): with the worker
 * 10,000 roles took 1.05 s against 0.83 s without, 30,000 about 1.9 s against 1.8 s, 50,000 about 2.6 s against
 * 2.7 s, 75,000 3.3 s against 3.9 s and 100,000 3.9 s against 4.7 s. The worker's start (its own module loading and
 * first, cold analyses) and the two threads slowing each other down cost about what it saves below 50,000. This
 * thread also writes the report, so it checks one block in three; blocks of 128 to 512 roles, and one in two,
 * measured alike.
 */
export const PARALLEL_DEFAULTS: ParallelConfig = { minRoles: 50_000, blockRoles: 512, warmBlocks: 4, every: 3, ahead: 4 };

/** Roles a worker checked: their results as the report's JSON text, and how many had each verdict. */
export interface RenderedResults {
    rendered: RenderedItems;
    roles: number;
    verdicts: Record<Verdict, number>;
}

/** What the worker is started with. */
export interface WorkerInit {
    options: AnalysisOptions;
    /** The input without its roles: its providers, kind and notes (the roles come in blocks). */
    input: ExtractedInput;
    /** The depth the results array has in the report. */
    depth: number;
    /** Shared counters, at {@link SIGNAL}. */
    signal: Int32Array;
    port: MessagePort;
}

/** A block of roles to check. */
export interface BlockJob {
    block: number;
    roles: RoleItem[];
}

/** The worker's answer for a block. */
export type BlockReply =
    | { block: number; text: string; roles: number; verdicts: Record<Verdict, number>; audienceFailed: boolean }
    | { block: number; failed: string };

/** Slots of {@link WorkerInit.signal}. */
export const SIGNAL = {
    /** Bumped (and notified) whenever the worker replies or exits: what this thread waits on. */
    wake: 0,
    /** Roles the worker has checked. */
    progress: 1,
    /** Set when the worker exits (by a hook set before its module loads). */
    exited: 2,
} as const;

/**
 * A {@link RoleStage} that checks an input of at least `minRoles` roles with one worker thread, when the process
 * may use more than one core ({@link usableCores}); any other input in this thread alone.
 */
export function parallelStage(options: AnalysisOptions, config: Partial<ParallelConfig> = {}): RoleStage<RenderedResults> {
    const given: ParallelConfig = { ...PARALLEL_DEFAULTS, ...config };
    // At least one role a block and one block ahead: a block is always sent before it is waited for.
    const c: ParallelConfig = { ...given, blockRoles: Math.max(1, Math.floor(given.blockRoles)), ahead: Math.max(1, Math.floor(given.ahead)) };
    const stallMs = c.stallMs ?? Math.max(10_000, 3 * (options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS));
    return function* (input, local) {
        const roles = input.roles;
        if (roles.length < c.minRoles || usableCores() < 2) {
            yield* local.results(roles);
            return;
        }
        const blocks = Math.ceil(roles.length / c.blockRoles);
        const slice = (b: number): RoleItem[] => roles.slice(b * c.blockRoles, (b + 1) * c.blockRoles);
        const remote = (b: number): boolean => b >= c.warmBlocks && (b - c.warmBlocks) % c.every !== 0;
        let link = WorkerLink.start(options, input, c.workerFile ?? workerFile(), stallMs);
        let sent = 0;
        let inFlight = 0;
        try {
            for (let b = 0; b < blocks; b++) {
                for (; link !== undefined && sent < blocks && inFlight < c.ahead; sent++) {
                    if (!remote(sent)) continue;
                    if (!link.send({ block: sent, roles: slice(sent) })) {
                        // A block that cannot be sent: this block and every later one are checked here.
                        link.close();
                        link = undefined;
                        break;
                    }
                    inFlight++;
                }
                if (link !== undefined && remote(b)) {
                    inFlight--;
                    // This thread's audience check failed: from here on every result says so, as this thread makes them.
                    const reply = local.failed() ? undefined : link.take(b);
                    if (reply !== undefined) {
                        yield reply;
                        continue;
                    }
                    link.close();
                    link = undefined;
                }
                yield* local.results(slice(b));
            }
        } finally {
            link?.close();
        }
    };
}

/**
 * The cores this process may use: the ones it may run on, fewer when its control group's CPU quota allows fewer (a
 * container limited to one CPU on a machine of many: two threads there would share one core and take longer).
 */
export function usableCores(): number {
    const quota = cgroupCpuLimit(readSmall("/sys/fs/cgroup/cpu.max"), readSmall("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), readSmall("/sys/fs/cgroup/cpu/cpu.cfs_period_us"));
    return Math.min(availableParallelism(), quota ?? Infinity);
}

/**
 * The CPUs a control group's quota allows, from cgroup v2's `cpu.max` (`<quota> <period>`, or `max <period>`) or
 * cgroup v1's `cpu.cfs_quota_us` and `cpu.cfs_period_us` (-1: no quota); undefined when none is set or readable.
 */
export function cgroupCpuLimit(cpuMax: string | undefined, v1Quota: string | undefined, v1Period: string | undefined): number | undefined {
    const v2 = cpuMax === undefined ? undefined : /^(\d+) (\d+)\s*$/.exec(cpuMax);
    if (v2) return ratio(v2[1]!, v2[2]!);
    if (cpuMax !== undefined && /^max \d+\s*$/.test(cpuMax)) return undefined;
    if (v1Quota === undefined || v1Period === undefined || !/^\d+\s*$/.test(v1Quota) || !/^\d+\s*$/.test(v1Period)) return undefined;
    return ratio(v1Quota, v1Period);
}

function ratio(quota: string, period: string): number | undefined {
    const q = Number(quota);
    const p = Number(period);
    return p > 0 && q > 0 ? q / p : undefined;
}

/** A control group file's text (a few bytes), or undefined when there is none. */
function readSmall(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8").slice(0, 64);
    } catch {
        return undefined;
    }
}

/** The worker's module beside this one (under the TypeScript sources, the tests: loaded through tsx). */
function workerFile(): string {
    return resolve(__dirname, `parallel-worker${__filename.endsWith(".ts") ? ".ts" : ".js"}`);
}

/** One worker thread and the channel to it; every wait on it is bounded by its progress. */
class WorkerLink {
    private constructor(
        private readonly worker: Worker,
        private readonly port: MessagePort,
        private readonly signal: Int32Array,
        private readonly stallMs: number,
    ) {}

    /** Starts the worker, or gives undefined when it cannot be started (the input is then checked here). */
    static start(options: AnalysisOptions, input: ExtractedInput, file: string, stallMs: number): WorkerLink | undefined {
        try {
            const signal = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
            const { port1, port2 } = new MessageChannel();
            const init: WorkerInit = { options, input: { ...input, roles: [] }, depth: RESULTS_DEPTH, signal, port: port2 };
            // The exit hook comes first: however the worker ends (its module missing or failing to load, an exception
            // no block caught), the thread waiting for it stops waiting at once. Under the TypeScript sources (the
            // tests) the module is loaded through tsx.
            const code = [
                `const { workerData } = require("node:worker_threads");`,
                `const signal = workerData.signal;`,
                `process.on("exit", () => { Atomics.store(signal, ${SIGNAL.exited}, 1); Atomics.add(signal, ${SIGNAL.wake}, 1); Atomics.notify(signal, ${SIGNAL.wake}); });`,
                file.endsWith(".ts") ? `require("tsx/cjs");` : "",
                `require(${JSON.stringify(file)});`,
            ].join("\n");
            // Its stdout and stderr are its own (never read): nothing it might print reaches the report or the log.
            const worker = new Worker(code, { eval: true, workerData: init, transferList: [port2], stdout: true, stderr: true });
            // Neither keeps the process alive; what the worker throws is seen here as its exit, never as an uncaught error.
            worker.unref();
            worker.on("error", () => undefined);
            port1.unref();
            return new WorkerLink(worker, port1, signal, stallMs);
        } catch {
            return undefined;
        }
    }

    /** Sends a block; false when it cannot be sent (a value the structured clone refuses). */
    send(job: BlockJob): boolean {
        try {
            this.port.postMessage(job);
            return true;
        } catch {
            return false;
        }
    }

    /**
     * The worker's results for `block`, waiting for them; undefined when the worker failed or stopped, did not check
     * a role for `stallMs`, answered another block, or its stack audience check failed.
     */
    take(block: number): RenderedResults | undefined {
        let progress = Atomics.load(this.signal, SIGNAL.progress);
        let since = Date.now();
        for (;;) {
            // Read before looking for the reply: a reply that comes after the look changes it, and the wait ends at once.
            const wake = Atomics.load(this.signal, SIGNAL.wake);
            const got = receiveMessageOnPort(this.port);
            if (got !== undefined) {
                const reply = got.message as BlockReply;
                if (reply.block !== block || "failed" in reply || reply.audienceFailed) return undefined;
                return { rendered: new RenderedItems(reply.text, RESULTS_DEPTH), roles: reply.roles, verdicts: reply.verdicts };
            }
            if (Atomics.load(this.signal, SIGNAL.exited) !== 0) return undefined;
            Atomics.wait(this.signal, SIGNAL.wake, wake, 250);
            const now = Atomics.load(this.signal, SIGNAL.progress);
            if (now !== progress) {
                progress = now;
                since = Date.now();
            } else if (Date.now() - since > this.stallMs) {
                return undefined;
            }
        }
    }

    close(): void {
        this.port.close();
        void this.worker.terminate();
    }
}
