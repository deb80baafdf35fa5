/**
 * `check` of a large input on two cores: this thread checks some blocks of the input's roles, one worker thread the
 * others, and the report is written in input order. The JSON report written while checking uses it, and the text
 * report when it is the only output. The worker sends each block's results as the report holds them, not as objects
 * (copying objects between threads costs about what writing their JSON does): for JSON, their bytes
 * ({@link RenderedItems}: their JSON, escaped and encoded); for text, the text report's parts ({@link TextBlock}: the
 * table's cells, which wait for the column widths, and the details as bytes). The bytes are transferred, not copied.
 * The worker is started as soon as a large file has been read, and counts the member marks of its JSON (the
 * duplicate-key check) while this thread decodes and parses it.
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
import { RenderedItems, renderItemBytes } from "../chunks.js";
import { encodeJsonOutput } from "../escape.js";
import type { CheckResult } from "../results.js";
import { templatedItem } from "./prerender.js";
import type { LocalRoles, RoleStage } from "./analyze.js";
import type { ExtractedInput, RoleItem } from "./inputs.js";
import { RESULTS_DEPTH, TextReport, type TextBlock } from "./render.js";

export interface ParallelConfig {
    /** Inputs with fewer roles are checked in this thread alone: starting a worker costs more than it saves. */
    minRoles: number;
    /**
     * Files of at least this many bytes start the worker when they have been read: it counts their JSON's member
     * marks while this thread parses them, and is then ready for their roles.
     */
    minBytes: number;
    /** Roles per block. */
    blockRoles: number;
    /** How many blocks past the one this thread writes next are sent to the worker (its queue). */
    ahead: number;
    /**
     * Whether this thread checks blocks the worker has not started: the one it is to write next, and while it waits
     * for the worker, the next free one after it (default). Without it (the tests: the worker checks every block), this
     * thread checks a block only once the worker is given up.
     */
    steal: boolean;
    /** The worker is given up after this long without checking a role (ms); its blocks are then checked here. */
    stallMs?: number;
    /** At most this many threads check (`check --threads`): 1 is this thread alone; unset, as many as may run (two at most). */
    threads?: number;
    /** The worker's module (tests give one that fails). */
    workerFile?: string;
}

/**
 * Measured over the bench's exports of all-distinct roles, JSON read through a pipe (docs/check.md). Below 25,000 roles
 * the worker's own start (its module loading and first, cold analyses) and the two threads slowing each other down
 * cost about what it saves: 20,000 roles (29 MB) took 1.10 s with a worker started as the file was read, 1.07 s
 * without; 25,000 (36 MB) 1.21 s against 1.26 s; 30,000 (43 MB) 1.33 s against 1.46 s. Most of the gain there is the
 * worker's early start: started only with the roles, 30,000 took 1.43 s. Below 32 MiB the worker's start and count take
 * about as long as this thread's decoding and parsing. Blocks of 256 and 512 roles measured alike; queues of 2, 4 and 8
 * blocks too, at 100,000 roles (docs/performance-history.md, rounds 17 to 19).
 */
export const PARALLEL_DEFAULTS: ParallelConfig = { minRoles: 25_000, minBytes: 32 * 1024 * 1024, blockRoles: 512, ahead: 4, steal: true };

/**
 * A block's results as the report being written holds them, and how many had each verdict: the worker's blocks, and
 * those this thread checked ahead of their turn (held rendered, not as objects the collector copies until written).
 * For the JSON report, their bytes ({@link RenderedItems}); for the text report, its parts ({@link TextBlock}).
 */
export interface RenderedResults<P = RenderedItems> {
    rendered: P;
    roles: number;
    verdicts: Record<Verdict, number>;
    /** Checked by the worker (false: by this thread, ahead of its turn). */
    worker: boolean;
}

/** How a block's results are rendered: as the JSON report's items `depth` arrays deep, or as the text report's parts. */
export type RenderSpec = { kind: "json"; depth: number } | { kind: "text"; colour: boolean };

