import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { StsStandin } from "../testing/sts-standin.js";
import { Deadline } from "./deadline.js";
import { ServiceError } from "./errors.js";
import { getCallerIdentity, isPrincipalArn, parseAssumedRoleArn, parseRoleArn } from "./sts.js";
import { UNISSUED_KEY_ID } from "../../../fixtures/esc/credentials.js";

describe("STS GetCallerIdentity with exactly the given credentials (STS stand-in, SigV4 checked)", () => {
    let sts: StsStandin;
    before(async () => {
        sts = await StsStandin.start();
    });
    after(async () => sts.close());
    const conn = (): { region: string; endpoint: string } => ({ region: "eu-west-1", endpoint: sts.url });

    it("returns the assumed-role identity of a role session", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/path/esc-deploy", "pulumi-esc", 3_600_000);
        const r = await getCallerIdentity({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken }, conn(), new Deadline(5000));
        assert.deepEqual(r, { kind: "identity", identity: { arn: "arn:aws:sts::123456789012:assumed-role/esc-deploy/pulumi-esc", account: "123456789012", userId: c.userId } });
        assert.equal(sts.requests.at(-1)?.accessKeyId, c.accessKeyId);
    });

    it("reports STS's refusal of bad credentials as a rejection, not an error", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/r", "s", 3_600_000);
        const wrongSecret = await getCallerIdentity({ ...c, secretAccessKey: "x".repeat(40) }, conn(), new Deadline(5000));
        assert.equal(wrongSecret.kind === "rejected" && wrongSecret.rejection.code, "SignatureDoesNotMatch");
        // AWS appends the canonical request, which holds x-amz-security-token: it must not come through.
        const message = wrongSecret.kind === "rejected" ? wrongSecret.rejection.message : "";
        assert.match(message, /^The request signature we calculated does not match/);
        assert.ok(!message.includes(c.sessionToken as string) && !message.includes("Canonical"), message);
        const noToken = await getCallerIdentity({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, conn(), new Deadline(5000));
        assert.equal(noToken.kind === "rejected" && noToken.rejection.code, "InvalidClientTokenId");
        const unknown = await getCallerIdentity({ accessKeyId: UNISSUED_KEY_ID, secretAccessKey: "s".repeat(40), sessionToken: "t" }, conn(), new Deadline(5000));
        assert.equal(unknown.kind === "rejected" && unknown.rejection.status, 403);
        const expired = sts.issueRoleSession("arn:aws:iam::123456789012:role/r", "s", -1000);
        const exp = await getCallerIdentity(expired, conn(), new Deadline(5000));
        assert.equal(exp.kind === "rejected" && exp.rejection.code, "ExpiredToken");
    });

    it("reports a user key's identity as it is (the caller decides it is not a role)", async () => {
        const u = sts.addUserKey("arn:aws:iam::123456789012:user/ci");
        const r = await getCallerIdentity(u, conn(), new Deadline(5000));
        assert.equal(r.kind === "identity" && r.identity.arn, "arn:aws:iam::123456789012:user/ci");
    });

    it("an unreachable endpoint is a ServiceError (could not verify)", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/r", "s", 3_600_000);
        await assert.rejects(getCallerIdentity(c, { region: "eu-west-1", endpoint: "http://127.0.0.1:1" }, new Deadline(5000)), (e: unknown) => e instanceof ServiceError && e.kind === "unreachable");
    });

    it("an answer STS cannot give is a bad response (could not verify), never an identity", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/esc-deploy", "pulumi-esc", 3_600_000);
        const arnOf = (xml: string): string => /<Arn>([^<]*)<\/Arn>/.exec(xml)?.[1] ?? "";
        const answers: [string, (xml: string) => string, RegExp][] = [
            ["another account's ARN", (x) => x.replace("<Account>123456789012</Account>", "<Account>210987654321</Account>"), /the response's Arn is not the ARN of a principal in its Account/],
            ["a control character in the ARN", (x) => x.replace(arnOf(x), `${arnOf(x)}&#x1b;[31m`), /the response's Arn is not the ARN of a principal in its Account/],
            ["an ARN that is not one", (x) => x.replace(arnOf(x), "esc-deploy"), /the response's Arn is not the ARN of a principal in its Account/],
            ["no Arn", (x) => x.replace(/<Arn>[^<]*<\/Arn>/, ""), /the response has no Arn or Account/],
            ["XML cut short", (x) => x.slice(0, 90), /is not a GetCallerIdentity response \(HTTP 200\)/],
            ["elements nested 100,000 deep", () => "<a>".repeat(100_000), /is not a GetCallerIdentity response \(HTTP 200\)/],
        ];
        for (const [what, rewrite, message] of answers) {
            sts.addRewrite((xml) => ({ body: rewrite(xml) }));
            await assert.rejects(getCallerIdentity(c, conn(), new Deadline(5000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", `${what}: ${String(e)}`);
                assert.match(e.message, message, what);
                return true;
            });
        }
        // A refusal's code is the server's text: one line, bounded.
        sts.addRewrite(() => ({ status: 403, body: `<ErrorResponse><Error><Code>${"Bad\u0007".repeat(500)}</Code><Message>no</Message></Error></ErrorResponse>` }));
        const refused = await getCallerIdentity(c, conn(), new Deadline(5000));
        assert.equal(refused.kind, "rejected");
        const code = refused.kind === "rejected" ? refused.rejection.code : "";
        assert.ok(code.length <= 100 && !code.includes("\u0007"), code);
    });

    it("a body that is not STS's XML ErrorResponse with a code is could not verify, never a refusal of the credentials", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/esc-deploy", "pulumi-esc", 3_600_000);
        const answers: [string, number, string, string, RegExp][] = [
            ["a proxy's HTML page", 403, "<html>Forbidden by proxy</html>", "text/html", /HTTP 403, text\/html, 31 bytes/],
            ["an empty 403", 403, "", "text/xml", /HTTP 403, text\/xml, an empty body/],
            ["an empty 401", 401, "", "text/plain", /HTTP 401, text\/plain, an empty body/],
            ["plain text", 400, "bad request", "text/plain", /HTTP 400, text\/plain, 11 bytes/],
            ["an error without a code", 403, "<ErrorResponse><Error><Type>Sender</Type><Message>no</Message></Error></ErrorResponse>", "text/xml", /HTTP 403/],
            ["a code under another root", 403, "<Foo><Error><Code>AccessDenied</Code></Error></Foo>", "text/xml", /HTTP 403/],
            ["JSON", 403, JSON.stringify({ Error: { Code: "AccessDenied" } }), "application/json", /HTTP 403, application\/json/],
            ["a gateway's 502 page", 502, "<html><body>502 Bad Gateway</body></html>", "text/html", /HTTP 502, text\/html/],
        ];
        for (const [what, status, body, contentType, message] of answers) {
            // The SDK sends a request that got a 5xx three times in all: each gets the same answer.
            for (let i = 0; i < (status >= 500 ? 3 : 1); i++) sts.addRewrite(() => ({ status, body, contentType }));
            await assert.rejects(getCallerIdentity(c, conn(), new Deadline(10_000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", `${what}: ${String(e)}`);
                assert.match(e.message, /^calling STS GetCallerIdentity: the response from 127\.0\.0\.1:\d+ is not an answer of STS \(/, what);
                assert.match(e.message, message, what);
                assert.match(e.hint ?? "", /AWS_ENDPOINT_URL_STS/, what);
                return true;
            });
        }
        // STS's own refusal, with its XML declaration, stays a refusal (a verdict on the credentials).
        sts.addRewrite(() => ({
            status: 403,
            body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
        }));
        const refused = await getCallerIdentity(c, conn(), new Deadline(5000));
        assert.deepEqual(refused, { kind: "rejected", rejection: { code: "InvalidClientTokenId", status: 403, message: "The security token included in the request is invalid." } });
    });

    it("an Arn that is not a principal's ARN in the Account is could not verify", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/esc-deploy", "pulumi-esc", 3_600_000);
        for (const arn of [
            "arn:aws:sts::123456789012:garbage",
            "arn:aws:sts::123456789012:assumed-role/",
            "arn:aws:sts::123456789012:assumed-role/esc-deploy",
            "arn:aws:sts::123456789012:assumed-role/esc-deploy/",
            "arn:aws:iam::123456789012:assumed-role/esc-deploy/s",
            "arn:aws:sts::123456789012:user/ci",
            "arn:aws:iam::123456789012:role/esc-deploy",
            "arn:other:sts::123456789012:assumed-role/esc-deploy/s",
        ]) {
            sts.addRewrite((xml) => ({ body: xml.replace(/<Arn>[^<]*<\/Arn>/, `<Arn>${arn}</Arn>`) }));
            await assert.rejects(getCallerIdentity(c, conn(), new Deadline(5000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === "bad-response", `${arn}: ${String(e)}`);
                assert.match(e.message, /the response's Arn is not the ARN of a principal in its Account/, arn);
                return true;
            });
        }
    });

    it("knows the principal ARNs GetCallerIdentity returns", () => {
        const account = "123456789012";
        for (const arn of [
            "arn:aws:sts::123456789012:assumed-role/esc-deploy/pulumi-environments-session",
            "arn:aws-cn:sts::123456789012:assumed-role/r/s@x.y",
            "arn:aws-us-gov:sts::123456789012:assumed-role/r+=,.@-/s",
            "arn:aws:iam::123456789012:user/ci",
            "arn:aws:iam::123456789012:user/division/team/ci",
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:federated-user/bob",
            // The isolated and sovereign partitions.
            "arn:aws-iso:sts::123456789012:assumed-role/r/s",
            "arn:aws-iso-b:sts::123456789012:assumed-role/r/s",
            "arn:aws-eusc:iam::123456789012:root",
        ]) {
            assert.equal(isPrincipalArn(arn, account), true, arn);
        }
        for (const arn of [
            "arn:aws:sts::123456789012:garbage",
            "arn:aws:sts::123456789012:assumed-role/r",
            "arn:aws:sts::123456789012:assumed-role/r/s/t",
            `arn:aws:sts::123456789012:assumed-role/${"r".repeat(65)}/s`,
            "arn:aws:sts::123456789012:assumed-role/r/s\u001b[31m",
            "arn:aws:iam::123456789012:user/",
            "arn:aws:iam::123456789012:user//ci",
            "arn:aws:sts::123456789012:root",
            "arn:aws:iam::123456789012:root/x",
            "arn:aws:iam::123456789012:federated-user/bob",
            "arn:aws:sts::123456789012:federated-user/b",
            "arn:aws:sts::210987654321:assumed-role/r/s",
            "arn:aws-ISO:sts::123456789012:assumed-role/r/s",
            "arn:azure:sts::123456789012:assumed-role/r/s",
            "arn:aws:sts:us-east-1:123456789012:assumed-role/r/s",
        ]) {
            assert.equal(isPrincipalArn(arn, account), false, arn);
        }
    });

    it("hints name STS, not Pulumi Cloud; 'after retries' only when the SDK retried", async () => {
        const c = sts.issueRoleSession("arn:aws:iam::123456789012:role/esc-deploy", "pulumi-esc", 3_600_000);
        const error = (code: string, type = "Sender"): string =>
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
        // The SDK retries throttling and server errors (3 attempts): every attempt gets the same answer.
        for (const [status, code, kind, hint] of [
            [400, "Throttling", "rate-limited", /^AWS STS is throttling/],
            [429, "Throttling", "rate-limited", /^AWS STS is throttling/],
            [500, "InternalFailure", "server", /^AWS STS kept returning server errors/],
        ] as const) {
            for (let i = 0; i < 3; i++) sts.addRewrite(() => ({ status, body: error(code, status >= 500 ? "Receiver" : "Sender") }));
            await assert.rejects(getCallerIdentity(c, conn(), new Deadline(20_000)), (e: unknown) => {
                assert.ok(e instanceof ServiceError && e.kind === kind, `${status} ${code}: ${String(e)}`);
                assert.match(e.message, new RegExp(`^calling STS GetCallerIdentity: HTTP ${status} ${code} \\(after retries\\)$`));
                assert.match(e.hint ?? "", hint);
                assert.doesNotMatch(e.hint ?? "", /Pulumi Cloud/);
                return true;
            });
        }
        // An error the SDK does not retry: no "after retries".
        sts.addRewrite(() => ({ status: 400, body: error("ValidationError") }));
        await assert.rejects(getCallerIdentity(c, conn(), new Deadline(5000)), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "http", String(e));
            assert.equal(e.message, "calling STS GetCallerIdentity: HTTP 400 ValidationError");
            return true;
        });
    });

    it("parses role and assumed-role ARNs", () => {
        assert.deepEqual(parseAssumedRoleArn("arn:aws:sts::123456789012:assumed-role/r/s@x"), { partition: "aws", account: "123456789012", roleName: "r", session: "s@x" });
        assert.equal(parseAssumedRoleArn("arn:aws:iam::123456789012:user/ci"), undefined);
        // Role and session names are IAM's characters: [\w+=,.@-], at most 64.
        assert.equal(parseAssumedRoleArn("arn:aws:sts::123456789012:assumed-role/r/s\u001b[31m"), undefined);
        assert.equal(parseAssumedRoleArn("arn:aws:sts::123456789012:assumed-role/r<b>/s"), undefined);
        assert.equal(parseAssumedRoleArn(`arn:aws:sts::123456789012:assumed-role/r/${"s".repeat(65)}`), undefined);
        assert.deepEqual(parseRoleArn("arn:aws-us-gov:iam::123456789012:role/a/b/name"), { partition: "aws-us-gov", account: "123456789012", path: "/a/b/", roleName: "name" });
        assert.equal(parseRoleArn("arn:aws:iam::123:role/x"), undefined);
        assert.equal(parseRoleArn("esc-deploy"), undefined);
    });
});

