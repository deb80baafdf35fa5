/**
 * The two ways `verifyEnvironment` can end without a verdict of its own making:
 * a configuration problem (bad options, missing token: exit 2) and a failure to reach or use a service
 * (network, timeout, 401/403, 404, 429, 5xx: exit 3). Messages are built from known-safe parts only:
 * never from an SDK error object, whose request config carries the Pulumi token.
 */
import { oneLine } from "../redact.js";

/** Bad options or environment: nothing was sent anywhere. The CLI exits 2. */
export class VerifyConfigError extends Error {
    constructor(
        message: string,
        /** How to fix it, one line. */
        readonly hint?: string,
    ) {
        super(message);
        this.name = "VerifyConfigError";
    }
}

/** Why a service could not be used. */
export type ServiceErrorKind =
    | "unauthorized" // 401
    | "forbidden" // 403
    | "not-found" // 404
    | "rate-limited" // 429 (after retries, where the request may be retried)
    | "server" // 5xx (after retries, where the request may be retried)
    | "http" // any other unexpected status
    | "timeout" // a request or the overall deadline ran out
    | "unreachable" // connection refused, DNS failure, reset
    | "bad-response"; // a 200 whose body is not what the API describes

/** A service could not be used, so nothing could be concluded. The CLI exits 3. */
export class ServiceError extends Error {
    constructor(
        readonly kind: ServiceErrorKind,
        message: string,
        /** HTTP status when there was a response. */
        readonly status?: number,
        /** How to fix it, one line. */
        readonly hint?: string,
    ) {
        super(message);
        this.name = "ServiceError";
    }
}

/** The service a request went to, which a hint names. */
export type Service = "pulumi-cloud" | "sts";

/** How the failed request was sent, as far as a hint tells. */
export interface HintContext {
    /** The request was sent more than once: only then does a hint speak of errors that persisted. */
    retried?: boolean;
    /**
     * The request was an open (a POST), which is not sent again on a 5xx since the first may have been processed:
     * only then does a hint give that as the reason it was not retried. A GET may go unretried for other reasons
     * (a Retry-After longer than the longest wait, no time left before the deadline), which its message names.
     */
    open?: boolean;
}

/** A hint for a service error, naming the service that failed and what to check. */
export function hintFor(service: Service, kind: ServiceErrorKind, context: HintContext = {}): string | undefined {
    const retried = context.retried ?? false;
    return service === "sts" ? stsHint(kind, retried) : pulumiCloudHint(kind, retried, context.open ?? false);
}

/** A hint for the common statuses of the Pulumi Cloud API. */
function pulumiCloudHint(kind: ServiceErrorKind, retried: boolean, open: boolean): string | undefined {
    switch (kind) {
        case "unauthorized":
            return "PULUMI_ACCESS_TOKEN is missing, expired or revoked: create a new token in Pulumi Cloud (Personal access tokens) and set it in the environment";
        case "forbidden":
            return "the token's user or team may not open this environment: grant it 'open' permission on the environment";
        case "not-found":
            return "check the organization, project and environment names (and PULUMI_BACKEND_URL for self-hosted Pulumi Cloud)";
        case "rate-limited":
            return "Pulumi Cloud is rate-limiting this token: retry later or lower --concurrency";
        case "server":
            if (retried) return "Pulumi Cloud kept returning server errors: retry later";
            return open
                ? "Pulumi Cloud returned a server error (an open is not sent twice, since the first may have been processed): retry later"
                : "Pulumi Cloud returned a server error: retry later";
        case "timeout":
            return "raise --timeout, or check the network path to Pulumi Cloud (PULUMI_BACKEND_URL)";
        case "unreachable":
            return "check PULUMI_BACKEND_URL and the network (proxy, firewall, DNS)";
        case "http":
            return undefined;
        case "bad-response":
            return "check that PULUMI_BACKEND_URL points at Pulumi Cloud (a proxy or a login page may be answering)";
        default:
            return kind satisfies never;
    }
}

/** A hint for STS GetCallerIdentity's failures (AWS, not Pulumi Cloud). */
function stsHint(kind: ServiceErrorKind, retried: boolean): string | undefined {
    switch (kind) {
        case "rate-limited":
            return "AWS STS is throttling GetCallerIdentity calls in this account and Region: retry later or lower --concurrency";
        case "server":
            return retried ? "AWS STS kept returning server errors: retry later" : "AWS STS returned a server error: retry later";
        case "timeout":
            return "raise --timeout, or check the network path to STS (AWS_ENDPOINT_URL_STS)";
        case "unreachable":
            return "check AWS_ENDPOINT_URL_STS / AWS_REGION and the network (proxy, firewall, DNS)";
        case "bad-response":
            return "check the STS endpoint (AWS_ENDPOINT_URL_STS): a proxy or another server may be answering";
        case "unauthorized":
        case "forbidden":
        case "not-found":
        case "http":
            return undefined;
        default:
            return kind satisfies never;
    }
}

/**
 * `text/html, 36 bytes` or `no content type, an empty body`: what came instead of a service's own answer, without any
 * of its text. `contentType` is the header's value (its parameters are dropped); `bytes` the body's size.
 */
export function describeBody(contentType: string | undefined, bytes: number): string {
    const shownType = contentType ? oneLine(contentType.split(";")[0] ?? "", 60) : "no content type";
    return `${shownType}, ${bytes === 0 ? "an empty body" : `${bytes.toLocaleString("en-US")} bytes`}`;
}

/** The prefix of a failed check's detail when the check could not be completed (a service error, not a finding). */
export const COULD_NOT_VERIFY = "could not verify: ";

/** The detail of a check that a service error stopped. */
export function couldNotVerifyDetail(e: ServiceError): string {
    return `${COULD_NOT_VERIFY}${e.message}${e.hint ? ` (hint: ${e.hint})` : ""}`;
}
