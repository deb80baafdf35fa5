/**
 * An ESC API stand-in for tests and benches, following the wire shapes of DOMAIN.md §4 and the ESC OpenAPI
 * description (every JSON response is validated against it; violations are collected in `violations`):
 * list (`GET /environments/{org}`, paginated), get definition (YAML), open (`POST .../open?duration=`), read
 * (`GET .../open/{id}`) and read property (`GET .../open//{id}?property=`), under an optional path prefix, with
 * `Authorization: token <PAT>` required. `fn::open::aws-login` is played against a model of IAM (roles with
 * allowed subjects and audiences, an OIDC provider that may be missing, MaxSessionDuration), issuing credentials
 * from the STS stand-in, or failing with HTTP 400 and the diagnostics ESC relays from AWS.
 * Faults (status codes with Retry-After, slow responses) are injected per route. Binds 127.0.0.1 on a random port.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parse as parseYaml } from "yaml";
import { parseGoDuration } from "../verify/ref.js";
import { InFlightCounter } from "./inflight.js";
import type { RawReply } from "./rewrite.js";
import { evaluateDefinition, type Evaluated, type LoginRequest, type LoginResult } from "./esc-eval.js";
import { validateEscResponse, type EscRoute } from "./openapi.js";
import type { StsStandin } from "./sts-standin.js";

/** An IAM role as the stand-in's AWS model knows it. */
export interface StandinRole {
    arn: string;
    /** Subjects the trust policy admits, StringLike globs (`*`, `?`). `["*"]` models an unpinned role. */
    subjects: string[];
    /** Audiences admitted (default `aws:<org>`). */
    audiences?: string[];
    /** MaxSessionDuration in ms (default 1 h, as IAM). */
    maxSessionDurationMs?: number;
}

export interface StandinEnvironment {
    project: string;
    name: string;
    /** The definition, as `esc env edit` would store it. */
    yaml: string;
}

/**
 * A fault injected on a route: respond `status` (with Retry-After) and/or answer only after `delayMs`, or send what
 * `rewrite` makes of the response the stand-in would have sent (its body as a value: the parsed YAML text for
 * `definition`), unchecked against the OpenAPI description: a server that breaks the published format.
 */
export interface Fault {
    route: EscRoute;
    /** `<project>/<env>`; all environments when absent. */
    env?: string;
    /** How many requests it applies to (default 1). */
    times?: number;
    status?: number;
    retryAfter?: string;
    delayMs?: number;
    rewrite?: (body: unknown, status: number) => RawReply;
}

export interface EscStandinOptions {
    org: string;
    /** The only accepted PAT. */
    token: string;
    sts: StsStandin;
    environments: StandinEnvironment[];
    roles: StandinRole[];
    /** Whether the AWS account has the api.pulumi.com/oidc provider (default true). */
    providerExists?: boolean;
    /** Path prefix of a self-hosted backend, e.g. `/pulumi` (default none). */
    prefix?: string;
    /** Latency added to every response. */
    latencyMs?: number;
    /** Requests in flight, possibly shared with other stand-ins (default: a counter of its own). */
    inFlight?: InFlightCounter;
    /** Page size of the list endpoint (default 100). */
    pageSize?: number;
    faults?: Fault[];
    /** Validate every response against the OpenAPI description (default true; benches turn it off to model a server's speed). */
    validate?: boolean;
}

export interface EscRequestRecord {
    method: string;
    route: EscRoute | "unknown";
    env?: string;
    status: number;
    authorized: boolean;
    query: string;
}

/** StringLike matching: `*` any run (also empty), `?` one character, across `:` and `/`. */
function globMatch(pattern: string, value: string): boolean {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "s");
    return re.test(value);
}

function awsRequestId(): string {
    return randomUUID();
}

