/**
 * The only importer of @pulumi/esc-sdk. Wraps the SDK's generated client with what it lacks (DOMAIN.md §4):
 * an explicit Configuration (never the ~/.pulumi fallback), the base path re-set after construction (the EscApi
 * constructor drops port and path), `duration` on open (through the raw API), a timeout on every request, retries
 * with backoff for GETs and for 429 (honouring Retry-After; open is never blindly re-POSTed), one overall deadline,
 * and errors rebuilt from status and code only, since the SDK's axios errors carry the token in `config.headers`.
 */
import { Configuration, EscApi, type EscRawApi } from "@pulumi/esc-sdk";
import { parse as parseYaml } from "yaml";
import type { EscConnection } from "./config.js";
import { backoffMs, DEFAULT_RETRY, parseRetryAfter, sleep, type Deadline, type RetryPolicy } from "./deadline.js";
import { describeBody, hintFor, ServiceError, type ServiceErrorKind } from "./errors.js";
import type { EscDiagnostic, EscEnvironment, EscListedEnvironment } from "./esc-types.js";
import { ENV_NAME_RULE, formatEnvRef, isEnvName, isOrgName, ORG_NAME_RULE, type EnvRef } from "./ref.js";
import { escapeText } from "../escape.js";
import { formatBytes } from "../read.js";
import { oneLine } from "../redact.js";

/** Per-request options the raw API accepts (axios request config). */
type RequestOptions = NonNullable<Parameters<EscRawApi["readOpenEnvironment"]>[4]>;

/** The part of an axios response used here. */
interface RawResponse {
    status: number;
    data: unknown;
    headers: unknown;
}

/** A response as `send` returns it: how many times the request was sent, and why it was not sent again. */
interface SentResponse extends RawResponse {
    attempts: number;
    /** Set when a retryable status was not retried because the wait would pass the overall deadline. */
    noTimeToRetry?: boolean;
}

/** Result of opening an environment: a session id, or the 400 with diagnostics that a failed provider produces. */
export type OpenOutcome =
    | { kind: "opened"; id: string }
    | { kind: "rejected"; status: number; message: string; diagnostics: EscDiagnostic[] };

export interface EscClientOptions {
    /** Timeout of each request (default 15 s), further bounded by the deadline. */
    requestTimeoutMs?: number;
    retry?: Partial<RetryPolicy>;
    /** Largest response body accepted, counted while it arrives (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
    maxResponseBytes?: number;
}

/**
 * Default bound on one ESC response: 8 MiB. An opened environment or a page of the environment list is a few KB;
 * a larger body is refused while it streams in (axios `maxContentLength`), so a hostile server cannot make the
 * verifier buffer hundreds of MB per request.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** Longest session id accepted from an open (ESC's are a few dozen characters). */
const MAX_SESSION_ID_LENGTH = 1024;

/** Largest number of list pages followed: a bound, not an expectation. */
const MAX_LIST_PAGES = 1000;

/** Largest number of environments listed for one organization: a bound, not an expectation (each is then read). */
export const MAX_LISTED_ENVIRONMENTS = 100_000;

/** An ESC API client for one backend and token. */
export class EscClient {
    private readonly api: EscApi;
    private readonly requestTimeoutMs: number;
    private readonly retry: RetryPolicy;
    private readonly where: string;
    private readonly maxResponseBytes: number;

    constructor(connection: EscConnection, options: EscClientOptions = {}) {
        const config = new Configuration({ accessToken: connection.token, basePath: connection.basePath });
        this.api = new EscApi(config);
        // The constructor rewrote basePath to <protocol>//<hostname>/api/esc; requests read config.basePath, so
        // setting it again restores the port and the path prefix.
        this.api.config.basePath = connection.basePath;
        this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
        this.retry = { ...DEFAULT_RETRY, ...options.retry };
        this.where = connection.basePath;
        this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    }

    /** The base path requests go to (for messages; holds no secret). */
    get basePath(): string {
        return this.where;
    }

