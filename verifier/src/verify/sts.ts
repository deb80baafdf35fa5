/**
 * STS GetCallerIdentity signed with exactly the credentials the environment returned: credentials are passed to
 * the client explicitly, so the default chain (the runner's own identity) is never consulted. The endpoint honours
 * AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL as the AWS SDK does. Errors are rebuilt from the error's name, code,
 * status and STS error Code (with the SDK's reason when a body could not be parsed), and from the response's content
 * type, size and the start of its body, looked at to tell STS's own error document from another server's answer and
 * never shown.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { awsSdkErrorText, quietBoundedClient } from "../aws-sdk.js";
import type { StsConnection } from "./config.js";
import type { Deadline } from "./deadline.js";
import { describeBody, hintFor, ServiceError, type ServiceErrorKind } from "./errors.js";
import { oneLine, redactedMarker } from "../redact.js";
import { formatBytes, formatSeconds } from "../read.js";
import { Readable, Transform } from "node:stream";

/** AWS credentials, as the environment returned them. Secret: never formatted into any message. */
export interface AwsCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
}

export interface CallerIdentity {
    account: string;
    arn: string;
    userId: string;
}

/** The credentials reached STS and were refused (they do not work). Not a transport problem. */
export interface StsRejection {
    code: string;
    status: number;
    message: string;
}

export type StsOutcome = { kind: "identity"; identity: CallerIdentity } | { kind: "rejected"; rejection: StsRejection };

// Error codes with which STS refuses the caller's credentials (as opposed to failing itself).
const CREDENTIAL_ERRORS = new Set([
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "AccessDenied",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "AuthFailure",
]);

/**
 * Default bound on one STS response: 1 MiB (a GetCallerIdentity answer is under 1 KB). Counted while the body
 * streams in, so a hostile endpoint cannot make the verifier buffer an arbitrary amount.
 */
export const DEFAULT_MAX_STS_RESPONSE_BYTES = 1024 * 1024;

/** Raised from the response stream when the body passes the bound. */
class ResponseTooLargeError extends Error {
    constructor(readonly limit: number) {
        super(`the response is larger than ${formatBytes(limit)}`);
        this.name = "ResponseTooLargeError";
    }
}

/** What was seen of the raw HTTP response: enough to tell STS's own error from another server's answer. */
interface SeenResponse {
    status?: number;
    contentType?: string;
    /** Bytes of the body in all. */
    bytes: number;
    /** The first {@link HEAD_BYTES} bytes of the body. */
    head: Buffer[];
    headBytes: number;
}

/** How much of a body is kept to look at its root element. */
const HEAD_BYTES = 1024;

/**
 * A copy of `body` (a Node stream) that fails with ResponseTooLargeError past `limit` bytes, and keeps the first
 * {@link HEAD_BYTES} bytes in `seen`.
 */
function boundedBody(body: unknown, limit: number, seen: SeenResponse): unknown {
    if (!(body instanceof Readable)) return body;
    const bounded = new Transform({
        transform(chunk: Buffer, _enc, done) {
            seen.bytes += chunk.length;
            if (seen.bytes > limit) {
                body.destroy();
                done(new ResponseTooLargeError(limit));
                return;
            }
            if (seen.headBytes < HEAD_BYTES) {
                const part = chunk.subarray(0, HEAD_BYTES - seen.headBytes);
                seen.head.push(Buffer.from(part));
                seen.headBytes += part.length;
            }
            done(null, chunk);
        },
    });
    body.on("error", (e) => bounded.destroy(e));
    return body.pipe(bounded);
}

/**
 * True when the body begins as STS's error document does: an optional XML declaration, then the `ErrorResponse`
 * root element (`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>…<Code>…`).
 */
function isErrorResponseDocument(seen: SeenResponse): boolean {
    const head = Buffer.concat(seen.head).toString("utf8");
    return /^\ufeff?\s*(?:<\?xml\s[^>]*\?>\s*)?<ErrorResponse[\s>]/.test(head);
}

