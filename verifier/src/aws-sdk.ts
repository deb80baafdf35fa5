/**
 * What `scan aws` and `verify`'s STS call need around the AWS SDK (v3): no warning about a Node version this release
 * supports, and errors in a user's words. A response body the SDK could not parse (XML cut short, nested too deep for
 * its parser, a value its schema does not allow) comes back as an error that carries the response (`$response`) but
 * no `$fault`, with advice to developers appended to its message ("inspect the hidden field {error}.$response"): a
 * user is told instead that the response could not be read, and why, in one line.
 */

/** The SDK's advice appended to a deserialization error's message. */
const SDK_ADVICE = /\s*Deserialization error: to see the raw response[\s\S]*$/;

export interface AwsSdkErrorText {
    /** The message without the SDK's advice and its `@aws-sdk` prefixes. */
    message: string;
    /** The HTTP status, when a response came. */
    status?: number;
    /** True when a response came but its body could not be read. */
    unreadable: boolean;
}

export function awsSdkErrorText(e: unknown): AwsSdkErrorText {
    const err = (typeof e === "object" && e !== null ? e : {}) as { message?: unknown; $fault?: unknown; $metadata?: { httpStatusCode?: unknown } };
    const raw = typeof err.message === "string" ? err.message : String(e);
    const status = typeof err.$metadata?.httpStatusCode === "number" ? err.$metadata.httpStatusCode : undefined;
    const unreadable = typeof e === "object" && e !== null && "$response" in e && err.$fault === undefined && SDK_ADVICE.test(raw);
    if (!unreadable) return { message: raw, status, unreadable };
    const message = raw
        .replace(SDK_ADVICE, "")
        .replace(/^Maximum call stack size exceeded$/, "nested too deep to parse")
        .replace(/^@aws-sdk(?:\/core\/protocols)?(?: -)? ?/, "")
        .trim();
    return { message, status, unreadable };
}

/** Does nothing with anything. */
function ignore(): void {
    // The SDK's log lines are meant for developers: none reaches a user's stderr.
}

/**
 * A logger for AWS SDK clients and their HTTP handler that drops every line. The node HTTP handler logs to `console`
 * unless given one (for example `@smithy/node-http-handler - [WARN] a request has exceeded the configured … ms
 * requestTimeout`), which would land raw on stderr, outside the CLI's own escaped and scrubbed output.
 */
export const SILENT_AWS_SDK_LOGGER = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore } as const;

/**
 * The settings every AWS SDK client of the CLI is made with (`verify`'s STS call, `scan`'s STS and IAM clients):
 * each request bounded by `timeoutMs`, connecting included, and ended when it passes (@smithy/node-http-handler only
 * logs an exceeded `requestTimeout` unless told to throw); no log line of the SDK's reaches stderr.
 */
export function quietBoundedClient(timeoutMs: number): {
    requestHandler: { requestTimeout: number; connectionTimeout: number; throwOnRequestTimeout: true; logger: typeof SILENT_AWS_SDK_LOGGER };
    logger: typeof SILENT_AWS_SDK_LOGGER;
} {
    return {
        requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true, logger: SILENT_AWS_SDK_LOGGER },
        logger: SILENT_AWS_SDK_LOGGER,
    };
}

/**
 * Turns off the SDK's warning, printed on stderr when a client is made under Node 20, that its releases after early
 * 2027 will need Node 22: this release runs on Node 20.19+ (package.json `engines`), and the eight lines would land in
 * every CI log `verify` and `scan` write to. Set only when the user has not set it; for the commands, not the library.
 */
export function quietAwsSdkNodeWarning(env: NodeJS.ProcessEnv = process.env): void {
    env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
}
