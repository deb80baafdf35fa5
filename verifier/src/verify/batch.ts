/**
 * Verifying many environments: several refs, or `--all <org>` (list the organization's environments with the SDK,
 * keep those whose definition opens aws-login, verify them). Work runs through one pool of `concurrency` workers,
 * and each worker has at most one request in flight, so no more than `concurrency` requests are ever in flight.
 * One deadline covers the whole batch.
 */
import type { VerifyCheck } from "../results.js";
import { toolInfo } from "../version.js";
import { Deadline } from "./deadline.js";
import { couldNotVerifyDetail, ServiceError, VerifyConfigError } from "./errors.js";
import { formatEnvRef, parseEnvRef, type EnvRef } from "./ref.js";
import type { BatchVerificationResult, VerificationResult } from "./types.js";
import { checkDenied, createContext, verifyWithContext, type InternalVerifyOptions, type VerifyContext } from "./verify-environment.js";

export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;

export interface BatchOptions extends InternalVerifyOptions {
    /** Environments verified at once (default 8, at most 64). */
    concurrency?: number;
    /** Called after each environment is done (verified, or skipped by `--all`), for progress on a TTY. */
    onProgress?: (done: number, total: number, environment: string, outcome: VerificationResult["verdict"] | "skipped") => void;
}

/** What to verify: explicit refs, or every aws-login environment of an organization. */
export type BatchTarget = { refs: readonly string[] } | { all: string };

/** Runs `fn` over `items` with at most `limit` calls pending at once; results keep the input order. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
    const results = new Array<R>(items.length);
    let next = 0;
    const worker = async (): Promise<void> => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i] as T, i);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
    return results;
}

/** True when an environment definition (parsed YAML) opens aws-login anywhere under `values`. */
export function definitionOpensAwsLogin(definition: unknown): boolean {
    const visit = (node: unknown, depth: number): boolean => {
        if (depth > 64 || node === null || typeof node !== "object") return false;
        if (Array.isArray(node)) return node.some((n) => visit(n, depth + 1));
        const o = node as Record<string, unknown>;
        if ("fn::open::aws-login" in o) return true;
        const open = o["fn::open"];
        if (open && typeof open === "object" && (open as Record<string, unknown>).provider === "aws-login") return true;
        return Object.values(o).some((v) => visit(v, depth + 1));
    };
    const values = definition && typeof definition === "object" ? (definition as Record<string, unknown>).values : undefined;
    return visit(values, 0);
}

function worst(verdicts: VerificationResult["verdict"][]): VerificationResult["verdict"] {
    if (verdicts.includes("failed")) return "failed";
    if (verdicts.includes("error")) return "error";
    return "verified";
}

/** A result for an environment whose definition could not be read (so it was neither picked nor skipped). */
function errorResult(ref: EnvRef, e: ServiceError): VerificationResult {
    return {
        tool: toolInfo(),
        environment: formatEnvRef(ref),
        verdict: "error",
        checks: [{ id: "environment-opens", status: "fail", detail: couldNotVerifyDetail(e) }],
        callerIdentity: null,
        expectedRole: null,
        accessKeyId: null,
        sts: "skipped",
        error: { kind: e.kind, message: e.message },
    };
}

/**
 * Verifies several environments. Throws VerifyConfigError for bad options; everything on the wire (including an
 * organization that cannot be listed) ends in the result.
 */