/** A block's results rendered ({@link renderBlock}), as the worker sends them: their buffer is transferred. */
export type BlockPayload = { kind: "json"; bytes: Uint8Array<ArrayBuffer> } | { kind: "text"; block: TextBlock };

/**
 * `results` rendered as `spec` says, with how many had each verdict; `each` is called after each result is made. JSON:
 * the report's items at the depth ({@link RenderedItems}: their JSON, escaped and encoded); text: the parts
 * {@link TextReport} collects (table cells, and details as bytes).
 */
export function renderBlock(results: Iterable<CheckResult>, spec: RenderSpec, each?: () => void): { payload: BlockPayload; verdicts: Record<Verdict, number> } {
    if (spec.kind === "text") {
        const text = new TextReport(spec.colour);
        for (const result of results) {
            text.add(result);
            each?.();
        }
        const block = text.block();
        return { payload: { kind: "text", block }, verdicts: block.verdicts };
    }
    const made: CheckResult[] = [];
    const verdicts: Record<Verdict, number> = { pass: 0, fail: 0, unknown: 0, error: 0 };
    for (const result of results) {
        made.push(result);
        verdicts[result.verdict]++;
        each?.();
    }
    return { payload: { kind: "json", bytes: renderItemBytes(made, spec.depth, templatedItem, encodeJsonOutput) }, verdicts };
}

/** The buffer a payload's bytes are in: moved to the main thread, not copied. */
export function payloadBuffer(payload: BlockPayload): ArrayBuffer {
    return payload.kind === "json" ? payload.bytes.buffer : payload.block.details.buffer;
}

/** A rendering of blocks: what the worker is told to make, and how this thread holds what it made. */
interface Rendering<P> {
    spec: RenderSpec;
    /** The payload as this thread holds it; undefined when it is not of this rendering. */
    hold(payload: BlockPayload): P | undefined;
}

const JSON_RENDERING: Rendering<RenderedItems> = {
    spec: { kind: "json", depth: RESULTS_DEPTH },
    hold: (p) => (p.kind === "json" ? new RenderedItems(p.bytes, RESULTS_DEPTH) : undefined),
};

function textRendering(colour: boolean): Rendering<TextBlock> {
    return { spec: { kind: "text", colour }, hold: (p) => (p.kind === "text" ? p.block : undefined) };
}

/** How the work of the files a stage was given was shared (for OIDC_GUARD_DEBUG and the tests). */
export interface ParallelStats {
    /** Blocks of inputs large enough for a worker. */
    blocks: number;
    /** Blocks the worker checked. */
    worker: number;
    /** Blocks this thread checked early, ahead of their turn, while it waited for the worker (held until written). */
    early: number;
    /** Files whose member marks the worker counted. */
    counted: number;
}

/** What the worker is started with (its jobs come as messages on `port`). */
export interface WorkerInit {
    /** Shared counters, at {@link SIGNAL}. */
    signal: Int32Array;
    port: MessagePort;
}

/** What the worker is asked to do, in the order asked. */
export type WorkerJob =
    /** Count the member marks of a file's JSON, its bytes in shared memory; `id` tells this file's count from others'. */
    | { kind: "marks"; id: number; bytes: Uint8Array }
    /** Check the roles of this input from now on (each block is sent apart). */
    | {
          kind: "input";
          options: AnalysisOptions;
          /** The input without its roles: its providers, kind and notes. */
          input: ExtractedInput;
          /** How its blocks' results are rendered. */
          render: RenderSpec;
          /** Who checks each block, one slot a block ({@link CLAIM}): taken by one thread, never by both. */
          claims: Int32Array;
      }
    /** Check these roles of the input, the block's slot in `claims` claimed first. */
    | { kind: "block"; block: number; roles: RoleItem[] | RoleColumns };

/**
 * A block of roles as it is sent to the worker when each is a resource's role and nothing more (`{target: {file,
 * resource: {urn, type, name}}, trustPolicy, property}`, in that order: nearly every role of a stack export): a column
 * of each field. The structured clone writes each object's keys, so columns cost a third of the objects to send
 * (measured: 54 ms against 79 ms for 100,000 roles) and a third to receive (34 ms against 105 ms).
 */
