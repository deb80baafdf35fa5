/**
 * An STS stand-in for tests and benches: issues credentials (temporary role sessions as ASIA… with a session token,
 * long-lived user keys as AKIA…), and answers the Query/XML API's GetCallerIdentity after verifying the SigV4
 * signature against the secret it issued (sigv4.ts). Binds 127.0.0.1 on a random port; never keeps the process alive.
 * Response shapes: DOMAIN.md §4.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { InFlightCounter } from "./inflight.js";
import type { RawReply } from "./rewrite.js";
import { verifySigV4 } from "./sigv4.js";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** Credentials the stand-in issued, with the identity GetCallerIdentity reports for them. */
export interface IssuedCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    arn: string;
    account: string;
    userId: string;
    /** Epoch ms; undefined for user keys. */
    expiresAt?: number;
}

export interface StsRequestRecord {
    action: string;
    accessKeyId?: string;
    status: number;
    code?: string;
}

export interface StsStandinOptions {
    /** Added before each response, to model network latency. */
    latencyMs?: number;
    /** Requests in flight, possibly shared with other stand-ins (default: a counter of its own). */
    inFlight?: InFlightCounter;
}

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function keyId(prefix: "ASIA" | "AKIA"): string {
    const bytes = randomBytes(16);
    let s = prefix;
    for (let i = 0; i < 16; i++) s += B32[(bytes[i] as number) % 32];
    return s;
}

function xmlEscape(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export class StsStandin {
    readonly requests: StsRequestRecord[] = [];
    private readonly issued = new Map<string, IssuedCredentials>();
    /** Pending rewrites: each replaces one response with what it makes of the stand-in's own XML. */
    private readonly rewrites: ((xml: string, status: number) => RawReply)[] = [];
    /** Requests being handled now, and the most at once. */
    readonly inFlight: InFlightCounter;

    private constructor(
        private readonly server: Server,
        readonly url: string,
        private readonly options: StsStandinOptions,
    ) {
        this.inFlight = options.inFlight ?? new InFlightCounter();
    }

    /** Starts a stand-in on 127.0.0.1 and a random port. */
    static async start(options: StsStandinOptions = {}): Promise<StsStandin> {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        server.unref();
        const port = (server.address() as AddressInfo).port;
        const self = new StsStandin(server, `http://127.0.0.1:${port}`, options);
        server.on("request", (req: IncomingMessage, res: ServerResponse) => void self.handle(req, res));
        return self;
    }

    /** Issues temporary credentials for a role session (what AssumeRoleWithWebIdentity returns). */
    issueRoleSession(roleArn: string, sessionName: string, durationMs: number): IssuedCredentials {
        const m = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
        if (!m) throw new Error(`not a role ARN: ${roleArn}`);
        const [, partition, account, roleName] = m as unknown as [string, string, string, string];
        const roleId = `AROA${keyId("AKIA").slice(4)}`;
        const creds: IssuedCredentials = {
            accessKeyId: keyId("ASIA"),
            secretAccessKey: randomBytes(30).toString("base64"),
            sessionToken: `IQoJb3JpZ2luX2Vj${randomBytes(300).toString("base64")}`,
            arn: `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`,
            account,
            userId: `${roleId}:${sessionName}`,
            expiresAt: Date.now() + durationMs,
        };
        this.issued.set(creds.accessKeyId, creds);
        return creds;
    }

    /** Registers a long-lived IAM user access key (AKIA…, no session token). */
    addUserKey(userArn: string): IssuedCredentials {
        const m = /^arn:[a-z-]+:iam::(\d{12}):user\/(?:.*\/)?([^/]+)$/.exec(userArn);
        if (!m) throw new Error(`not a user ARN: ${userArn}`);
        const creds: IssuedCredentials = {
            accessKeyId: keyId("AKIA"),
            secretAccessKey: randomBytes(30).toString("base64"),
            arn: userArn,
            account: m[1] as string,
            userId: `AIDA${keyId("AKIA").slice(4)}`,
        };
        this.issued.set(creds.accessKeyId, creds);
        return creds;
    }

    /**
     * Replaces the next response with what `rewrite` makes of the XML the stand-in would have sent (a server that
     * breaks the Query API's format, for fault tests).
     */
    addRewrite(rewrite: (xml: string, status: number) => RawReply): void {
        this.rewrites.push(rewrite);
    }

    /** Every credential issued so far (for no-leak assertions). */
    allIssued(): IssuedCredentials[] {
        return [...this.issued.values()];
    }

    async close(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
        this.inFlight.enter();
        try {
            const chunks: Buffer[] = [];
            for await (const c of req) chunks.push(c as Buffer);
            const body = Buffer.concat(chunks);
            if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
            this.respond(req, res, body);
        } finally {
            this.inFlight.exit();
        }
    }

    private respond(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
        const requestId = randomUUID();
        const rewrite = this.rewrites.shift();
        const send = (status: number, xml: string): void => {
            const reply = rewrite ? rewrite(xml, status) : { status, body: xml };
            res.writeHead(reply.status ?? status, { "content-type": reply.contentType ?? "text/xml", "x-amzn-requestid": requestId });
            res.end(reply.body);
        };
        const error = (status: number, code: string, message: string, accessKeyId?: string): void => {
            this.requests.push({ action: "GetCallerIdentity", accessKeyId, status, code });
            send(
                status,
                `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
            );
        };
        const path = (req.url ?? "/").split("?")[0];
        if (req.method !== "POST" || path !== "/") return error(400, "InvalidAction", "Only POST / is served");
        const form = new URLSearchParams(body.toString("utf8"));
        if (form.get("Action") !== "GetCallerIdentity" || form.get("Version") !== "2011-06-15") {
            return error(400, "InvalidAction", `Could not find operation ${form.get("Action") ?? "(none)"} for version ${form.get("Version") ?? "(none)"}`);
        }
        const sig = verifySigV4(
            { method: req.method, url: req.url ?? "/", headers: req.headers, body },
            (id) => this.issued.get(id)?.secretAccessKey,
        );
        if (!sig.ok) {
            // As AWS does, a signature mismatch tells the caller what it should have signed.
            const detail = sig.canonicalRequest
                ? `${sig.message}\n\nThe Canonical String for this request should have been\n'${sig.canonicalRequest}'\n\nThe String-to-Sign should have been\n'${sig.stringToSign ?? ""}'\n`
                : sig.message;
            return error(403, sig.code, detail, sig.accessKeyId);
        }
        if (sig.service !== "sts") return error(403, "SignatureDoesNotMatch", `Credential should be scoped to correct service: 'sts'`, sig.accessKeyId);
        const creds = this.issued.get(sig.accessKeyId) as IssuedCredentials;
        const token = req.headers["x-amz-security-token"];
        if (creds.sessionToken !== undefined) {
            if (token !== creds.sessionToken) {
                return error(403, "InvalidClientTokenId", "The security token included in the request is invalid.", sig.accessKeyId);
            }
            if (creds.expiresAt !== undefined && creds.expiresAt <= Date.now()) {
                return error(403, "ExpiredToken", "The security token included in the request is expired", sig.accessKeyId);
            }
        } else if (token !== undefined) {
            return error(403, "InvalidClientTokenId", "The security token included in the request is invalid.", sig.accessKeyId);
        }
        this.requests.push({ action: "GetCallerIdentity", accessKeyId: sig.accessKeyId, status: 200 });
        send(
            200,
            `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>${xmlEscape(creds.arn)}</Arn><UserId>${xmlEscape(creds.userId)}</UserId><Account>${creds.account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
        );
    }
}