// IAM's name characters (users, roles, role sessions, federated users): letters, digits and `+=,.@_-`.
const IAM_NAME = "[\\w+=,.@-]";
/**
 * The principal ARNs GetCallerIdentity returns, with the account captured: a role session
 * (`sts::<account>:assumed-role/<role>/<session>`), an IAM user (`iam::<account>:user/<path/><name>`), the root
 * (`iam::<account>:root`) or a federated user (`sts::<account>:federated-user/<name>`), in any AWS partition (`aws`,
 * `aws-cn`, `aws-us-gov`, the isolated `aws-iso`, `aws-iso-b`, … and `aws-eusc`: `aws` and dash-separated words). IAM
 * paths are `/`-separated runs of printable ASCII.
 */
const PRINCIPAL_ARN = new RegExp(
    "^arn:aws(?:-[a-z]+)*:(?:" +
        `sts::(\\d{12}):assumed-role/${IAM_NAME}{1,64}/${IAM_NAME}{1,64}` +
        `|iam::(\\d{12}):user/(?:[!-.0-~]+/){0,64}${IAM_NAME}{1,64}` +
        "|iam::(\\d{12}):root" +
        `|sts::(\\d{12}):federated-user/${IAM_NAME}{2,32}` +
        ")$",
);

/** True when `arn` is the ARN of a principal (see {@link PRINCIPAL_ARN}) in `account`. */
export function isPrincipalArn(arn: string, account: string): boolean {
    if (arn.length > 2048) return false;
    const m = PRINCIPAL_ARN.exec(arn);
    return m !== null && (m[1] ?? m[2] ?? m[3] ?? m[4]) === account;
}

const STS_ENDPOINT_HINT = hintFor("sts", "bad-response");

/** Calls GetCallerIdentity with `credentials`; bounded by `deadline` and `requestTimeoutMs`. */
export async function getCallerIdentity(
    credentials: AwsCredentials,
    connection: StsConnection,
    deadline: Deadline,
    requestTimeoutMs = 15_000,
    maxResponseBytes = DEFAULT_MAX_STS_RESPONSE_BYTES,
): Promise<StsOutcome> {
    const what = "calling STS GetCallerIdentity";
    if (deadline.expired()) throw deadline.error(what);
    // One request signal for the whole call, the SDK's retries included: it aborts at the request timeout (or the
    // deadline, if sooner). Unlike ESC's requests, whose every attempt has a timeout of its own, STS's attempts share
    // this one; each attempt is also bounded by the same timeout in the request handler.
    const req = deadline.requestSignal(requestTimeoutMs);
    const timeout = req.timeoutMs;
    const seen: SeenResponse = { bytes: 0, head: [], headBytes: 0 };
    const client = new STSClient({
        region: connection.region,
        ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
        credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
        },
        maxAttempts: 3,
        ...quietBoundedClient(timeout),
    });
    // Inside the deserializer (same step, lower priority): sees the raw HTTP response before its body is read.
    client.middlewareStack.add(
        (next) => async (args) => {
            const result = await next(args);
            const response = result.response as { body?: unknown; statusCode?: unknown; headers?: Record<string, unknown> } | undefined;
            if (response) {
                // Each attempt starts afresh: what is seen is the last response's.
                Object.assign(seen, { status: undefined, contentType: undefined, bytes: 0, head: [], headBytes: 0 });
                if (typeof response.statusCode === "number") seen.status = response.statusCode;
                const type = response.headers?.["content-type"];
                if (typeof type === "string") seen.contentType = type;
                response.body = boundedBody(response.body, maxResponseBytes, seen);
            }
            return result;
        },
        { step: "deserialize", priority: "low", name: "oidcGuardResponseBound" },
    );
    try {
        const out = await client.send(new GetCallerIdentityCommand({}), { abortSignal: req.signal });
        if (!out.Arn || !out.Account) {
            throw new ServiceError("bad-response", `${what}: the response has no Arn or Account`, 200, STS_ENDPOINT_HINT);
        }
        // Fail closed on an answer STS cannot give: an Arn that is not a principal's ARN, or of another account.
        if (!isPrincipalArn(out.Arn, out.Account)) {
            throw new ServiceError("bad-response", `${what}: the response's Arn is not the ARN of a principal in its Account`, 200, STS_ENDPOINT_HINT);
        }
        return { kind: "identity", identity: { arn: out.Arn, account: out.Account, userId: out.UserId ?? "" } };
    } catch (e) {
        if (e instanceof ServiceError) throw e;
        return classify(e, { what, connection, deadline, credentials, seen, timeoutMs: timeout, timedOut: req.timedOut() });
    } finally {
        client.destroy();
    }
}