export interface RoleColumns {
    file: string;
    urn: string[];
    type: string[];
    name: string[];
    trustPolicy: unknown[];
    property: string[];
}

/** `roles` as columns ({@link RoleColumns}), or undefined when one of them is more than a resource's role. */
export function toColumns(roles: readonly RoleItem[]): RoleColumns | undefined {
    const file = roles[0]?.target.file;
    if (file === undefined) return undefined;
    const c: RoleColumns = { file, urn: [], type: [], name: [], trustPolicy: [], property: [] };
    for (const role of roles) {
        const r = role.target.resource;
        if (r === undefined || role.target.file !== file || !hasKeys(role, ROLE_KEYS) || !hasKeys(role.target, TARGET_KEYS) || !hasKeys(r, RESOURCE_KEYS)) return undefined;
        if (typeof r.urn !== "string" || typeof r.type !== "string" || typeof r.name !== "string" || typeof role.property !== "string") return undefined;
        c.urn.push(r.urn);
        c.type.push(r.type);
        c.name.push(r.name);
        c.trustPolicy.push(role.trustPolicy);
        c.property.push(role.property);
    }
    return c;
}

/** The roles {@link toColumns} made `c` of: the same fields, in the same order. */
export function fromColumns(c: RoleColumns): RoleItem[] {
    const out: RoleItem[] = [];
    for (let i = 0; i < c.urn.length; i++) {
        out.push({ target: { file: c.file, resource: { urn: c.urn[i]!, type: c.type[i]!, name: c.name[i]! } }, trustPolicy: c.trustPolicy[i], property: c.property[i]! });
    }
    return out;
}

const ROLE_KEYS = ["target", "trustPolicy", "property"];
const TARGET_KEYS = ["file", "resource"];
const RESOURCE_KEYS = ["urn", "type", "name"];

/** Whether `o`'s own enumerable keys are `keys`, in that order. */
function hasKeys(o: object, keys: readonly string[]): boolean {
    let i = 0;
    for (const k in o) {
        if (!Object.prototype.hasOwnProperty.call(o, k) || keys[i] !== k) return false;
        i++;
    }
    return i === keys.length;
}

/** The worker's answers. */
export type WorkerReply =
    | { kind: "marks"; id: number; count: number }
    /** `payload`: the results rendered ({@link renderBlock}), their buffer transferred. */
    | { kind: "block"; block: number; payload: BlockPayload; roles: number; verdicts: Record<Verdict, number>; audienceFailed: boolean }
    | { kind: "block"; block: number; failed: string }
    | { kind: "failed"; failed: string };

/** Slots of {@link WorkerInit.signal}. */
export const SIGNAL = {
    /** Bumped (and notified) whenever the worker replies or exits: what this thread waits on. */
    wake: 0,
    /** Roles the worker has checked. */
    progress: 1,
    /** Set when the worker exits (by a hook set before its module loads). */
    exited: 2,
} as const;

/** The values of a block's slot in a claims array, changed only from `free` (compare and exchange). */
export const CLAIM = { free: 0, worker: 1, here: 2 } as const;

/**
 * A {@link RoleStage} that checks an input of at least `minRoles` roles with one worker thread, when the process
 * may use more than one core ({@link usableCores}); any other input in this thread alone.
 *
 * A file of at least `minBytes` starts the worker once it is read: the worker counts its member marks while this
 * thread parses it, and stays for its roles. The roles go in blocks. Every block is sent to the worker, `ahead`
 * blocks before this thread is to write it; each block is checked by the first thread to claim it. The worker
 * claims the blocks it is sent in turn; this thread claims the block it is to write next if the worker has not, and,
 * while it waits for the worker's, the next free block after it, whose results it holds until their turn. So neither
 * thread waits while there is a block to check, and this thread, which also writes the report, checks what the
 * worker does not get to.
 */
export function parallelStage(options: AnalysisOptions, config: Partial<ParallelConfig> = {}, stats?: ParallelStats): RoleStage<RenderedResults> {
    return stageWith(options, config, stats, JSON_RENDERING);
}

