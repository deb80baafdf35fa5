/**
 * STS GetCallerIdentity signed with exactly the credentials the environment returned: credentials are passed to
 * the client explicitly, so the default chain (the runner's own identity) is never consulted. The endpoint honours
 * AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL as the AWS SDK does. Errors are rebuilt from name and status only.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { awsSdkErrorText } from "../aws-sdk.js";
import type { StsConnection } from "./config.js";
import type { Deadline } from "./deadline.js";
import { hintForStatus, ServiceError } from "./errors.js";
import { oneLine, redactedMarker } from "../redact.js";
import { formatBytes } from "../read.js";
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

/** A copy of `body` (a Node stream) that fails with ResponseTooLargeError past `limit` bytes. */
function boundedBody(body: unknown, limit: number): unknown {
    if (!(body instanceof Readable)) return body;
    let seen = 0;
    const bounded = new Transform({
        transform(chunk: Buffer, _enc, done) {
            seen += chunk.length;
            if (seen > limit) {
                body.destroy();
                done(new ResponseTooLargeError(limit));
                return;
            }
            done(null, chunk);
        },
    });
    body.on("error", (e) => bounded.destroy(e));
    return body.pipe(bounded);
}

/**
 * An IAM or STS principal's ARN as GetCallerIdentity returns it (a user, a role session, a federated user, the root):
 * printable ASCII, the account in its fifth field.
 */
const IDENTITY_ARN = /^arn:[a-z0-9-]{1,32}:(?:sts|iam)::(\d{12}):[!-~]{1,2048}$/;

const STS_ENDPOINT_HINT = "check the STS endpoint (AWS_ENDPOINT_URL_STS)";

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
    const timeout = Math.max(1, Math.min(requestTimeoutMs, deadline.remainingMs()));
    const client = new STSClient({
        region: connection.region,
        ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
        credentials: {
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
            ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
        },
        maxAttempts: 3,
        requestHandler: { requestTimeout: timeout, connectionTimeout: timeout },
    });
    // Inside the deserializer (same step, lower priority): sees the raw HTTP response before its body is read.
    client.middlewareStack.add(
        (next) => async (args) => {
            const result = await next(args);
            const response = result.response as { body?: unknown } | undefined;
            if (response) response.body = boundedBody(response.body, maxResponseBytes);
            return result;
        },
        { step: "deserialize", priority: "low", name: "oidcGuardResponseBound" },
    );
    try {
        const out = await client.send(new GetCallerIdentityCommand({}), { abortSignal: deadline.signal });
        if (!out.Arn || !out.Account) {
            throw new ServiceError("bad-response", `${what}: the response has no Arn or Account`, 200, STS_ENDPOINT_HINT);
        }
        // Fail closed on an answer STS cannot give: an Arn that is not a principal's ARN, or of another account.
        if (IDENTITY_ARN.exec(out.Arn)?.[1] !== out.Account) {
            throw new ServiceError("bad-response", `${what}: the response's Arn is not the ARN of a principal in its Account`, 200, STS_ENDPOINT_HINT);
        }
        return { kind: "identity", identity: { arn: out.Arn, account: out.Account, userId: out.UserId ?? "" } };
    } catch (e) {
        if (e instanceof ServiceError) throw e;
        return classify(e, what, connection, deadline, credentials);
    } finally {
        client.destroy();
    }
}

function classify(e: unknown, what: string, connection: StsConnection, deadline: Deadline, credentials: AwsCredentials): StsOutcome {
    const err = (typeof e === "object" && e !== null ? e : {}) as {
        name?: unknown;
        code?: unknown;
        message?: unknown;
        $metadata?: { httpStatusCode?: unknown };
    };
    // The error's name is the response's `Code` when the body held one: the server's text, bounded like its message.
    const name = typeof err.name === "string" ? oneLine(err.name, 100) : "";
    const code = typeof err.code === "string" ? err.code : "";
    const status = typeof err.$metadata?.httpStatusCode === "number" ? err.$metadata.httpStatusCode : undefined;
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
    if (CREDENTIAL_ERRORS.has(name) || (status !== undefined && (status === 401 || status === 403))) {
        return {
            kind: "rejected",
            rejection: { code: name || `HTTP ${status}`, status: status ?? 403, message: awsMessage(err.message, credentials) },
        };
    }
    if (name === "TimeoutError" || name === "AbortError" || code === "ETIMEDOUT" || code === "ECONNABORTED") {
        throw new ServiceError("timeout", `${what}: no response from ${host} in time`, undefined, hintForStatus("timeout"));
    }
    if (status !== undefined) {
        const kind = status === 429 || name === "Throttling" ? "rate-limited" : status >= 500 ? "server" : "http";
        const said = sdk.unreadable ? "(a body that is not STS's XML)" : name;
        throw new ServiceError(kind, `${what}: HTTP ${status} ${said}`.trim(), status, hintForStatus(kind));
    }
    const reason =
        code === "ECONNREFUSED"
            ? "connection refused"
            : code === "ENOTFOUND" || code === "EAI_AGAIN"
              ? "host name not found"
              : `request failed${code || name ? ` (${code || name})` : ""}`;
    throw new ServiceError("unreachable", `${what}: ${reason} at ${host}`, undefined, hintForStatus("unreachable"));
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