/** What `classify` needs besides the error. */
interface CallContext {
    what: string;
    connection: StsConnection;
    deadline: Deadline;
    credentials: AwsCredentials;
    seen: SeenResponse;
    timeoutMs: number;
    /** The call's own timeout fired. */
    timedOut: boolean;
}

// Error codes with which STS says it is throttling the caller.
const THROTTLING_ERRORS = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"]);

function classify(e: unknown, ctx: CallContext): StsOutcome {
    const { what, connection, deadline, credentials, seen } = ctx;
    const err = (typeof e === "object" && e !== null ? e : {}) as {
        name?: unknown;
        code?: unknown;
        message?: unknown;
        Code?: unknown;
        Error?: { Code?: unknown };
        $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
    };
    const name = typeof err.name === "string" ? oneLine(err.name, 100) : "";
    const code = typeof err.code === "string" ? err.code : "";
    const status = typeof err.$metadata?.httpStatusCode === "number" ? err.$metadata.httpStatusCode : undefined;
    const retried = typeof err.$metadata?.attempts === "number" && err.$metadata.attempts > 1;
    const host = connection.endpoint ? safeHost(connection.endpoint) : `sts.${connection.region}.amazonaws.com`;
    if (deadline.expired()) throw deadline.error(what);
    if (e instanceof ResponseTooLargeError || (isObject(e) && e.name === "ResponseTooLargeError") || (isObject(e) && (e as { cause?: unknown }).cause instanceof ResponseTooLargeError)) {
        throw new ServiceError("bad-response", `${what}: the response from ${host} is larger than ${formatBytes(maxBytesOf(e))}`, undefined, STS_ENDPOINT_HINT);
    }
    const sdk = awsSdkErrorText(e);
    if (status !== undefined && status >= 200 && status <= 299) {
        // The server answered, but not with STS's XML (cut short, not XML, too deep for the parser).
        const why = sdk.unreadable ? `: ${oneLine(sdk.message, 200)}` : "";
        throw new ServiceError("bad-response", `${what}: the response from ${host} is not a GetCallerIdentity response (HTTP ${status})${why}`, status, STS_ENDPOINT_HINT);
    }
    if (status !== undefined) {
        // Only STS's own error document (an ErrorResponse with a Code) is STS's answer. A proxy's page, an empty body
        // or a document of another kind says nothing about the credentials: could not verify, never a refusal.
        const rawCode = typeof err.Code === "string" ? err.Code : typeof err.Error?.Code === "string" ? err.Error.Code : "";
        if (sdk.unreadable || rawCode.trim() === "" || seen.status !== status || !isErrorResponseDocument(seen)) {
            throw new ServiceError("bad-response", `${what}: the response from ${host} is not an answer of STS (${describeSeen(status, seen)})`, status, STS_ENDPOINT_HINT);
        }
        // The code is the server's text: one line, bounded like its message.
        const errorCode = oneLine(rawCode, 100);
        if (THROTTLING_ERRORS.has(rawCode) || status === 429) {
            throw stsStatusError("rate-limited", what, status, errorCode, retried);
        }
        if (CREDENTIAL_ERRORS.has(rawCode) || status === 401 || status === 403) {
            return { kind: "rejected", rejection: { code: errorCode, status, message: awsMessage(err.message, credentials) } };
        }
        throw stsStatusError(status >= 500 ? "server" : "http", what, status, errorCode, retried);
    }
    if (ctx.timedOut || name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT" || code === "ECONNABORTED") {
        throw new ServiceError("timeout", `${what}: no response from ${host} in time (${formatSeconds(ctx.timeoutMs)})`, undefined, hintFor("sts", "timeout"));
    }
    const reason =
        code === "ECONNREFUSED"
            ? "connection refused"
            : code === "ENOTFOUND" || code === "EAI_AGAIN"
              ? "host name not found"
              : `request failed${code || name ? ` (${code || name})` : ""}`;
    throw new ServiceError("unreachable", `${what}: ${reason} at ${host}`, undefined, hintFor("sts", "unreachable"));
}

