import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { analyzeCredentials, findAwsLogins, valueAt } from "./credentials.js";
import type { EscEnvironment } from "./esc-types.js";
import { FIXTURE_CREDENTIALS, STATIC_KEY_ID } from "../../../fixtures/esc/credentials.js";
import { generator, mutate, mutationSeed, type Json } from "oidc-guard-policypack/testing/mutate";

const dir = join(__dirname, "..", "..", "..", "fixtures", "esc");
const load = (name: string): EscEnvironment => JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as EscEnvironment;
const NOW = Date.UTC(2026, 0, 1, 0, 10, 0);
const OPTS = { now: NOW, maxLifetimeMs: 3_600_000, lifetimeSource: "--duration 1h" };
const FAKE_SECRETS = [FIXTURE_CREDENTIALS.secretAccessKey, FIXTURE_CREDENTIALS.sessionToken, "otherSecretValueEXAMPLEEXAMPLEEXAMPLE00"];

function statuses(name: string, opts = OPTS): Record<string, string> {
    const a = analyzeCredentials(load(name), opts);
    // No detail ever carries a secret or a full key id.
    for (const c of a.checks) {
        for (const s of [...FAKE_SECRETS, FIXTURE_CREDENTIALS.accessKeyId, STATIC_KEY_ID]) assert.ok(!c.detail.includes(s), `${name}: ${c.id} shows a credential`);
    }
    return Object.fromEntries(a.checks.map((c) => [c.id, c.status]));
}

describe("credential checks on opened environments (fixtures/esc)", () => {
    it("temporary-creds: every check passes; the credentials to try come from environmentVariables", () => {
        assert.deepEqual(statuses("temporary-creds"), {
            "credentials-present": "pass",
            "credentials-agree": "pass",
            "credentials-temporary": "pass",
            "credentials-secret": "pass",
            "credentials-expiry": "skip",
        });
        const a = analyzeCredentials(load("temporary-creds"), OPTS);
        assert.equal(a.credentials?.accessKeyId, FIXTURE_CREDENTIALS.accessKeyId);
        assert.ok(a.credentials?.sessionToken);
        assert.equal(a.accessKeyIdShort, "ASIA…MPLE");
        assert.deepEqual(a.logins, [{ path: ["aws", "login"], mode: "oidc", roleArn: "arn:aws:iam::123456789012:role/esc-deploy", duration: "1h" }]);
        assert.ok(a.secrets.includes(FAKE_SECRETS[0] as string));
    });

    it("missing-session-token: temporary key without its token fails, and the two places disagree", () => {
        const s = statuses("missing-session-token");
        assert.equal(s["credentials-temporary"], "fail");
        assert.equal(s["credentials-agree"], "fail");
        const a = analyzeCredentials(load("missing-session-token"), OPTS);
        assert.match(a.checks.find((c) => c.id === "credentials-agree")?.detail ?? "", /disagree on AWS_SESSION_TOKEN\/sessionToken/);
    });

    it("static-keys: a long-lived AKIA key is not temporary", () => {
        const s = statuses("static-keys");
        assert.equal(s["credentials-temporary"], "fail");
        assert.equal(s["credentials-secret"], "pass");
        const a = analyzeCredentials(load("static-keys"), OPTS);
        assert.match(a.checks.find((c) => c.id === "credentials-temporary")?.detail ?? "", /long-lived IAM user access key \(AKIA…MPLE\)/);
        assert.deepEqual(a.logins.map((l) => l.mode), ["static"]);
    });

    it("not-secret: a session token pasted as plain text is not flagged secret", () => {
        const a = analyzeCredentials(load("not-secret"), OPTS);
        const c = a.checks.find((x) => x.id === "credentials-secret");
        assert.equal(c?.status, "fail");
        assert.match(c?.detail ?? "", /not flagged secret: environmentVariables\.AWS_SESSION_TOKEN;/);
    });

    it("disagree: the variables hold other credentials than aws-login", () => {
        const a = analyzeCredentials(load("disagree"), OPTS);
        assert.match(a.checks.find((c) => c.id === "credentials-agree")?.detail ?? "", /disagree on AWS_ACCESS_KEY_ID\/accessKeyId, AWS_SECRET_ACCESS_KEY\/secretAccessKey/);
    });

    it("imported-login: no aws-login expr here, the output is found by its shape", () => {
        const a = analyzeCredentials(load("imported-login"), OPTS);
        assert.deepEqual(findAwsLogins(load("imported-login")), []);
        assert.equal(a.checks.find((c) => c.id === "credentials-present")?.status, "pass");
        assert.equal(a.checks.find((c) => c.id === "credentials-agree")?.status, "pass");
    });

    it("unknown-values: unknown is reported as unknown, never passed", () => {
        const a = analyzeCredentials(load("unknown-values"), OPTS);
        const present = a.checks.find((c) => c.id === "credentials-present");
        assert.equal(present?.status, "fail");
        assert.match(present?.detail ?? "", /aws\.login\.accessKeyId is unknown/);
        assert.match(present?.detail ?? "", /environmentVariables\.AWS_SECRET_ACCESS_KEY is unknown/);
        assert.equal(a.credentials, undefined);
    });

    it("with-expiration: in the future and within the requested duration passes; past or too far fails", () => {
        assert.equal(statuses("with-expiration")["credentials-expiry"], "pass");
        assert.equal(statuses("with-expiration", { ...OPTS, now: Date.UTC(2026, 0, 1, 2) })["credentials-expiry"], "fail");
        const tooFar = analyzeCredentials(load("with-expiration"), { ...OPTS, maxLifetimeMs: 15 * 60_000, lifetimeSource: "--duration 15m" });
        assert.match(tooFar.checks.find((c) => c.id === "credentials-expiry")?.detail ?? "", /is 50m away, beyond the requested 15m \(--duration 15m\)$/);
    });

    it("no-aws: no credentials anywhere fails 'present' and skips the rest", () => {
        assert.deepEqual(statuses("no-aws"), {
            "credentials-present": "fail",
            "credentials-agree": "skip",
            "credentials-temporary": "skip",
            "credentials-secret": "skip",
            "credentials-expiry": "skip",
        });
    });

    it("reads properties, not the lossy values tree: a key named 'value' survives", () => {
        const env: EscEnvironment = { properties: { a: { value: { value: { value: "x", trace: {} } }, trace: {} } } };
        assert.equal(valueAt(env.properties, ["a", "value"])?.value, "x");
    });

    it("resolves a roleArn given as a reference through properties", () => {
        const env: EscEnvironment = {
            exprs: {
                aws: {
                    object: {
                        login: {
                            builtin: {
                                name: "fn::open::aws-login",
                                arg: { object: { oidc: { object: { roleArn: { symbol: [{ key: "roles" }, { key: "deploy" }] }, duration: { literal: "30m" } } } } },
                            },
                        },
                    },
                },
            },
            properties: { roles: { value: { deploy: { value: "arn:aws:iam::123456789012:role/x", trace: {} } }, trace: {} } },
        };
        assert.deepEqual(findAwsLogins(env), [{ path: ["aws", "login"], mode: "oidc", roleArn: "arn:aws:iam::123456789012:role/x", duration: "30m" }]);
    });

    it("malformed credentials (newline, escape sequence) never pass: refused by shape, not quoted, still registered for redaction", () => {
        const env = load("temporary-creds");
        const badToken = `${FIXTURE_CREDENTIALS.sessionToken}\n::add-mask::x`;
        const badKey = `ASIA\u001b]8;;http://evil\u0007EXAMPLE`;
        const vars = (env.properties!.environmentVariables!.value as Record<string, { value: unknown }>);
        const login = ((env.properties!.aws!.value as Record<string, { value: unknown }>).login!.value as Record<string, { value: unknown }>);
        vars.AWS_SESSION_TOKEN!.value = badToken;
        login.sessionToken!.value = badToken;
        let a = analyzeCredentials(env, OPTS);
        const byId = Object.fromEntries(a.checks.map((c) => [c.id, c]));
        assert.equal(byId["credentials-present"]!.status, "fail");
        assert.match(byId["credentials-present"]!.detail, /AWS_SESSION_TOKEN is not a valid session token: it contains a control character \(U\+000A\)/);
        assert.equal(byId["credentials-temporary"]!.status, "fail");
        assert.ok(!JSON.stringify(a.checks).includes("add-mask"));
        assert.ok(a.secrets.includes(badToken));
        assert.equal(a.credentials?.sessionToken, undefined, "a malformed token is never sent");

        vars.AWS_ACCESS_KEY_ID!.value = badKey;
        login.accessKeyId!.value = badKey;
        a = analyzeCredentials(env, OPTS);
        assert.equal(a.credentials, undefined, "no STS call with a malformed key id");
        assert.match(a.checks.find((c) => c.id === "credentials-present")!.detail, /not a valid access key id: it contains a control character \(U\+001B\)/);
        assert.ok(!JSON.stringify(a.checks).includes("evil"));
    });
});

