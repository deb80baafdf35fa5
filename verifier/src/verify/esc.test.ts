import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startWorld, ORG, type World } from "../testing/world.js";
import { escBasePath } from "./config.js";
import { Deadline } from "./deadline.js";
import { ServiceError } from "./errors.js";
import { EscClient, MAX_LISTED_ENVIRONMENTS } from "./esc.js";

const ref = (name: string): { org: string; project: string; name: string } => ({ org: ORG, project: "platform", name });
const FAST = { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 2000 };

describe("EscClient over @pulumi/esc-sdk against the ESC stand-in", () => {
    let world: World;
    let client: EscClient;
    before(async () => {
        world = await startWorld({ pageSize: 3 });
        client = new EscClient({ basePath: escBasePath(world.esc.url), token: world.token }, { retry: FAST, requestTimeoutMs: 2000 });
    });
    after(async () => world.close());

    it("reaches a backend on a random port under a path prefix (the SDK constructor alone would drop both)", async () => {
        assert.match(client.basePath, /^http:\/\/127\.0\.0\.1:\d+\/self-hosted\/pulumi\/api\/esc$/);
        const opened = await client.open(ref("prod"), "15m", new Deadline(5000));
        assert.equal(opened.kind, "opened");
        const last = world.esc.requests.at(-1);
        assert.deepEqual([last?.route, last?.query, last?.authorized], ["open", "duration=15m", true]);
        const env = await client.read(ref("prod"), opened.kind === "opened" ? opened.id : "", new Deadline(5000));
        assert.ok(env.properties?.aws && env.exprs?.aws);
    });

    it("returns a failed open's 400 with its diagnostics", async () => {
        const o = await client.open(ref("denied"), undefined, new Deadline(5000));
        assert.equal(o.kind, "rejected");
        assert.equal(o.kind === "rejected" && o.diagnostics[0]?.range?.begin.line, 4);
        assert.match(o.kind === "rejected" ? (o.diagnostics[0]?.summary ?? "") : "", /AccessDenied/);
    });

    it("lists every page and reads definitions", async () => {
        const before = world.esc.count("list");
        const envs = await client.list(ORG, new Deadline(5000));
        assert.equal(envs.length, 11);
        assert.equal(world.esc.count("list") - before, 4, "11 environments in pages of 3");
        const def = (await client.getDefinition(ref("prod"), new Deadline(5000))) as { values: Record<string, unknown> };
        assert.ok(def.values.environmentVariables);
    });

    it("refuses a session id no ESC gives before it goes into a request's path", async () => {
        world.esc.addFault({ route: "open", env: "platform/prod", rewrite: () => ({ body: JSON.stringify({ id: "x".repeat(5000) }) }) });
        await assert.rejects(client.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "bad-response", String(e));
            assert.match(e.message, /^opening acme\/platform\/prod: the session id is 5,000 characters long$/);
            return true;
        });
    });

    it("stops a list that loops or never ends, with what went wrong", async () => {
        // A server that hands back a continuation token it gave before would list the same pages forever.
        world.esc.addFault({ route: "list", times: 2, rewrite: (body) => ({ body: JSON.stringify({ ...(body as object), nextToken: "3" }) }) });
        await assert.rejects(client.list(ORG, new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "bad-response", String(e));
            assert.match(e.message, /^listing environments of acme: the list gave the same continuation token twice$/);
            return true;
        });
        // A page of more environments than any organization has.
        const many = { environments: Array.from({ length: MAX_LISTED_ENVIRONMENTS + 1 }, (_, i) => ({ organization: ORG, project: "p", name: `e${i}` })) };
        world.esc.addFault({ route: "list", rewrite: () => ({ body: JSON.stringify(many) }) });
        await assert.rejects(client.list(ORG, new Deadline(5000)), /listing environments of acme: more than 100,000 environments/);
    });

    it("retries GETs on 5xx up to the attempt limit, then reports the status", async () => {
        world.esc.addFault({ route: "read", env: "platform/dev", status: 500, times: 10 });
        const before = world.esc.count("read", "platform/dev");
        await assert.rejects(client.read(ref("dev"), "1000", new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "server" && /HTTP 500 .*\(after retries\)/.test(e.message));
        assert.equal(world.esc.count("read", "platform/dev") - before, 4);
    });

    it("retries open on 429 (Retry-After), never on 5xx", async () => {
        world.esc.addFault({ route: "open", env: "platform/prod", status: 429, retryAfter: "0" });
        let before = world.esc.count("open", "platform/prod");
        assert.equal((await client.open(ref("prod"), undefined, new Deadline(5000))).kind, "opened");
        assert.equal(world.esc.count("open", "platform/prod") - before, 2);
        world.esc.addFault({ route: "open", env: "platform/prod", status: 502 });
        before = world.esc.count("open", "platform/prod");
        await assert.rejects(client.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "server");
        assert.equal(world.esc.count("open", "platform/prod") - before, 1);
    });

    it("gives up at once when Retry-After asks for longer than the longest wait", async () => {
        world.esc.addFault({ route: "list", status: 429, retryAfter: "3600" });
        const t0 = Date.now();
        await assert.rejects(client.list(ORG, new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "rate-limited" && /Retry-After asks for 3600 s/.test(e.message));
        assert.ok(Date.now() - t0 < 1000);
    });

    it("times out each request; a timed-out open is not re-POSTed, a timed-out GET is retried", async () => {
        const quick = new EscClient({ basePath: escBasePath(world.esc.url), token: world.token }, { retry: FAST, requestTimeoutMs: 200 });
        world.esc.addFault({ route: "open", env: "platform/prod", delayMs: 1500 });
        let before = world.esc.count("open", "platform/prod");
        const t0 = Date.now();
        await assert.rejects(quick.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "timeout");
        assert.ok(Date.now() - t0 < 1000);
        await new Promise((r) => setTimeout(r, 1600));
        assert.equal(world.esc.count("open", "platform/prod") - before, 1);
        world.esc.addFault({ route: "list", delayMs: 500 });
        before = world.esc.count("list");
        assert.equal((await quick.list(ORG, new Deadline(5000))).length, 11);
        await new Promise((r) => setTimeout(r, 600)); // the abandoned slow request is recorded when it ends
        assert.equal(world.esc.count("list") - before, 5, "4 pages and one retry of the slow first page");
    });

    it("errors carry status and message only: never the token, never the SDK's error object", async () => {
        const bad = new EscClient({ basePath: escBasePath(world.esc.url), token: "pul-notthetokennotthetokennotthetoken0000" }, { retry: FAST });
        const e = await bad.open(ref("prod"), undefined, new Deadline(5000)).then(
            () => undefined,
            (x: unknown) => x,
        );
        assert.ok(e instanceof ServiceError);
        assert.equal(e.kind, "unauthorized");
        assert.equal(e.status, 401);
        assert.equal(e.cause, undefined);
        const everything = JSON.stringify({ ...e, message: e.message, stack: e.stack });
        assert.ok(!everything.includes("notthetoken"));
        const notFound = await client.read(ref("nope"), "1", new Deadline(5000)).catch((x: unknown) => x);
        assert.ok(notFound instanceof ServiceError && notFound.kind === "not-found");
    });

    it("refuses a listed environment whose name ESC never gives, at the first one, before any request goes to its path", async () => {
        // ESC's names are a project and an environment of at most 100 letters, digits, '.', '-' and '_' (and never
        // '.' or '..', which would address another path): anything else did not come from ESC as it is documented.
        const listed = (environments: unknown[], nextToken?: string): string => JSON.stringify({ environments, ...(nextToken ? { nextToken } : {}) });
        const ok = { organization: ORG, project: "platform", name: "prod" };
        const cases: [string, unknown, RegExp][] = [
            ["'..' as both", { organization: ORG, project: "..", name: ".." }, /environment 2 of page 1 has project '\.\.', which is not an ESC name/],
            ["'.' as the name", { organization: ORG, project: "p", name: "." }, /environment 2 of page 1 has name '\.', which is not an ESC name/],
            ["control characters", { organization: ORG, project: "p", name: "x\u001b[31m\n::error::pwned\u202e" }, /has name 'x\\x1b\[31m\\n::error::pwned\\u202e', which is not an ESC name/],
            ["101 characters", { organization: ORG, project: "p", name: "a".repeat(101) }, /has name 'a{40}…' \(101 characters\), which is not an ESC name \(letters, digits, '\.', '-' and '_', at most 100\)$/],
            ["no name", { organization: ORG, project: "p" }, /environment 2 of page 1 has no name$/],
            ["a number for a project", { organization: ORG, project: 7, name: "e" }, /environment 2 of page 1 has no project$/],
            ["not an object", "platform/prod", /environment 2 of page 1 is not an object$/],
            ["another kind of organization name", { organization: "-x-", project: "p", name: "e" }, /has organization '-x-', which is not an ESC name/],
        ];
        for (const [what, entry, message] of cases) {
            world.esc.addFault({ route: "list", rewrite: () => ({ body: listed([ok, entry]) }) });
            await assert.rejects(client.list(ORG, new Deadline(5000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", `${what}: ${String(e)}`);
                assert.match(e.message, /^listing environments of acme: /, what);
                assert.match(e.message, message, what);
                assert.match(e.hint ?? "", /PULUMI_BACKEND_URL/, what);
                return true;
            });
        }
    });

    it("stops reading the list at the first page with a name ESC never gives (memory stays bounded)", async () => {
        // A server that pages on and on with huge names: the list ends at the first such page, whose name is shown
        // bounded, instead of keeping every name of a thousand pages.
        const huge = "A".repeat(8 * 1024 * 1024 - 200);
        let page = 0;
        let active = true;
        world.esc.addFault({
            route: "list",
            times: 1000,
            // Once this test is over, the stand-in's own pages go through unchanged.
            rewrite: (body) =>
                active
                    ? { body: JSON.stringify({ environments: [{ organization: ORG, project: "p", name: page === 0 ? huge : "B".repeat(200) }], nextToken: String(++page) }) }
                    : { body: JSON.stringify(body) },
        });
        const before = world.esc.count("list");
        try {
            await assert.rejects(client.list(ORG, new Deadline(20_000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", String(e));
                assert.match(e.message, /^listing environments of acme: environment 1 of page 1 has name 'A{40}…' \(8,388,408 characters\), which is not an ESC name/);
                assert.ok(e.message.length < 400, `a message of ${e.message.length} characters`);
                return true;
            });
            assert.equal(world.esc.count("list") - before, 1, "pages read");
        } finally {
            active = false;
        }
    });

    it("a 400 from open is ESC's verdict only with ESC's JSON error body; a proxy's page or an empty body is could not verify", async () => {
        const proxy: [string, string, string][] = [
            ["an HTML page", "<html>400 Bad Request (proxy)</html>", "text/html"],
            ["an empty body", "", "text/plain"],
            ["JSON that is not ESC's error", JSON.stringify({ error: "bad" }), "application/json"],
            ["a JSON string", JSON.stringify("bad request"), "application/json"],
        ];
        for (const [what, body, contentType] of proxy) {
            world.esc.addFault({ route: "open", env: "platform/prod", rewrite: () => ({ status: 400, body, contentType }) });
            await assert.rejects(client.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", `${what}: ${String(e)}`);
                assert.equal(e.status, 400, what);
                assert.match(e.message, /^opening acme\/platform\/prod: HTTP 400 with a body that is not ESC's JSON error \(/, what);
                assert.match(e.hint ?? "", /PULUMI_BACKEND_URL/, what);
                return true;
            });
        }
        // ESC's own 400: a message, with or without diagnostics, is ESC's answer (a verdict).
        world.esc.addFault({ route: "open", env: "platform/prod", rewrite: () => ({ status: 400, body: JSON.stringify({ code: 400, message: "invalid duration 'x'" }) }) });
        const own = await client.open(ref("prod"), undefined, new Deadline(5000));
        assert.deepEqual(own, { kind: "rejected", status: 400, message: "invalid duration 'x'", diagnostics: [] });
    });

    it("says 'after retries' only when it retried, and hints at Pulumi Cloud", async () => {
        // Open is not retried on a 5xx (the server may have processed it): one attempt, and the message says so.
        world.esc.addFault({ route: "open", env: "platform/prod", status: 500 });
        const before = world.esc.count("open", "platform/prod");
        await assert.rejects(client.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "server", String(e));
            assert.doesNotMatch(e.message, /after retries/);
            assert.doesNotMatch(e.hint ?? "", /after retries/);
            assert.match(e.hint ?? "", /Pulumi Cloud/);
            // An open's hint gives the reason it was not sent again.
            assert.match(e.hint ?? "", /an open is not sent twice/);
            return true;
        });
        assert.equal(world.esc.count("open", "platform/prod") - before, 1);
        // A GET that kept failing was retried: that one says so.
        world.esc.addFault({ route: "read", env: "platform/static", status: 503, times: 4 });
        await assert.rejects(client.read(ref("static"), "1000", new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "server", String(e));
            assert.match(e.message, /HTTP 503 Service Unavailable \(after retries\)$/);
            assert.match(e.hint ?? "", /^Pulumi Cloud kept returning server errors/);
            return true;
        });
    });

    it("a read that is not retried (Retry-After too long, no time left) does not get the open's 'not sent twice' hint", async () => {
        // Retry-After longer than the longest wait (2 s): given up at once, on the first attempt.
        world.esc.addFault({ route: "read", env: "platform/static", status: 503, retryAfter: "3600" });
        let before = world.esc.count("read", "platform/static");
        await assert.rejects(client.read(ref("static"), "1000", new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "server", String(e));
            assert.match(e.message, /HTTP 503, and Retry-After asks for 3600 s$/);
            assert.doesNotMatch(e.hint ?? "", /an open is not sent twice/);
            assert.equal(e.hint, "Pulumi Cloud returned a server error: retry later");
            return true;
        });
        assert.equal(world.esc.count("read", "platform/static") - before, 1);
        // The first backoff (10 s) is longer than the time left (5 s): not retried, and the message says why.
        const slow = new EscClient({ basePath: escBasePath(world.esc.url), token: world.token }, { retry: { maxAttempts: 4, baseDelayMs: 10_000, maxDelayMs: 20_000 } });
        world.esc.addFault({ route: "read", env: "platform/static", status: 503 });
        before = world.esc.count("read", "platform/static");
        await assert.rejects(slow.read(ref("static"), "1000", new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "server", String(e));
            assert.match(e.message, /\(no time left to retry before the overall deadline\)$/);
            assert.doesNotMatch(e.message, /after retries/);
            assert.doesNotMatch(e.hint ?? "", /an open is not sent twice/);
            assert.equal(e.hint, "Pulumi Cloud returned a server error: retry later");
            return true;
        });
        assert.equal(world.esc.count("read", "platform/static") - before, 1);
    });

    it("an unreadable Retry-After (-5, 1.5) falls back to the normal backoff, never to no wait at all", async () => {
        // The first backoff (10 s) is longer than the time left (5 s): with the normal backoff the 429 is reported
        // at once, without a retry. Read as a date (2001) the header would mean "retry now" and the open would succeed.
        const slow = new EscClient({ basePath: escBasePath(world.esc.url), token: world.token }, { retry: { maxAttempts: 4, baseDelayMs: 10_000, maxDelayMs: 20_000 } });
        for (const retryAfter of ["-5", "1.5", "1e1", "+1", "0x1"]) {
            world.esc.addFault({ route: "open", env: "platform/prod", status: 429, retryAfter });
            const before = world.esc.count("open", "platform/prod");
            await assert.rejects(slow.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "rate-limited", `${retryAfter}: ${String(e)}`);
                assert.doesNotMatch(e.message, /after retries/, retryAfter);
                assert.match(e.message, /no time left to retry before the overall deadline/, retryAfter);
                return true;
            });
            assert.equal(world.esc.count("open", "platform/prod") - before, 1, `Retry-After: ${retryAfter}`);
        }
        // A readable one is honoured.
        world.esc.addFault({ route: "open", env: "platform/prod", status: 429, retryAfter: "0" });
        assert.equal((await slow.open(ref("prod"), undefined, new Deadline(5000))).kind, "opened");
    });

    it("names a refused connection as unreachable", async () => {
        const s = createServer();
        await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
        const port = (s.address() as { port: number }).port;
        await new Promise<void>((r) => s.close(() => r()));
        const down = new EscClient({ basePath: `http://127.0.0.1:${port}/api/esc`, token: world.token }, { retry: FAST });
        await assert.rejects(down.open(ref("prod"), undefined, new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "unreachable" && /connection refused at 127\.0\.0\.1:\d+$/.test(e.message));
    });
});
