/** Response-size bounds on every HTTP call of `verify`: a hostile server streaming a huge body is refused early. */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { FIXTURE_CREDENTIALS, FIXTURE_PULUMI_TOKEN } from "../../../fixtures/esc/credentials.js";
import { Deadline } from "./deadline.js";
import { ServiceError } from "./errors.js";
import { EscClient } from "./esc.js";
import { getCallerIdentity } from "./sts.js";

/** Answers every request with 200 and an endless body; counts the bytes it managed to send. */
function endlessServer(contentType: string): Promise<{ server: Server; url: string; sent: () => number }> {
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const server = createServer((req, res) => {
        req.resume();
        res.writeHead(200, { "content-type": contentType });
        const pump = (): void => {
            while (!res.destroyed && sent < 512 * 1024 * 1024) {
                sent += chunk.length;
                if (!res.write(chunk)) {
                    res.once("drain", pump);
                    return;
                }
            }
            res.end();
        };
        pump();
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            resolve({ server, url: `http://127.0.0.1:${port}`, sent: () => sent });
        });
    });
}

describe("response bounds", () => {
    let esc: Awaited<ReturnType<typeof endlessServer>>;
    let sts: Awaited<ReturnType<typeof endlessServer>>;
    before(async () => {
        esc = await endlessServer("application/json");
        sts = await endlessServer("text/xml");
    });
    after(() => {
        esc.server.closeAllConnections();
        esc.server.close();
        sts.server.closeAllConnections();
        sts.server.close();
    });

    it("ESC: a body past the bound fails the request as a bad response, without retrying or buffering it all", async () => {
        const client = new EscClient({ basePath: `${esc.url}/api/esc`, token: FIXTURE_PULUMI_TOKEN }, { maxResponseBytes: 256 * 1024, requestTimeoutMs: 10_000 });
        await assert.rejects(
            client.open({ org: "acme", project: "p", name: "e" }, undefined, new Deadline(20_000)),
            (e: unknown) => e instanceof ServiceError && e.kind === "bad-response" && /the response is larger than 262144 bytes/.test(e.message),
        );
        assert.ok(esc.sent() < 64 * 1024 * 1024, `the server got to send ${esc.sent()} bytes`);
    });

    it("STS: a body past the bound fails the call as a bad response", async () => {
        await assert.rejects(
            getCallerIdentity(FIXTURE_CREDENTIALS, { region: "eu-west-1", endpoint: sts.url }, new Deadline(20_000), 10_000, 128 * 1024),
            (e: unknown) => e instanceof ServiceError && e.kind === "bad-response" && /larger than 131072 bytes/.test(e.message),
        );
        assert.ok(sts.sent() < 64 * 1024 * 1024, `the server got to send ${sts.sent()} bytes`);
    });
});
