import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { VerifyConfigError } from "./errors.js";
import { formatDuration, isEnvName, isOrgName, looksLikePulumiToken, parseEnvRef, parseGoDuration } from "./ref.js";

describe("parseEnvRef", () => {
    it("parses <org>/<project>/<env>", () => {
        assert.deepEqual(parseEnvRef("acme/platform/aws-prod"), { org: "acme", project: "platform", name: "aws-prod" });
        assert.deepEqual(parseEnvRef("a_b/p.q/e-1_x"), { org: "a_b", project: "p.q", name: "e-1_x" });
    });

    it("rejects other shapes with an error naming the input", () => {
        assert.throws(() => parseEnvRef("acme/prod", "--expect-denied"), (e: unknown) => e instanceof VerifyConfigError && /--expect-denied 'acme\/prod' is not of the form/.test(e.message) && /project/.test(e.hint ?? ""));
        assert.throws(() => parseEnvRef("acme/a/b/c"), /not of the form/);
        assert.throws(() => parseEnvRef("-acme/p/e"), /organization '-acme' is not a valid name/);
        assert.throws(() => parseEnvRef("acme/p q/e"), /project 'p q' is not a valid name/);
        assert.throws(() => parseEnvRef("acme/p/.."), /environment '\.\.' is not a valid name/);
        assert.throws(() => parseEnvRef("acme//e"), /project '' is not a valid name/);
    });

    it("checks names from a service (the environment list) by the same rules", () => {
        for (const ok of ["platform", "aws-prod", "p.q", "e_1", "a".repeat(100), "..x", "x.."]) assert.equal(isEnvName(ok), true, ok);
        for (const bad of ["", ".", "..", "a".repeat(101), "a/b", "x\u001b[31m", "x\n", "caf\u00e9", "a b"]) assert.equal(isEnvName(bad), false, JSON.stringify(bad));
        for (const ok of ["acme", "a", "a_b", "A-1"]) assert.equal(isOrgName(ok), true, ok);
        for (const bad of ["", "-acme", "acme-", "a.b", "a".repeat(41)]) assert.equal(isOrgName(bad), false, bad);
    });

    it("never echoes something that looks like a Pulumi token", () => {
        const token = `pul-${"ab12".repeat(10)}`;
        assert.ok(looksLikePulumiToken(token));
        assert.ok(!looksLikePulumiToken("acme/platform/prod"));
        assert.throws(
            () => parseEnvRef(token),
            (e: unknown) => e instanceof VerifyConfigError && !e.message.includes(token) && /looks like a Pulumi access token/.test(e.message),
        );
    });
});

describe("parseGoDuration", () => {
    it("parses Go durations to milliseconds", () => {
        assert.equal(parseGoDuration("1h"), 3_600_000);
        assert.equal(parseGoDuration("15m"), 900_000);
        assert.equal(parseGoDuration("1h30m"), 5_400_000);
        assert.equal(parseGoDuration("1.5h"), 5_400_000);
        assert.equal(parseGoDuration("300ms"), 300);
        assert.equal(parseGoDuration("2h45m10s"), 9_910_000);
        assert.equal(parseGoDuration("0"), 0);
    });
    it("rejects what Go rejects here (no unit, signs, garbage)", () => {
        for (const bad of ["", "1", "h", "1d", "-1h", "+1h", "1h ", "forever", "1hm"]) assert.equal(parseGoDuration(bad), undefined, bad);
    });
    it("formats durations compactly", () => {
        assert.equal(formatDuration(5_400_000), "1h30m");
        assert.equal(formatDuration(45_000), "45s");
        assert.equal(formatDuration(250), "250ms");
        assert.equal(formatDuration(3_600_000), "1h");
    });
});