export class EscStandin {
    readonly requests: EscRequestRecord[] = [];
    /** OpenAPI violations found in the responses sent. */
    readonly violations: string[] = [];
    private readonly sessions = new Map<string, { env: string; evaluated: Evaluated }>();
    private readonly faults: Fault[];
    /** The `rewrite` of the fault each response still to send is under. */
    private readonly rewrites = new WeakMap<ServerResponse, NonNullable<Fault["rewrite"]>>();
    private readonly timers = new Set<NodeJS.Timeout>();
    /** Requests being handled now, and the most at once. */
    readonly inFlight: InFlightCounter;

    private constructor(
        private readonly server: Server,
        /** The backend URL to put in PULUMI_BACKEND_URL: `http://127.0.0.1:<port><prefix>`. */
        readonly url: string,
        private readonly options: EscStandinOptions,
    ) {
        this.faults = (options.faults ?? []).map((f) => ({ ...f }));
        this.inFlight = options.inFlight ?? new InFlightCounter();
    }

    static async start(options: EscStandinOptions): Promise<EscStandin> {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        server.unref();
        const port = (server.address() as AddressInfo).port;
        const self = new EscStandin(server, `http://127.0.0.1:${port}${options.prefix ?? ""}`, options);
        server.on("request", (req: IncomingMessage, res: ServerResponse) => void self.handle(req, res));
        return self;
    }

    /** Adds a fault at run time. */
    addFault(f: Fault): void {
        this.faults.push({ ...f });
    }

    /** Requests per route so far. */
    count(route: EscRoute, env?: string): number {
        return this.requests.filter((r) => r.route === route && (env === undefined || r.env === env)).length;
    }

