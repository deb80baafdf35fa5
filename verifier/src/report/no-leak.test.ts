import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CheckReport, VerifyReport } from "../results.js";
import { REPORT_FORMATS, renderReport } from "./index.js";
import { checkFiles, checkStack, sampleInput, verifyFailed } from "./testdata/load.js";

// Credentials planted where a careless producer could put them. Built at run time: no credential-shaped literal
// sits in the repository.
const accessKeyId = ["AS", "IA", "Z7Q4K2M9P3R8T6W1"].join("");
const userKeyId = ["AK", "IA", "Y2W4K6M8P1R3T5V7"].join("");
const secretAccessKey = ["n0Tr3aLlY", "/S3cReTkEy+ABCDEFGHIJ", "KLMNOPQR12"].join("");
const sessionToken = ["FwoGZXIvYXdzEB", "aQ1wE2rT3yU4iO5pP6aS7dF8gH9jK0lZ/xC+vB".repeat(10), "=="].join("");
const pulumiToken = ["pu", "l-", "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432"].join("");
const jwt = ["ey", "JhbGciOiJSUzI1NiIsImtpZCI6IjEifQ", ".eyJzdWIiOiJwdWx1bWk6ZW52aXJvbm1lbnRzIn0", ".U2lnbmF0dXJlU2lnbmF0dXJl"].join("");
const PLANTED = [accessKeyId, userKeyId, secretAccessKey, sessionToken, pulumiToken, jwt];

function leakyInput(): { checks: CheckReport[]; verifications: VerifyReport[]; sources: Map<string, string> } {
    const check = checkStack();
    const first = check.results[0]!;
    check.results[0] = {
        ...first,
        target: { ...first.target, resource: { ...first.target.resource!, name: `role-${accessKeyId}` } },
        notes: [`secret ${secretAccessKey}`, `token ${sessionToken}`],
    };
    const failing = check.results[1]!;
    failing.findings[0] = { ...failing.findings[0]!, message: `leaked ${pulumiToken} and ${jwt}`, remediation: `rotate ${userKeyId}` };
    const verify = verifyFailed();
    verify.checks[0] = { ...verify.checks[0]!, detail: `aws.login: {"accessKeyId":"${accessKeyId}","secretAccessKey":"${secretAccessKey}","sessionToken":"${sessionToken}"}` };
    verify.callerIdentity = { account: "123456789012", arn: `arn:aws:sts::123456789012:assumed-role/r/${accessKeyId}` };
    // The checked file itself holds a credential next to the statement that is quoted.
    const sources = sampleInput().sources as Map<string, string>;
    const files = checkFiles();
    const file = files.results[0]!.target.file;
    const text = sources.get(file) ?? "";
    assert.ok(text.includes('"Sid": "AnyAcmeEnvironment"'));
    sources.set(file, text.replace('"Sid": "AnyAcmeEnvironment"', `"Sid": "${userKeyId}"`));
    return { checks: [check, files], verifications: [verify], sources };
}

describe("no credential in any report", () => {
    for (const format of REPORT_FORMATS) {
        it(`${format}: planted access keys, secret keys, session tokens, Pulumi tokens and JWTs do not appear`, () => {
            const out = renderReport(format, leakyInput());
            for (const secret of PLANTED) {
                assert.ok(!out.includes(secret), `${format} leaks ${secret.slice(0, 4)}…`);
                // Not even a long piece of one (e.g. split by escaping).
                assert.ok(!out.includes(secret.slice(4, 20)), `${format} leaks part of ${secret.slice(0, 4)}…`);
            }
            assert.match(out, /ASIA…\[redacted, 20 chars\]/);
            assert.match(out, /\[redacted, \d+ chars\]/);
        });
    }

    it("the statement quoted from the checked file is redacted too", () => {
        const out = renderReport("markdown", leakyInput());
        assert.match(out, /"Sid": "AKIA…\[redacted, 20 chars\]"/);
    });
});