    /**
     * `POST .../open?duration=`: opens a session. A 400 (a provider such as aws-login failed) is returned with its
     * diagnostics; other failures throw ServiceError. Retried only on 429 and refused connections, which the server
     * never processed.
     */
    async open(ref: EnvRef, duration: string | undefined, deadline: Deadline): Promise<OpenOutcome> {
        const what = `opening ${formatEnvRef(ref)}`;
        const resp = await this.send(what, "POST", deadline, (o) =>
            this.api.rawApi.openEnvironment(ref.org, ref.project, ref.name, duration, o),
        );
        if (resp.status === 200) {
            const body = parseJsonObject(resp.data, what);
            const id = body.id;
            if (typeof id !== "string" || id === "") {
                throw new ServiceError("bad-response", `${what}: the response has no session id`, 200);
            }
            // The id goes into the next request's path: a session id is a short token, not a body's worth of text.
            if (id.length > MAX_SESSION_ID_LENGTH) {
                throw new ServiceError("bad-response", `${what}: the session id is ${id.length.toLocaleString("en-US")} characters long`, 200);
            }
            return { kind: "opened", id };
        }
        if (resp.status === 400) {
            // Only ESC's own JSON error is its verdict on the environment. A proxy's error page, an empty body or
            // JSON of another shape says nothing about it: could not verify.
            const body = tryParseJsonObject(resp.data);
            if (!body || !isEscErrorBody(body)) {
                throw new ServiceError(
                    "bad-response",
                    `${what}: HTTP 400 with a body that is not ESC's JSON error (${describeResponseBody(resp)})`,
                    400,
                    hintFor("pulumi-cloud", "bad-response"),
                );
            }
            return {
                kind: "rejected",
                status: 400,
                message: apiMessage(body) ?? "bad request",
                diagnostics: readDiagnostics(body),
            };
        }
        throw statusError(what, resp, { open: true });
    }

    /** `GET .../open/{id}`: the evaluated environment. Reads `properties` (never the SDK's lossy `values`). */
    async read(ref: EnvRef, sessionId: string, deadline: Deadline): Promise<EscEnvironment> {
        const what = `reading ${formatEnvRef(ref)}`;
        const resp = await this.send(what, "GET", deadline, (o) =>
            this.api.rawApi.readOpenEnvironment(ref.org, ref.project, ref.name, sessionId, o),
        );
        if (resp.status !== 200) throw statusError(what, resp);
        const body = parseJsonObject(resp.data, what);
        if (body.properties !== undefined && !isRecord(body.properties)) {
            throw new ServiceError("bad-response", `${what}: 'properties' is not an object`, 200);
        }
        return body;
    }

    /** `GET /environments/{org}` with pagination: every environment of the organization the token can see. */
    async list(org: string, deadline: Deadline): Promise<EscListedEnvironment[]> {
        const what = `listing environments of ${org}`;
        const out: EscListedEnvironment[] = [];
        const tokens = new Set<string>();
        let token: string | undefined;
        for (let page = 0; page < MAX_LIST_PAGES; page++) {
            const continuation = token;
            const resp = await this.send(what, "GET", deadline, (o) =>
                this.api.rawApi.listEnvironments(org, continuation, o),
            );
            if (resp.status !== 200) throw statusError(what, resp);
            const body = parseJsonObject(resp.data, what);
            const envs = body.environments ?? [];
            if (!Array.isArray(envs)) {
                throw new ServiceError("bad-response", `${what}: 'environments' is not an array`, 200);
            }
            if (out.length + envs.length > MAX_LISTED_ENVIRONMENTS) {
                throw new ServiceError("bad-response", `${what}: more than ${MAX_LISTED_ENVIRONMENTS.toLocaleString("en-US")} environments`, 200);
            }
            // Each name goes into the path of later requests, as a name given on the command line does, and is checked
            // as one: the first that ESC would never give ends the list (nothing more is read or kept).
            for (const [i, e] of (envs as unknown[]).entries()) out.push(listedEnvironment(e, org, `${what}: environment ${i + 1} of page ${page + 1}`));
            token = typeof body.nextToken === "string" && body.nextToken !== "" ? body.nextToken : undefined;
            if (token === undefined) return out;
            // A token given before would list the same pages again, and again: a server that loops, not a longer list.
            if (tokens.has(token)) throw new ServiceError("bad-response", `${what}: the list gave the same continuation token twice`, 200);
            tokens.add(token);
        }
        throw new ServiceError("bad-response", `${what}: more than ${MAX_LIST_PAGES} pages`, 200);
    }