export async function verifyEnvironments(target: BatchTarget, options: BatchOptions = {}): Promise<BatchVerificationResult> {
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
        throw new VerifyConfigError(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${String(options.concurrency)}`);
    }
    const refs = "refs" in target ? target.refs.map((r) => parseEnvRef(r)) : [];
    const org = "all" in target ? parseEnvRef(`${target.all}/p/e`, "--all").org : undefined;
    // Denied environments are checked once for the batch, not once per environment.
    const ctx: VerifyContext = createContext({ ...options, expectDenied: [] });
    const denied = (options.expectDenied ?? []).map((r) => parseEnvRef(r, "--expect-denied"));
    const deadline = new Deadline(ctx.timeoutMs, ctx.signal);

    const skipped: { environment: string; reason: string }[] = [];
    type Task = { kind: "env"; ref: EnvRef; listed: boolean } | { kind: "denied"; ref: EnvRef };
    let tasks: Task[];
    if (org !== undefined) {
        let listed;
        try {
            listed = await ctx.esc.list(org, deadline);
        } catch (e) {
            if (!(e instanceof ServiceError)) throw e;
            return {
                tool: toolInfo(),
                verdict: "error",
                results: [],
                checks: [{ id: "environments-listed", status: "fail", detail: couldNotVerifyDetail(e) }],
                skipped: [],
                summary: { verified: 0, failed: 0, error: 0 },
            };
        }
        tasks = listed.map((e) => ({ kind: "env" as const, ref: { org, project: e.project, name: e.name }, listed: true }));
    } else {
        tasks = refs.map((ref) => ({ kind: "env" as const, ref, listed: false }));
    }
    const main = tasks.length === 1 ? tasks[0]?.ref : undefined;
    for (const ref of denied) tasks.push({ kind: "denied" as const, ref });

    // One pool for everything: a listed environment's definition is read, and if it opens aws-login, it is verified
    // by the same worker, so no phase waits for the slowest of another.
    const total = tasks.filter((t) => t.kind === "env").length;
    let done = 0;
    type EnvOutcome = { kind: "result"; result: VerificationResult } | { kind: "skipped"; skipped: { environment: string; reason: string } };
    const verifyTask = async (ref: EnvRef, listed: boolean): Promise<EnvOutcome> => {
        if (listed) {
            let opens: boolean;
            try {
                opens = definitionOpensAwsLogin(await ctx.esc.getDefinition(ref, deadline));
            } catch (e) {
                if (!(e instanceof ServiceError)) throw e;
                return { kind: "result", result: errorResult(ref, e) };
            }
            if (!opens) return { kind: "skipped", skipped: { environment: formatEnvRef(ref), reason: "its definition opens no aws-login" } };
        }
        return { kind: "result", result: await verifyWithContext(ctx, ref, deadline) };
    };
    const outcomes = await mapPool(tasks, concurrency, async (t) => {
        if (t.kind === "denied") {
            return { kind: "denied" as const, denied: await checkDenied(ctx, main, t.ref, deadline) };
        }
        const r = await verifyTask(t.ref, t.listed);
        done++;
        options.onProgress?.(done, total, formatEnvRef(t.ref), r.kind === "result" ? r.result.verdict : "skipped");
        return r;
    });
    for (const o of outcomes) if (o.kind === "skipped") skipped.push(o.skipped);

    const results = outcomes.flatMap((o) => (o.kind === "result" ? [o.result] : []));
    const checks: VerifyCheck[] = [];
    const errorChecks = new Set<VerifyCheck>();
    for (const o of outcomes) {
        if (o.kind !== "denied") continue;
        checks.push(o.denied.check);
        if (o.denied.error) errorChecks.add(o.denied.check);
    }
    if (org !== undefined && results.length === 0) {
        checks.push({
            id: "environments-found",
            status: "fail",
            detail: `no environment of ${org} opens fn::open::aws-login (${skipped.length} listed)`,
        });
    }
    const verdicts = results.map((r) => r.verdict);
    if (checks.some((c) => c.status === "fail" && !errorChecks.has(c))) verdicts.push("failed");
    if (errorChecks.size > 0) verdicts.push("error");
    const summary = { verified: 0, failed: 0, error: 0 };
    for (const r of results) summary[r.verdict]++;
    return {
        tool: toolInfo(),
        verdict: worst(verdicts),
        results,
        checks,
        ...(org !== undefined ? { skipped } : {}),
        summary,
    };
}
