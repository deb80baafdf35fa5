/**
 * Time limits: one overall deadline per verification (`--timeout`), a timeout on every request, and the retry
 * policy (backoff, `Retry-After`). Every wait is bounded by the deadline.
 */
import { ServiceError } from "./errors.js";
import { formatSeconds } from "../read.js";

/** The overall deadline of an operation, with an AbortSignal that fires when it passes (or when `parent` aborts). */
export class Deadline {
    readonly at: number;
    readonly signal: AbortSignal;

    constructor(
        readonly totalMs: number,
        parent?: AbortSignal,
    ) {
        this.at = Date.now() + totalMs;
        const own = AbortSignal.timeout(Math.max(1, totalMs));
        this.signal = parent ? AbortSignal.any([own, parent]) : own;
    }

    remainingMs(): number {
        return Math.max(0, this.at - Date.now());
    }

    expired(): boolean {
        return this.signal.aborted || this.remainingMs() <= 0;
    }

    /** The error to raise when the deadline has passed. */
    error(what: string): ServiceError {
        return new ServiceError(
            "timeout",
            `${what}: the overall deadline of ${formatSeconds(this.totalMs)} passed`,
            undefined,
            "raise --timeout, or check the network path to the service",
        );
    }

    /**
     * A signal for one request: aborts at `requestTimeoutMs` or at the deadline, whichever is first.
     * `timedOut()` tells afterwards whether the request's own timeout (not the deadline) fired.
     */
    requestSignal(requestTimeoutMs: number): { signal: AbortSignal; timeoutMs: number; timedOut: () => boolean } {
        const timeoutMs = Math.max(1, Math.min(requestTimeoutMs, this.remainingMs()));
        const own = AbortSignal.timeout(timeoutMs);
        return { signal: AbortSignal.any([own, this.signal]), timeoutMs, timedOut: () => own.aborted };
    }
}

/** Resolves after `ms`, or rejects with the deadline error as soon as the deadline passes. */
export function sleep(ms: number, deadline: Deadline, what: string): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    if (ms > deadline.remainingMs()) return Promise.reject(deadline.error(what));
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            deadline.signal.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        const onAbort = (): void => {
            clearTimeout(timer);
            reject(deadline.error(what));
        };
        deadline.signal.addEventListener("abort", onAbort, { once: true });
    });
}

/** How requests are retried. */
export interface RetryPolicy {
    /** Attempts in all, including the first (default 4, as the esc CLI does). */
    maxAttempts: number;
    /** First backoff delay; doubles on each retry (default 1000 ms, as the esc CLI does). */
    baseDelayMs: number;
    /** Longest single wait, also for Retry-After (default 30 s). */
    maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 1000, maxDelayMs: 30_000 };

// RFC 9110 §5.6.7 HTTP-date, in its three forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850
// form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
const DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)";
const MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)";
const TIME = "\\d{2}:\\d{2}:\\d{2}";
const HTTP_DATE = new RegExp(
    `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT` +
        `|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} ${TIME} GMT` +
        `|${DAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`,
);

/**
 * Parses a `Retry-After` header: delta-seconds (digits only) or an HTTP-date (RFC 9110). Returns milliseconds to
 * wait, or undefined when the header is absent or is neither, so that the caller falls back to its own backoff.
 * `Date.parse` alone is not the test: it reads `-5` or `1.5` as dates in the past, which would mean no wait at all.
 */
export function parseRetryAfter(value: string | undefined | null, now = Date.now()): number | undefined {
    if (value === undefined || value === null) return undefined;
    const v = value.trim();
    if (/^\d+$/.test(v)) return Number(v) * 1000;
    if (!HTTP_DATE.test(v)) return undefined;
    // asctime has no zone: it is GMT.
    const date = Date.parse(/GMT$/.test(v) ? v : `${v} GMT`);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
    return undefined;
}

/** The backoff before retry number `retry` (1-based): base, 2×base, 4×base, … capped at maxDelayMs. */
export function backoffMs(policy: RetryPolicy, retry: number): number {
    return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
}