/** {@link parallelStage} for the text report: the blocks come as its parts ({@link TextBlock}), `colour` or not. */
export function parallelTextStage(
    options: AnalysisOptions,
    colour: boolean,
    config: Partial<ParallelConfig> = {},
    stats?: ParallelStats,
): RoleStage<RenderedResults<TextBlock>> {
    return stageWith(options, config, stats, textRendering(colour));
}

function stageWith<P>(options: AnalysisOptions, config: Partial<ParallelConfig>, stats: ParallelStats | undefined, rendering: Rendering<P>): RoleStage<RenderedResults<P>> {
    const given: ParallelConfig = { ...PARALLEL_DEFAULTS, ...config };
    // At least one role a block and one block ahead: a block is always sent before it is waited for.
    const c: ParallelConfig = { ...given, blockRoles: Math.max(1, Math.floor(given.blockRoles)), ahead: Math.max(1, Math.floor(given.ahead)) };
    const stallMs = c.stallMs ?? Math.max(10_000, 3 * (options.timeBudgetMs ?? DEFAULT_TIME_BUDGET_MS));
    const start = (): WorkerLink | undefined => WorkerLink.start(c.workerFile ?? workerFile(), stallMs);
    // A worker started for a file's member marks, kept for its roles (or the next file's).
    let spare: WorkerLink | undefined;
    let files = 0;
    const two = Math.min(usableCores(), c.threads ?? Infinity) >= 2;

    const roleStage = function* (input: ExtractedInput, local: LocalRoles): Generator<CheckResult | RenderedResults<P>> {
        const roles = input.roles;
        if (roles.length < c.minRoles || !two) {
            yield* local.results(roles);
            return;
        }
        const blocks = Math.ceil(roles.length / c.blockRoles);
        if (stats) stats.blocks += blocks;
        const slice = (b: number): RoleItem[] => roles.slice(b * c.blockRoles, (b + 1) * c.blockRoles);
        const claims = new Int32Array(new SharedArrayBuffer(blocks * Int32Array.BYTES_PER_ELEMENT));
        const claim = (b: number): boolean => Atomics.compareExchange(claims, b, CLAIM.free, CLAIM.here) === CLAIM.free;
        // Blocks this thread checked before their turn, while it waited for the worker's: rendered at once.
        const held = new Map<number, RenderedResults<P>>();
        let link = spare ?? start();
        spare = undefined;
        if (link !== undefined && !link.send({ kind: "input", options, input: { ...input, roles: [] }, render: rendering.spec, claims })) {
            link.close();
            link = undefined;
        }
        let sent = 0;
        try {
            for (let b = 0; b < blocks; b++) {
                for (; link !== undefined && sent < Math.min(blocks, b + 1 + c.ahead); sent++) {
                    const roles = slice(sent);
                    if (!link.send({ kind: "block", block: sent, roles: toColumns(roles) ?? roles })) {
                        // A block that cannot be sent: every block not yet checked is checked here.
                        link.close();
                        link = undefined;
                    }
                }
                const early = held.get(b);
                if (early !== undefined) {
                    held.delete(b);
                    yield early;
                    continue;
                }
                if (link !== undefined) {
                    const steal = {
                        mine: () => claim(b),
                        meanwhile: (): boolean => {
                            for (let v = b + 1; v < sent; v++) {
                                if (!claim(v)) continue;
                                const block = slice(v);
                                const { payload, verdicts } = renderBlock(local.results(block), rendering.spec);
                                held.set(v, { rendered: rendering.hold(payload)!, roles: block.length, verdicts, worker: false });
                                if (stats) stats.early++;
                                return true;
                            }
                            return false;
                        },
                    };
                    // This thread's audience check failed: from here on every result says so, as this thread makes them.
                    const got = local.failed() ? undefined : link.take(b, rendering, c.steal ? steal : undefined);
                    if (got !== undefined && got !== "mine") {
                        if (stats) stats.worker++;
                        yield got;
                        continue;
                    }
                    if (got === undefined) {
                        link.close();
                        link = undefined;
                    }
                }
                yield* local.results(slice(b));
            }
        } finally {
            link?.close();
        }
    };
    return Object.assign(roleStage, {
        sharedFrom: two ? c.minBytes : undefined,
        marksOf(bytes: Uint8Array): () => number | undefined {
            const none = (): undefined => undefined;
            if (!two || bytes.length < c.minBytes || !(bytes.buffer instanceof SharedArrayBuffer)) return none;
            spare ??= start();
            const link = spare;
            const id = ++files;
            if (link === undefined || !link.send({ kind: "marks", id, bytes })) {
                link?.close();
                spare = undefined;
                return none;
            }
            return () => {
                const count = link.takeMarks(id);
                if (count === undefined) {
                    // Counted here instead; a worker that could not count is not given roles either.
                    link.close();
                    if (spare === link) spare = undefined;
                } else if (stats) stats.counted++;
                return count;
            };
        },
        close(): void {
            spare?.close();
            spare = undefined;
        },
    });
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

    /** Starts a worker, or gives undefined when it cannot be started (its work is then done here). */
    static start(file: string, stallMs: number): WorkerLink | undefined {
        try {
            const signal = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
            const { port1, port2 } = new MessageChannel();
            const init: WorkerInit = { signal, port: port2 };
            // The exit hook comes first: however the worker ends (its module missing or failing to load, an exception
            // no job caught), the thread waiting for it stops waiting at once. Under the TypeScript sources (the
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

    /** Sends a job; false when it cannot be sent (a value the structured clone refuses). */
    send(job: WorkerJob): boolean {
        try {
            this.port.postMessage(job);
            return true;
        } catch {
            return false;
        }
    }

    /**
     * The member marks the worker counted for the file `id`, waiting for them; undefined when it did not. The count of
     * an earlier file that nobody took (its bytes were not UTF-8 or not JSON) is passed over.
     */
    takeMarks(id: number): number | undefined {
        for (;;) {
            const reply = this.next("marks");
            if (reply === "mine" || reply?.kind !== "marks") return undefined;
            if (reply.id === id) return reply.count;
        }
    }

    /**
     * The worker's results for `block`, waiting for them; "mine" when `steal.mine` claims the block for this thread
     * first (the worker has not started it); undefined when the worker failed or stopped, did not check a role for
     * `stallMs`, answered another block, or its stack audience check failed. While the worker has the block, this
     * thread does `steal.meanwhile` (checks a later block) for as long as it finds one, and waits only when it does not.
     */
    take<P>(block: number, rendering: Rendering<P>, steal?: { mine: () => boolean; meanwhile: () => boolean }): RenderedResults<P> | "mine" | undefined {
        const reply = this.next("block", steal);
        if (reply === "mine") return reply;
        if (reply?.kind !== "block" || reply.block !== block || "failed" in reply || reply.audienceFailed) return undefined;
        const rendered = rendering.hold(reply.payload);
        return rendered === undefined ? undefined : { rendered, roles: reply.roles, verdicts: reply.verdicts, worker: true };
    }

    /**
     * The worker's next reply, waiting for it (bounded as {@link take} says); "mine" when `steal.mine` says so first;
     * undefined when the worker exited or stalled. Waiting for a block, a count of member marks no one took (the
     * file was not parsed as JSON) is passed over.
     */
    private next(want: WorkerReply["kind"], steal?: { mine: () => boolean; meanwhile: () => boolean }): WorkerReply | "mine" | undefined {
        let progress = Atomics.load(this.signal, SIGNAL.progress);
        let since = Date.now();
        for (;;) {
            // Read before looking for the reply: a reply that comes after the look changes it, and the wait ends at once.
            const wake = Atomics.load(this.signal, SIGNAL.wake);
            const got = receiveMessageOnPort(this.port);
            if (got !== undefined) {
                const reply = got.message as WorkerReply;
                if (reply.kind === "marks" && want !== "marks") continue;
                return reply;
            }
            if (Atomics.load(this.signal, SIGNAL.exited) !== 0) return undefined;
            if (steal !== undefined) {
                if (steal.mine()) return "mine";
                if (steal.meanwhile()) continue;
            }
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