describe("credential checks on mutated ESC responses (fixtures/esc, seeded)", () => {
    it("never throw, never show a credential, and send STS only well-formed credentials the redactor knows", () => {
        const random = generator(mutationSeed());
        const names = readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length)).sort();
        assert.ok(names.length >= 8, `only ${names.length} ESC fixtures`);
        const shown = [...FAKE_SECRETS, FIXTURE_CREDENTIALS.accessKeyId, STATIC_KEY_ID].flatMap((c) => [c, c.toUpperCase()]);
        let tried = 0;
        for (const name of names) {
            for (let i = 0; i < 40; i++) {
                // Half the cases mutate only the values (`properties`), where the credentials are; the rest anywhere.
                const opened = load(name) as unknown as { [key: string]: Json };
                const env = (random() < 0.5 && opened["properties"] ? { ...opened, properties: mutate(opened["properties"], random) } : mutate(opened, random)) as unknown as EscEnvironment;
                const what = `${name}, case ${i}: ${JSON.stringify(env).slice(0, 200)}`;
                const a = analyzeCredentials(env, OPTS);
                const text = JSON.stringify(a.checks);
                for (const c of shown) assert.ok(!text.includes(c), `${what}: a check shows a credential`);
                if (a.credentials === undefined) continue;
                tried++;
                const { accessKeyId, secretAccessKey, sessionToken } = a.credentials;
                assert.match(accessKeyId, /^[A-Z0-9]{16,128}$/, what);
                assert.match(secretAccessKey, /^[A-Za-z0-9+/=]{16,128}$/, what);
                assert.ok(a.secrets.includes(secretAccessKey), `${what}: the secret key is not registered for redaction`);
                if (sessionToken !== undefined) {
                    assert.match(sessionToken, /^[A-Za-z0-9+/=_-]{16,16384}$/, what);
                    assert.ok(a.secrets.includes(sessionToken), `${what}: the session token is not registered for redaction`);
                }
            }
        }
        assert.ok(tried > 0, "no mutated response yielded credentials to try");
    });
});
