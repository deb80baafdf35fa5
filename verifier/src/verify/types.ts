/**
 * Public types of `verifyEnvironment`. The result is the `--format json` shape (verifier/schemas/verify-result.schema.json).
 */
import type { VerifyBatchReport, VerifyCheck, VerifyReport } from "../results.js";

/** The result of verifying one environment: exactly what `oidc-guard verify --format json` prints. */
export type VerificationResult = VerifyReport;
/** The result of verifying several environments (several refs or `--all`). */
export type BatchVerificationResult = VerifyBatchReport;
export type { VerifyCheck };

/** Stable check ids, in the order they are reported. `expect-denied:<org>/<project>/<env>` is added per environment. */
export const CHECK_IDS = {
    opens: "environment-opens",
    present: "credentials-present",
    agree: "credentials-agree",
    temporary: "credentials-temporary",
    secret: "credentials-secret",
    expiry: "credentials-expiry",
    works: "sts-caller-identity",
    role: "expected-role",
    expectDenied: "expect-denied",
} as const;

/** Where the expected role came from. */
export type RoleSource = "option" | "stack-outputs" | "definition";

/** Options of `verifyEnvironment`. Everything is optional except that `env` must hold PULUMI_ACCESS_TOKEN. */
export interface VerifyOptions {
    /**
     * Where PULUMI_ACCESS_TOKEN, PULUMI_BACKEND_URL, AWS_ENDPOINT_URL_STS, AWS_REGION are read from.
     * Default: process.env. The token is never taken from anywhere else.
     */
    env?: NodeJS.ProcessEnv;
    /** The role the credentials must belong to. Default: the `roleArn` of the environment's aws-login, when readable. */
    roleArn?: string;
    /** Where `roleArn` came from, for the report (default "option"). */
    roleArnSource?: Exclude<RoleSource, "definition">;
    /** Environments (`<org>/<project>/<env>`) that must NOT get credentials: the runtime proof that `sub` is pinned. */
    expectDenied?: readonly string[];
    /** Call STS GetCallerIdentity with the credentials (default true). */
    sts?: boolean;
    /** Open duration, a Go duration such as `15m` or `1h` (ESC's default is 1h). Also bounds the credentials' expiry. */
    duration?: string;
    /** Overall deadline in seconds for the whole verification (default 60). */
    timeoutSeconds?: number;
    /** Timeout of each HTTP request in milliseconds (default 15000), further bounded by the deadline. */
    requestTimeoutMs?: number;
    /** Retry policy of ESC GETs and 429s (defaults: 4 attempts, 1 s doubling, waits capped at 30 s). */
    retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
    /** Aborts the verification (its result then has verdict `error`). */
    signal?: AbortSignal;
    /** Clock, for tests of expiry. Default Date.now. */
    now?: () => number;
}