    /** `GET .../{env}`: the definition (YAML; static secrets stay ciphertext), parsed. */
    async getDefinition(ref: EnvRef, deadline: Deadline): Promise<unknown> {
        const what = `reading the definition of ${formatEnvRef(ref)}`;
        const resp = await this.send(what, "GET", deadline, (o) =>
            this.api.rawApi.getEnvironment(ref.org, ref.project, ref.name, o),
        );
        if (resp.status !== 200) throw statusError(what, resp);
        if (typeof resp.data !== "string") {
            throw new ServiceError("bad-response", `${what}: the response is not YAML text`, 200);
        }
        try {
            return parseYaml(resp.data) as unknown;
        } catch {
            throw new ServiceError("bad-response", `${what}: the definition is not valid YAML`, 200);
        }
    }

    /**
     * Sends one logical request with retries. `call` issues it through the SDK with the given axios options.
     * Idempotent (GET) requests are retried on 429, 5xx and transport failures; POST only on 429 and refused
     * connections. Every wait and every request is bounded by `deadline`.
     */
    private async send(
        what: string,
        method: "GET" | "POST",
        deadline: Deadline,
        call: (options: RequestOptions) => Promise<RawResponse>,
    ): Promise<SentResponse> {
        const idempotent = method === "GET";
        for (let attempt = 1; ; attempt++) {
            if (deadline.expired()) throw deadline.error(what);
            const req = deadline.requestSignal(this.requestTimeoutMs);
            let resp: RawResponse;
            try {
                resp = await call({
                    signal: req.signal,
                    timeout: req.timeoutMs,
                    // Statuses are judged here, not thrown as axios errors (which would carry the token).
                    validateStatus: () => true,
                    maxRedirects: 0,
                    // Bounded while the body streams in, not after it was buffered.
                    maxContentLength: this.maxResponseBytes,
                    maxBodyLength: this.maxResponseBytes,
                    responseType: "text",
                    transformResponse: [(data: unknown) => data],
                });
            } catch (e) {
                if (isRecord(e) && typeof e.message === "string" && e.message.startsWith("maxContentLength size of")) {
                    // Not retried: the same server would send the same body again.
                    throw new ServiceError(
                        "bad-response",
                        `${what}: the response is larger than ${formatBytes(this.maxResponseBytes)}`,
                        undefined,
                        hintFor("pulumi-cloud", "bad-response"),
                    );
                }
                const { error, refused } = transportError(e, what, this.where, deadline, req.timedOut());
                const retryable = error.kind !== "timeout" || !deadline.expired();
                const wait = backoffMs(this.retry, attempt);
                // Out of attempts, or no time left to wait: report what actually went wrong, not the deadline.
                if (retryable && (idempotent || refused) && attempt < this.retry.maxAttempts && wait < deadline.remainingMs()) {
                    await sleep(wait, deadline, what);
                    continue;
                }
                throw error;
            }
            const s = resp.status;
            const retryableStatus = s === 429 || (idempotent && s >= 500 && s <= 599);
            if (retryableStatus && attempt < this.retry.maxAttempts) {
                const after = parseRetryAfter(headerOf(resp.headers, "retry-after"));
                const wait = after ?? backoffMs(this.retry, attempt);
                if (wait > this.retry.maxDelayMs) {
                    const kind = s === 429 ? "rate-limited" : "server";
                    throw new ServiceError(
                        kind,
                        `${what}: HTTP ${s}, and Retry-After asks for ${Math.ceil(wait / 1000)} s`,
                        s,
                        hintFor("pulumi-cloud", kind, { retried: attempt > 1, open: !idempotent }),
                    );
                }
                if (wait >= deadline.remainingMs()) throw statusError(what, { ...resp, attempts: attempt, noTimeToRetry: true }, { open: !idempotent });
                await sleep(wait, deadline, what);
                continue;
            }
            return { ...resp, attempts: attempt };
        }
    }
}

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function tryParseJsonObject(data: unknown): Record<string, unknown> | undefined {
    if (isRecord(data)) return data;
    if (typeof data !== "string") return undefined;
    try {
        const v: unknown = JSON.parse(data);
        return isRecord(v) ? v : undefined;
    } catch {
        return undefined;
    }
}

function parseJsonObject(data: unknown, what: string): Record<string, unknown> {
    const v = tryParseJsonObject(data);
    if (!v) throw new ServiceError("bad-response", `${what}: the response is not a JSON object`, 200);
    return v;
}

/** The API's `message`, one line, bounded, without control characters. */
function apiMessage(body: Record<string, unknown>): string | undefined {
    const m = body.message;
    if (typeof m !== "string" || m.trim() === "") return undefined;
    return oneLine(m, 300);
}

function readDiagnostics(body: Record<string, unknown>): EscDiagnostic[] {
    const raw = body.diagnostics;
    if (!Array.isArray(raw)) return [];
    const out: EscDiagnostic[] = [];
    for (const d of raw as unknown[]) {
        if (!isRecord(d) || typeof d.summary !== "string") continue;
        const diag: EscDiagnostic = { summary: d.summary };
        if (typeof d.path === "string") diag.path = d.path;
        const r = d.range;
        if (isRecord(r) && isRecord(r.begin) && typeof r.begin.line === "number" && typeof r.begin.column === "number") {
            const end = isRecord(r.end) && typeof r.end.line === "number" && typeof r.end.column === "number" ? r.end : r.begin;
            diag.range = {
                environment: typeof r.environment === "string" ? r.environment : undefined,
                begin: { line: r.begin.line, column: r.begin.column },
                end: { line: end.line as number, column: end.column as number },
            };
        }
        out.push(diag);
    }
    return out;
}

function headerOf(headers: unknown, name: string): string | undefined {
    if (!headers || typeof headers !== "object") return undefined;
    const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
    const v = typeof h.get === "function" ? h.get(name) : h[name];
    return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : undefined;
}

function kindForStatus(status: number): ServiceErrorKind {
    if (status === 401) return "unauthorized";
    if (status === 403) return "forbidden";
    if (status === 404) return "not-found";
    if (status === 429) return "rate-limited";
    if (status >= 500 && status <= 599) return "server";
    return "http";
}

/**
 * The error for a status that is not the operation's answer. "after retries" is said only when the request was sent
 * more than once (open is not re-sent on a 5xx), and a retry the deadline left no time for is named as such. `open` says
 * the request was an open, so that only an open's hint gives "not sent twice" as the reason it was not retried.
 */
function statusError(what: string, resp: SentResponse, { open = false }: { open?: boolean } = {}): ServiceError {
    const kind = kindForStatus(resp.status);
    const body = tryParseJsonObject(resp.data);
    const message = (body && apiMessage(body)) ?? "";
    const retried = resp.attempts > 1;
    const notes = [
        ...(retried ? ["after retries"] : []),
        ...(resp.noTimeToRetry ? ["no time left to retry before the overall deadline"] : []),
    ];
    return new ServiceError(
        kind,
        `${what}: HTTP ${resp.status}${message ? ` ${message}` : ""}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`,
        resp.status,
        hintFor("pulumi-cloud", kind, { retried, open }),
    );
}

/**
 * ESC's error body: a JSON object with a `message` (`{code, message}`, the Error schema of its OpenAPI description)
 * or with `diagnostics` (a failed open: `{code, message, diagnostics}`).
 */
function isEscErrorBody(body: Record<string, unknown>): boolean {
    return (typeof body.message === "string" && body.message.trim() !== "") || Array.isArray(body.diagnostics);
}

/** `text/html, 36 bytes` or `no content type, an empty body`: what came instead of ESC's JSON, without any of its text. */
function describeResponseBody(resp: RawResponse): string {
    return describeBody(headerOf(resp.headers, "content-type"), typeof resp.data === "string" ? Buffer.byteLength(resp.data) : 0);
}

/** Longest part of a listed name shown in a message (a name may be megabytes long). */
const SHOWN_NAME_CHARACTERS = 40;

/** `'<name>'`, escaped and cut to {@link SHOWN_NAME_CHARACTERS} (with its length when cut). */
function showName(value: string): string {
    if (value.length <= SHOWN_NAME_CHARACTERS) return `'${escapeText(value)}'`;
    // A copy of the head, so that the message does not keep the whole (sliced) string alive.
    const head = Buffer.from(value.slice(0, SHOWN_NAME_CHARACTERS), "utf8").toString("utf8");
    return `'${escapeText(head)}…' (${value.length.toLocaleString("en-US")} characters)`;
}

/**
 * One entry of the environment list, checked as a reference given on the command line is: a project and a name
 * ESC accepts (never `.` or `..`, never control characters, at most 100 characters) and, when given, an organization
 * name. Anything else did not come from ESC as it is documented, and the list is not used (could not verify).
 */
function listedEnvironment(e: unknown, org: string, where: string): EscListedEnvironment {
    const bad = (problem: string): ServiceError => new ServiceError("bad-response", `${where} ${problem}`, 200, hintFor("pulumi-cloud", "bad-response"));
    if (!isRecord(e)) throw bad("is not an object");
    const { project, name, organization } = e;
    if (typeof project !== "string") throw bad("has no project");
    if (typeof name !== "string") throw bad("has no name");
    for (const [label, value] of [
        ["project", project],
        ["name", name],
    ] as const) {
        if (!isEnvName(value)) throw bad(`has ${label} ${showName(value)}, which is not an ESC name (${ENV_NAME_RULE})`);
    }
    if (organization !== undefined && (typeof organization !== "string" || !isOrgName(organization))) {
        const shown = typeof organization === "string" ? showName(organization) : `of type ${organization === null ? "null" : Array.isArray(organization) ? "array" : typeof organization}`;
        throw bad(`has organization ${shown}, which is not an ESC name (${ORG_NAME_RULE})`);
    }
    return { organization: organization ?? org, project, name };
}

/**
 * Rebuilds a transport failure from the error's `code` alone. The SDK's error object is never kept, printed or
 * chained: its `config.headers.Authorization` holds the token.
 */
function transportError(
    e: unknown,
    what: string,
    where: string,
    deadline: Deadline,
    requestTimedOut: boolean,
): { error: ServiceError; refused: boolean } {
    const code = isRecord(e) && typeof e.code === "string" ? e.code : undefined;
    const host = safeHost(where);
    if (deadline.expired()) return { error: deadline.error(what), refused: false };
    if (requestTimedOut || code === "ECONNABORTED" || code === "ETIMEDOUT" || code === "ERR_CANCELED") {
        return {
            error: new ServiceError("timeout", `${what}: no response from ${host} in time`, undefined, hintFor("pulumi-cloud", "timeout")),
            refused: false,
        };
    }
    const reason =
        code === "ECONNREFUSED"
            ? "connection refused"
            : code === "ENOTFOUND" || code === "EAI_AGAIN"
              ? "host name not found"
              : code === "ECONNRESET" || code === "EPIPE"
                ? "connection reset"
                : code?.startsWith("ERR_TLS") || code?.includes("CERT")
                  ? `TLS failure (${code})`
                  : `request failed${code ? ` (${code})` : ""}`;
    return {
        error: new ServiceError("unreachable", `${what}: ${reason} at ${host}`, undefined, hintFor("pulumi-cloud", "unreachable")),
        refused: code === "ECONNREFUSED",
    };
}

function safeHost(url: string): string {
    try {
        return new URL(url).host;
    } catch {
        return "the backend";
    }
}