    async close(): Promise<void> {
        for (const t of this.timers) clearTimeout(t);
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private sleep(ms: number): Promise<void> {
        return new Promise((resolve) => {
            const t = setTimeout(() => {
                this.timers.delete(t);
                resolve();
            }, ms);
            this.timers.add(t);
        });
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        this.inFlight.enter();
        try {
            for await (const _ of req) {
                // drain the body: none of the served operations reads one
            }
            if (this.options.latencyMs) await this.sleep(this.options.latencyMs);
            await this.route(req, res);
        } catch {
            if (!res.headersSent) this.json(res, "unknown", 500, { code: 500, message: "stand-in failure" }, {});
        } finally {
            this.inFlight.exit();
        }
    }

    private json(res: ServerResponse, route: EscRoute | "unknown", status: number, body: unknown, headers: Record<string, string>): void {
        if (this.rewritten(res, status, body, "application/json", headers)) return;
        if (route !== "unknown" && this.options.validate !== false) this.violations.push(...validateEscResponse(route, status, body));
        if (res.destroyed) return;
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
    }

    /** Sends what a `rewrite` fault pending on `res` makes of this response, if one is; true when it did. */
    private rewritten(res: ServerResponse, status: number, body: unknown, contentType: string, headers: Record<string, string>): boolean {
        const rewrite = this.rewrites.get(res);
        if (!rewrite) return false;
        this.rewrites.delete(res);
        const reply = rewrite(body, status);
        if (!res.destroyed) {
            res.writeHead(reply.status ?? status, { ...headers, "content-type": reply.contentType ?? contentType });
            res.end(reply.body);
        }
        return true;
    }

    private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        const rawPath = q >= 0 ? url.slice(0, q) : url;
        const query = new URLSearchParams(q >= 0 ? url.slice(q + 1) : "");
        const base = `${this.options.prefix ?? ""}/api/esc/environments/`;
        const record = (route: EscRequestRecord["route"], status: number, authorized: boolean, env?: string): void => {
            this.requests.push({ method: req.method ?? "", route, env, status, authorized, query: q >= 0 ? url.slice(q + 1) : "" });
        };
        if (!rawPath.startsWith(base)) {
            record("unknown", 404, false);
            return this.json(res, "unknown", 404, { code: 404, message: "Not Found" }, {});
        }
        const segs = rawPath.slice(base.length).split("/").map((s) => decodeURIComponent(s));
        let route: EscRoute | undefined;
        if (req.method === "GET" && segs.length === 1) route = "list";
        else if (req.method === "GET" && segs.length === 3) route = "definition";
        else if (req.method === "POST" && segs.length === 4 && segs[3] === "open") route = "open";
        else if (req.method === "GET" && segs.length === 5 && segs[3] === "open" && segs[4] !== "") route = "read";
        else if (req.method === "GET" && segs.length === 6 && segs[3] === "open" && segs[4] === "" && segs[5] !== "") route = "readProperty";
        if (!route) {
            record("unknown", 404, false);
            return this.json(res, "unknown", 404, { code: 404, message: "Not Found" }, {});
        }
        const envKey = segs.length >= 3 ? `${segs[1]}/${segs[2]}` : undefined;

        const authorized = req.headers.authorization === `token ${this.options.token}`;
        if (!authorized) {
            record(route, 401, false, envKey);
            return this.json(res, route, 401, { code: 401, message: "Unauthorized: No credentials provided or are invalid." }, {});
        }

        const fault = this.faults.find((f) => f.route === route && (f.env === undefined || f.env === envKey) && (f.times ?? 1) > 0);
        if (fault) {
            fault.times = (fault.times ?? 1) - 1;
            if (fault.delayMs) await this.sleep(fault.delayMs);
            if (fault.rewrite) this.rewrites.set(res, fault.rewrite);
            if (fault.status) {
                record(route, fault.status, true, envKey);
                const headers: Record<string, string> = fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {};
                const message = fault.status === 429 ? "Too Many Requests" : fault.status >= 500 ? "Service Unavailable" : "error";
                return this.json(res, route, fault.status, { code: fault.status, message }, headers);
            }
        }

        if (segs[0] !== this.options.org) {
            record(route, 404, true, envKey);
            return this.json(res, route, 404, { code: 404, message: `Organization '${segs[0]}' not found` }, {});
        }
        if (route === "list") {
            const size = this.options.pageSize ?? 100;
            const start = Number(query.get("continuationToken") ?? "0") || 0;
            const page = this.options.environments.slice(start, start + size);
            const body: Record<string, unknown> = {
                environments: page.map((e) => ({ organization: this.options.org, project: e.project, name: e.name, created: "2026-01-01 00:00:00", modified: "2026-01-01 00:00:00" })),
            };
            if (start + size < this.options.environments.length) body.nextToken = String(start + size);
            record(route, 200, true);
            return this.json(res, route, 200, body, {});
        }
        const env = this.options.environments.find((e) => `${e.project}/${e.name}` === envKey);
        if (!env) {
            record(route, 404, true, envKey);
            return this.json(res, route, 404, { code: 404, message: `Environment '${envKey ?? ""}' not found` }, {});
        }
        switch (route) {
            case "definition": {
                record(route, 200, true, envKey);
                const definition = parseYaml(env.yaml) as unknown;
                if (this.rewritten(res, 200, definition, "application/x-yaml", {})) return;
                if (this.options.validate !== false) this.violations.push(...validateEscResponse("definition", 200, definition));
                res.writeHead(200, { "content-type": "application/x-yaml" });
                res.end(env.yaml);
                return;
            }
            case "open": {
                const duration = query.get("duration");
                if (duration !== null && (parseGoDuration(duration) ?? 0) <= 0) {
                    record(route, 400, true, envKey);
                    return this.json(res, route, 400, { code: 400, message: `invalid duration '${duration}'` }, {});
                }
                const evaluated = evaluateDefinition(env.yaml, {
                    environment: envKey as string,
                    login: (r) => this.playAwsLogin(r, env),
                });
                if (evaluated.diagnostics.length > 0) {
                    record(route, 400, true, envKey);
                    return this.json(res, route, 400, { code: 400, message: "failed to open environment", diagnostics: evaluated.diagnostics }, {});
                }
                const id = String(1000 + this.sessions.size);
                this.sessions.set(id, { env: envKey as string, evaluated });
                record(route, 200, true, envKey);
                return this.json(res, route, 200, { id }, {});
            }
            case "read":
            case "readProperty": {
                const id = segs[route === "read" ? 4 : 5] as string;
                const s = this.sessions.get(id);
                if (!s || s.env !== envKey) {
                    record(route, 404, true, envKey);
                    return this.json(res, route, 404, { code: 404, message: `open session '${id}' not found` }, {});
                }
                if (route === "read") {
                    record(route, 200, true, envKey);
                    return this.json(res, route, 200, { exprs: s.evaluated.exprs, properties: s.evaluated.properties, schema: { type: "object" } }, {});
                }
                const property = query.get("property");
                const value = property ? property.split(".").reduce<unknown>((v, k) => {
                    const inner = (v as { value?: unknown } | undefined)?.value;
                    return inner && typeof inner === "object" ? (inner as Record<string, unknown>)[k] : undefined;
                }, { value: s.evaluated.properties }) : undefined;
                if (!property || value === undefined) {
                    record(route, 404, true, envKey);
                    return this.json(res, route, 404, { code: 404, message: `property '${property ?? ""}' not found` }, {});
                }
                record(route, 200, true, envKey);
                return this.json(res, route, 200, value, {});
            }
            default:
                return;
        }
    }

