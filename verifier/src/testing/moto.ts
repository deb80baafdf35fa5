/**
 * moto (PyPI `moto[server]`), a local implementation of the IAM and STS Query APIs, for the `scan aws` tests and the
 * scan benchmark: installed by scripts/ensure-moto.sh into .venv-moto/ (git-ignored), started as `moto_server` on a
 * free 127.0.0.1 port, stopped by its process id.
 *
 * moto routes each request to an account by the access key that signed it: the default keys go to 123456789012,
 * credentials from `sts:AssumeRole` of `arn:aws:iam::<account>:role/<name>` go to `<account>` (moto ≥ 5,
 * "multi-account support"), so a second account is reached exactly as `scan aws --assume-role` reaches it.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { RawReply } from "./rewrite.js";

const ROOT = join(__dirname, "..", "..", "..");

/** moto's default account: the account of any key it did not issue. */
export const MOTO_ACCOUNT = "123456789012";

export interface MotoServer {
    endpoint: string;
    stop(): Promise<void>;
}

/** Installs moto when needed; returns the path of `moto_server`, or why it cannot be had. */
export function ensureMoto(): { server: string } | { problem: string } {
    const r = spawnSync("bash", [join(ROOT, "scripts", "ensure-moto.sh")], { encoding: "utf8", timeout: 15 * 60_000 });
    if (r.status === 0) {
        const server = r.stdout.trim().split("\n").pop() ?? "";
        if (server !== "") return { server };
    }
    const why = (r.stderr || r.error?.message || `exit ${String(r.status)}`).trim().split("\n").slice(-3).join(" ");
    return { problem: `moto could not be installed (scripts/ensure-moto.sh): ${why}` };
}

/** Skips a test whose moto could not be had, except under `CI=true`, where it fails: a test never skips quietly. */
export function skipOrFail(t: TestContext, why: string): void {
    if (process.env.CI === "true") assert.fail(`${why} (CI=true: this test may not be skipped)`);
    t.skip(why);
}

/** A free TCP port on 127.0.0.1 (closed again before returning). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const s = createServer();
        s.once("error", reject);
        s.listen(0, "127.0.0.1", () => {
            const address = s.address();
            const port = typeof address === "object" && address ? address.port : 0;
            s.close(() => resolve(port));
        });
    });
}

function get(url: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve) => {
        const req = httpRequest(url, { method: "GET", timeout: timeoutMs }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(0));
        req.end();
    });
}

/**
 * The environment of a `scan aws` against moto at `endpoint` as the caller with `keys`: no shared config files (they
 * are looked for in `home`, where there are none), no instance metadata.
 */
export function motoScanEnv(endpoint: string, keys: { accessKeyId: string; secretAccessKey: string }, home: string): NodeJS.ProcessEnv {
    return {
        HOME: home,
        AWS_CONFIG_FILE: join(home, "no-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_ENDPOINT_URL_IAM: endpoint,
        AWS_ENDPOINT_URL_STS: endpoint,
    };
}

/** Starts `moto_server` on a free loopback port and waits (at most 30 s) until it answers. */
export async function startMoto(server: string): Promise<MotoServer> {
    const port = await freePort();
    const child: ChildProcess = spawn(server, ["-H", "127.0.0.1", "-p", String(port)], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
    });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
        if (stderr.length < 4000) stderr += d.toString("utf8");
    });
    const endpoint = `http://127.0.0.1:${port}`;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const stop = async (): Promise<void> => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
            await exited;
            clearTimeout(timer);
        }
    };
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr.trim().slice(-300)}`);
        if ((await get(`${endpoint}/moto-api/`, 1000)) > 0) return { endpoint, stop };
        await new Promise((r) => setTimeout(r, 150));
    }
    await stop();
    throw new Error(`moto_server did not answer on ${endpoint} within 30 s`);
}

/** Rules a {@link startFaultProxy} applies to Query API requests (the form body holds `Action=...`). */
export interface FaultRules {
    /** Answer this many `ListRoles` requests with HTTP 400 `Throttling` before passing them on. */
    throttleListRoles: number;
    /** `AssumeRole` of these role ARNs is answered with HTTP 403 `AccessDenied`. */
    denyAssumeRole: Set<string>;
    /** Answer every `ListRoles` with an empty page that says more follow (a new marker each time): never ends. */
    endlessListRoles?: boolean;
    /**
     * What to send instead of moto's answer to an `action`: given moto's status and XML, a reply, or undefined to send
     * moto's own. For fault tests of a server that breaks the Query API's format.
     */
    rewrite?: (action: string, xml: string, status: number) => RawReply | undefined;
}

/**
 * A loopback HTTP server in front of moto that injects AWS errors (throttling, AccessDenied) and passes everything
 * else through. `throttled` counts the throttling answers sent.
 */
export async function startFaultProxy(
    upstream: string,
    rules: FaultRules,
): Promise<{ endpoint: string; throttled: () => number; stop: () => Promise<void> }> {
    let throttled = 0;
    const target = new URL(upstream);
    const error = (res: ServerResponse, status: number, code: string, message: string): void => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(
            `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code>` +
                `<Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
        );
    };
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            const form = new URLSearchParams(body.toString("utf8"));
            const action = form.get("Action");
            if (action === "ListRoles" && rules.throttleListRoles > 0) {
                rules.throttleListRoles--;
                throttled++;
                error(res, 400, "Throttling", "Rate exceeded");
                return;
            }
            if (action === "ListRoles" && rules.endlessListRoles) {
                const marker = `m${Number(form.get("Marker")?.slice(1) ?? "0") + 1}`;
                res.writeHead(200, { "content-type": "text/xml" });
                res.end(
                    `<ListRolesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListRolesResult><IsTruncated>true</IsTruncated>` +
                        `<Marker>${marker}</Marker><Roles/></ListRolesResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></ListRolesResponse>`,
                );
                return;
            }
            if (action === "AssumeRole" && rules.denyAssumeRole.has(form.get("RoleArn") ?? "")) {
                error(res, 403, "AccessDenied", `User is not authorized to perform: sts:AssumeRole on resource: ${form.get("RoleArn") ?? ""}`);
                return;
            }
            const up = httpRequest(
                { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
                (upRes) => {
                    const rewrite = rules.rewrite;
                    if (!rewrite) {
                        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
                        upRes.pipe(res);
                        return;
                    }
                    const parts: Buffer[] = [];
                    upRes.on("data", (c: Buffer) => parts.push(c));
                    upRes.on("end", () => {
                        const status = upRes.statusCode ?? 502;
                        const xml = Buffer.concat(parts).toString("utf8");
                        const reply = rewrite(action ?? "", xml, status) ?? { body: xml };
                        res.writeHead(reply.status ?? status, { "content-type": reply.contentType ?? "text/xml" });
                        res.end(reply.body);
                    });
                },
            );
            up.on("error", () => {
                res.writeHead(502);
                res.end();
            });
            up.end(body);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        throttled: () => throttled,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
