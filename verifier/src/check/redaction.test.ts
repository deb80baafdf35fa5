/**
 * `check`'s own outputs (text, the default, and JSON) hold nothing credential-shaped, like the located reports: a role
 * name, a URN, a file name or an environment name that holds an access key id, a secret key or a token is shown
 * redacted, whether its role is written in full or from its kind's pieces (prerender.ts), on one thread or two.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli } from "../testing/cli.js";

// Planted values are assembled at run time so that no credential-shaped literal sits in the repository.
const keyId = `AKIA${"Q7XK2M9P4R8T6W3Z"}`;
const secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "8HqV2sLw0a";
const token = `pul-${"0123456789abcdef".repeat(2)}01234567`;
const PLANTED = [keyId, secretKey, token];

function policy(sub: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: "arn:aws:iam::123456789012:oidc-provider/api.pulumi.com/oidc" },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { "api.pulumi.com/oidc:aud": "aws:acme" }, StringLike: { "api.pulumi.com/oidc:sub": sub } },
            },
        ],
    });
}

/** A stack of `n` roles of one kind (one environment each, every fifth open to every project: a failure), some names planted. */
function stack(n: number): string {
    const resources = [];
    for (let i = 0; i < n; i++) {
        const planted = i % 97 === 5 ? `deploy_${keyId}` : i % 97 === 6 ? `r-${secretKey}` : i % 97 === 7 ? `t${token}` : `role-${i}`;
        const env = i % 89 === 3 ? `infra/${keyId}` : `infra/env-${i}`;
        const sub = i % 5 === 0 ? "pulumi:environments:org:acme:env:*" : `pulumi:environments:org:acme:env:${env}`;
        resources.push({ urn: `urn:pulumi:prod::p::aws:iam/role:Role::${planted}`, type: "aws:iam/role:Role", custom: true, inputs: { assumeRolePolicy: policy(sub) } });
    }
    return JSON.stringify({ version: 3, deployment: { resources } });
}

describe("check's text and JSON outputs redact credential-shaped values", () => {
    let tmp: string;
    before(() => {
        tmp = mkdtempSync(join(tmpdir(), "oidc-guard-redaction-"));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    for (const [roles, threads] of [[300, "1"], [30_000, "2"]] as const) {
        it(`${roles} roles of one kind, ${threads} thread(s): the planted names redacted, every role still there`, async () => {
            const file = join(tmp, `stack-${roles}-${keyId}.json`);
            writeFileSync(file, stack(roles));
            for (const format of ["text", "json"]) {
                const { code, out, err } = await runCli(["check", file, "--org", "acme", "--format", format, "--threads", threads], tmp);
                assert.equal(code, 1, err);
                for (const p of PLANTED) assert.ok(!out.includes(p) && !err.includes(p), `${format}: ${p.slice(0, 4)}… shown`);
                assert.ok(out.includes(`deploy_AKIA…[redacted, 20 chars]`), format);
                assert.ok(out.includes("[redacted, 40 chars]"), format);
                if (format === "json") {
                    // A passing role's subjects are in the JSON report alone (the text shows a pass as one row).
                    assert.ok(out.includes(`infra/AKIA…[redacted, 20 chars]`), format);
                    const report = JSON.parse(out) as { results: { target: { file: string; resource?: { name: string } } }[] };
                    assert.equal(report.results.length, roles);
                    assert.ok(report.results.every((r) => r.target.file.endsWith("-AKIA…[redacted, 20 chars].json")));
                    assert.equal(report.results.filter((r) => r.target.resource?.name.startsWith("role-")).length, roles - 3 * Math.ceil((roles - 5) / 97));
                }
            }
        });
    }

    it("a file that is not JSON, named by a credential-shaped path: redacted in the result and on stderr", async () => {
        const file = join(tmp, `bad-${keyId}.json`);
        writeFileSync(file, "{bad");
        const out = join(tmp, "out.json");
        const r = await runCli(["check", file, "--org", "acme", "--format", "json", "--output", out], tmp);
        assert.equal(r.code, 2);
        const text = `${readFileSync(out, "utf8")}${r.err}`;
        assert.ok(!text.includes(keyId), text);
        assert.match(text, /bad-AKIA…\[redacted, 20 chars\]\.json/);
    });
});
