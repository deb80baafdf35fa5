import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../../fixtures/esc/credentials.js";
import { awsSdkErrorText, quietAwsSdkNodeWarning } from "./aws-sdk.js";

/** The error the real STS client raises for an answer of `status` and `body` from a loopback server. */
async function errorFor(status: number, body: string): Promise<unknown> {
    const server = createServer((_req, res) => {
        res.writeHead(status, { "content-type": "text/xml" });
        res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = new STSClient({
        region: "us-east-1",
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: STATIC_KEY_ID, secretAccessKey: FIXTURE_CREDENTIALS.secretAccessKey },
        maxAttempts: 1,
    });
    try {
        await client.send(new GetCallerIdentityCommand({}));
        return undefined;
    } catch (e) {
        return e;
    } finally {
        client.destroy();
        server.close();
    }
}

describe("AWS SDK errors in a user's words", () => {
    it("a body the SDK cannot parse is unreadable, with the parser's reason and without the SDK's advice", async () => {
        const cut = awsSdkErrorText(await errorFor(200, "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>x</Arn>"));
        assert.deepEqual(cut, { message: "XML parse error: missing closing tag </GetCallerIdentityResult>.", status: 200, unreadable: true });
        const deep = awsSdkErrorText(await errorFor(200, "<a>".repeat(100_000)));
        assert.deepEqual(deep, { message: "nested too deep to parse", status: 200, unreadable: true });
        assert.equal(awsSdkErrorText(await errorFor(500, "garbage")).unreadable, true);
    });

    it("a service's own error is read as it is", async () => {
        const refused = await errorFor(403, "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>");
        assert.deepEqual(awsSdkErrorText(refused), { message: "The security token included in the request is invalid.", status: 403, unreadable: false });
        assert.deepEqual(awsSdkErrorText(new Error("socket hang up")), { message: "socket hang up", status: undefined, unreadable: false });
        assert.deepEqual(awsSdkErrorText("text"), { message: "text", status: undefined, unreadable: false });
    });
    it("turns the SDK's Node version warning off unless the user set it", () => {
        const env: NodeJS.ProcessEnv = {};
        quietAwsSdkNodeWarning(env);
        assert.equal(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, "true");
        const set: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "false" };
        quietAwsSdkNodeWarning(set);
        assert.equal(set.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED, "false");
    });
});