/** An STS error that is not a verdict on the credentials; "after retries" only when the SDK sent it more than once. */
function stsStatusError(kind: ServiceErrorKind, what: string, status: number, code: string, retried: boolean): ServiceError {
    return new ServiceError(kind, `${what}: HTTP ${status} ${code}${retried ? " (after retries)" : ""}`, status, hintFor("sts", kind, { retried }));
}

/** `HTTP 403, text/html, 31 bytes`: what came instead of STS's XML, without any of its text. */
function describeSeen(status: number, seen: SeenResponse): string {
    // What was seen belongs to this status only when the last response seen had it.
    const own = seen.status === status;
    return `HTTP ${status}, ${describeBody(own ? seen.contentType : undefined, own ? seen.bytes : 0)}`;
}

/**
 * AWS's error message, first paragraph only, one line, bounded. A SignatureDoesNotMatch message can go on with
 * "The Canonical String for this request should have been ...", which holds signed headers such as
 * x-amz-security-token: that part is dropped, and the credentials are scrubbed from what remains.
 */
function awsMessage(m: unknown, credentials: AwsCredentials): string {
    if (typeof m !== "string") return "";
    let first = m.split(/\r?\n\s*\r?\n|The Canonical String|The String-to-Sign/)[0] ?? "";
    for (const secret of [credentials.secretAccessKey, credentials.sessionToken, credentials.accessKeyId]) {
        if (secret) first = first.split(secret).join(redactedMarker(secret.length));
    }
    return oneLine(first, 200);
}

function isObject(v: unknown): v is { name?: unknown } {
    return typeof v === "object" && v !== null;
}

function maxBytesOf(e: unknown): number {
    if (e instanceof ResponseTooLargeError) return e.limit;
    const cause = isObject(e) ? (e as { cause?: unknown }).cause : undefined;
    return cause instanceof ResponseTooLargeError ? cause.limit : DEFAULT_MAX_STS_RESPONSE_BYTES;
}

function safeHost(url: string): string {
    try {
        return new URL(url).host;
    } catch {
        return "STS";
    }
}

/** `arn:<partition>:sts::<account>:assumed-role/<role-name>/<session>` parsed; undefined when not that form. */
export function parseAssumedRoleArn(arn: string): { partition: string; account: string; roleName: string; session: string } | undefined {
    const m = /^arn:([a-z0-9-]+):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/([\w+=,.@-]{1,64})$/.exec(arn);
    if (!m) return undefined;
    return { partition: m[1] as string, account: m[2] as string, roleName: m[3] as string, session: m[4] as string };
}

/** `arn:<partition>:iam::<account>:role/<path/><role-name>` parsed; undefined when not that form. */
export function parseRoleArn(arn: string): { partition: string; account: string; roleName: string; path: string } | undefined {
    const m = /^arn:([a-z0-9-]+):iam::(\d{12}):role\/((?:[^/]+\/)*)([\w+=,.@-]{1,64})$/.exec(arn);
    if (!m) return undefined;
    return { partition: m[1] as string, account: m[2] as string, path: `/${m[3] as string}`, roleName: m[4] as string };
}