describe("STS GetCallerIdentity against an endpoint that never answers", () => {
    let server: Server;
    let url: string;
    before(async () => {
        // Reads the request, then never answers.
        server = createServer((req) => req.resume());
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("ends at the request timeout (not the overall deadline) as could not verify, and the SDK writes nothing to stderr", async (t) => {
        // Everything written to stderr or through console while the call runs (restored when the test ends).
        const written: string[] = [];
        t.mock.method(process.stderr, "write", (chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
        for (const level of ["warn", "error", "info", "log", "debug"] as const) {
            t.mock.method(console, level, (...args: unknown[]) => void written.push(args.map(String).join(" ")));
        }
        const creds = { accessKeyId: UNISSUED_KEY_ID, secretAccessKey: "s".repeat(40), sessionToken: "t".repeat(100) };
        await assert.rejects(getCallerIdentity(creds, { region: "eu-west-1", endpoint: url }, new Deadline(5000), 300), (e: unknown) => {
            assert.ok(e instanceof ServiceError && e.kind === "timeout", String(e));
            assert.match(e.message, /^calling STS GetCallerIdentity: no response from 127\.0\.0\.1:\d+ in time \(0\.3 s\)$/);
            assert.match(e.hint ?? "", /AWS_ENDPOINT_URL_STS/);
            return true;
        });
        // A timer the SDK left would write its warning later: give it the time to.
        await new Promise((r) => setTimeout(r, 400));
        assert.deepEqual(written.filter((w) => /smithy|aws-sdk|requestTimeout/i.test(w)), []);
    });
});
