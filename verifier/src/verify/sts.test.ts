import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { StsStandin } from "../testing/sts-standin.js";
import { Deadline } from "./deadline.js";
import { ServiceError } from "./errors.js";
import { getCallerIdentity, parseAssumedRoleArn, parseRoleArn } from "./sts.js";
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