    /** Plays AWS for aws-login: AssumeRoleWithWebIdentity with this environment's token, or static credentials. */
    private playAwsLogin(r: LoginRequest, env: StandinEnvironment): LoginResult {
        const org = this.options.org;
        if (r.mode === "static") {
            const { accessKeyId, secretAccessKey, sessionToken } = r.inputs;
            if (typeof accessKeyId !== "string" || typeof secretAccessKey !== "string") {
                return { ok: false, summary: "aws-login: static.accessKeyId and static.secretAccessKey are required" };
            }
            return {
                ok: true,
                outputs: {
                    accessKeyId: { value: accessKeyId, secret: false },
                    secretAccessKey: { value: secretAccessKey, secret: true },
                    ...(typeof sessionToken === "string" ? { sessionToken: { value: sessionToken, secret: true } } : {}),
                },
            };
        }
        const roleArn = r.inputs.roleArn;
        const sessionName = typeof r.inputs.sessionName === "string" ? r.inputs.sessionName : "pulumi-environments-session";
        const durationText = typeof r.inputs.duration === "string" ? r.inputs.duration : "2h";
        const durationMs = parseGoDuration(durationText) ?? 2 * 3_600_000;
        const rid = awsRequestId();
        const wrap = (cause: string, status: number): LoginResult => ({
            ok: false,
            summary: `WebIdentityErr: failed to retrieve credentials\ncaused by: ${cause}\n\tstatus code: ${status}, request id: ${rid}`,
        });
        if (this.options.providerExists === false) {
            return wrap("InvalidIdentityToken: No OpenIDConnect provider found in your account for https://api.pulumi.com/oidc", 400);
        }
        const sub = `pulumi:environments:org:${org}:env:${env.project}/${env.name}`;
        const aud = env.project === "default" ? org : `aws:${org}`;
        const role = this.options.roles.find((x) => x.arn === roleArn);
        const admitted = role && (role.audiences ?? [`aws:${org}`]).includes(aud) && role.subjects.some((p) => globMatch(p, sub));
        if (!role || !admitted) return wrap("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity", 403);
        if (durationMs > (role.maxSessionDurationMs ?? 3_600_000)) {
            return wrap("ValidationError: The requested DurationSeconds exceeds the MaxSessionDuration set for this role.", 400);
        }
        const c = this.options.sts.issueRoleSession(role.arn, sessionName, durationMs);
        return {
            ok: true,
            outputs: {
                accessKeyId: { value: c.accessKeyId, secret: false },
                secretAccessKey: { value: c.secretAccessKey, secret: true },
                sessionToken: { value: c.sessionToken as string, secret: true },
            },
        };
    }
}
